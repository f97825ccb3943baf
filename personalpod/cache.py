"""The cache table of seed 001, keyed by the user's `change_seq` as the version.

A write bumps `change_seq` in PostgreSQL, so every item under an older version is stale at
once without a delete; TTL removes it later, and readers check TTL themselves because
DynamoDB Local never expires items.
"""

from pynamodb.attributes import JSONAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from personalpod import dynamo


@dynamo.register
class CacheItem(Model):
    Meta = dynamo.table_meta("cache")

    pk = UnicodeAttribute(hash_key=True)  # CACHE#{cacheType}#{cacheKey}
    sk = UnicodeAttribute(range_key=True)  # VERSION#{version}
    value = JSONAttribute(null=True)
    expires_at = TTLAttribute()
