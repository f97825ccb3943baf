"""The search index table of seed 001: cached search result pages, per user.

A cached page is served only while its `change_seq` equals the user's current one, so any
write makes every older page stale at once; TTL removes them later.
"""

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from personalpod import dynamo


class SearchTypeIndex(GlobalSecondaryIndex["SearchIndexItem"]):
    """GSI1: a user's cached searches of one type, by time."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)  # USER#{userId}#TYPE#{searchType}
    gsi1sk = UnicodeAttribute(range_key=True)  # TIMESTAMP#{iso timestamp}


@dynamo.register
class SearchIndexItem(Model):
    Meta = dynamo.table_meta("search_index")

    pk = UnicodeAttribute(hash_key=True)  # USER#{userId}
    sk = UnicodeAttribute(range_key=True)  # SEARCH#{searchType}#{searchTerm}
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    change_seq = NumberAttribute()
    results = JSONAttribute(null=True)
    expires_at = TTLAttribute()

    by_type = SearchTypeIndex()
