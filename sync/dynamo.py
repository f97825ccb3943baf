"""The sync queue table of seed 001: ordered change delivery to devices, with retry state."""

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from personalpod import dynamo


class StatusIndex(GlobalSecondaryIndex["SyncQueueItem"]):
    """Items by delivery status, oldest first: the failed (dead-letter) items, the backlog."""

    class Meta:
        index_name = "StatusIndex"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)  # pending | delivered | failed
    sk = UnicodeAttribute(range_key=True)


class DeviceSyncIndex(GlobalSecondaryIndex["SyncQueueItem"]):
    """One device's items in feed order: what a pull reads."""

    class Meta:
        index_name = "DeviceSyncIndex"
        projection = AllProjection()

    device_key = UnicodeAttribute(hash_key=True)  # DEVICE#{deviceId}
    sk = UnicodeAttribute(range_key=True)


@dynamo.register
class SyncQueueItem(Model):
    Meta = dynamo.table_meta("sync_queue")

    pk = UnicodeAttribute(hash_key=True)  # USER#{userId}
    sk = UnicodeAttribute(range_key=True)  # TIMESTAMP#{timestamp}#{syncId}
    device_key = UnicodeAttribute()
    status = UnicodeAttribute(default="pending")
    seq = NumberAttribute()
    entry_id = UnicodeAttribute(null=True)
    operation = UnicodeAttribute()
    entry_version = NumberAttribute(null=True)
    origin_device = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()

    by_status = StatusIndex()
    by_device = DeviceSyncIndex()
