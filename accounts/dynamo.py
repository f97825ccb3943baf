"""The sessions table of seed 001: browser and device sessions, listable per user and per device."""

from pynamodb.attributes import JSONAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from personalpod import dynamo


class UserSessionsIndex(GlobalSecondaryIndex["SessionItem"]):
    class Meta:
        index_name = "UserSessionsIndex"
        projection = AllProjection()

    user_key = UnicodeAttribute(hash_key=True)  # USER#{userId}
    created_at = UTCDateTimeAttribute(range_key=True)


class DeviceSessionsIndex(GlobalSecondaryIndex["SessionItem"]):
    class Meta:
        index_name = "DeviceSessionsIndex"
        projection = AllProjection()

    device_key = UnicodeAttribute(hash_key=True)  # DEVICE#{deviceId}; absent for browser sessions
    created_at = UTCDateTimeAttribute(range_key=True)


@dynamo.register
class SessionItem(Model):
    Meta = dynamo.table_meta("sessions")

    pk = UnicodeAttribute(hash_key=True)  # SESSION#{sessionId}
    sk = UnicodeAttribute(range_key=True)  # USER#{userId}
    user_key = UnicodeAttribute(null=True)
    device_key = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(default="browser")  # browser | device
    device_name = UnicodeAttribute(null=True)
    platform = UnicodeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()

    user_sessions = UserSessionsIndex()
    device_sessions = DeviceSessionsIndex()
