"""Search result pages cached in the DynamoDB search index table (seed 001).

The sort key holds an HMAC of the normalised query and filters, never the words typed:
search terms can be as private as the entries. A page is served only while its
`change_seq` equals the reader's current one, so any write makes older pages stale at
once; TTL removes them later (readers check it: DynamoDB Local never expires items).
If DynamoDB is away, search goes on from PostgreSQL and only the error is counted.

A miss usually costs no round trip at all. Storing a page also records its `change_seq`
on the reader's row (`User.search_cache_seq`), which is read with the reader anyway: while
it is behind their `change_seq` (any write since, or no page stored yet), no stored page
can be current and the lookup stops there. Otherwise a miss costs no DynamoDB round trip,
and no PostgreSQL one: every page written is also marked in Redis under its term, with
its `change_seq` (a key with the same TTL). Only when a marker is found is the reader's
current `change_seq` read, and only a page marked with it is read from DynamoDB. The
search reads the `change_seq` itself, in its first statement. The marker is a filter, not
the cache: if Redis is unreachable the lookup goes to DynamoDB, and a marker whose item
is gone or older is just a miss. Both filters can only turn a hit into a miss (a reader
row or a marker read before a page was stored), never serve a page that is not current.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone
from pynamodb.exceptions import PynamoDBException

from accounts.models import User
from entries.dynamo import SearchIndexItem
from personalpod import dynamo, metrics
from personalpod.cache import current_version

logger = logging.getLogger(__name__)
SEARCH_TYPE = "fulltext"


# Moves on whenever a stored page's shape changes, so that no older page is served.
PAGE_FORMAT = 2


def search_term(user_id: Any, normalised: dict[str, Any]) -> str:
    message = f"{user_id}:{PAGE_FORMAT}:{json.dumps(normalised, sort_keys=True, default=str)}".encode()
    return hmac.new(settings.SEARCH_CACHE_SECRET.encode(), message, hashlib.sha256).hexdigest()


def _key(user_id: Any, term: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"SEARCH#{SEARCH_TYPE}#{term}"


def _marker(term: str) -> str:
    return f"search-page:{term}"


_UNKNOWN = -1  # Redis cannot say: ask DynamoDB


def _marked_seq(term: str) -> int | None:
    """The change_seq of the page last stored for TERM; None when Redis says for certain
    that there is none."""
    try:
        value = cache.get(_marker(term))
        return None if value is None else int(value)
    except Exception:  # Redis away, or a value that is not ours: let DynamoDB answer
        logger.debug("search cache marker unreadable", exc_info=True)
        return _UNKNOWN


def get(reader: User, query: dict[str, Any]) -> dict[str, Any] | None:
    """The page stored for QUERY (normalised words, page and filters), if it shows the
    reader's vault as it is now. READER is their row as this request read it."""
    if not dynamo.breaker.allows():
        metrics.incr("personalpod_search_cache_total", outcome="error")
        return None
    if reader.search_cache_seq != reader.change_seq:  # no page stored since their last write
        metrics.incr("personalpod_search_cache_total", outcome="miss")
        return None
    user_id = reader.id
    term = search_term(user_id, query)
    marked = _marked_seq(term)
    change_seq = None if marked is None else current_version(user_id)
    if change_seq is None or marked not in (change_seq, _UNKNOWN):
        metrics.incr("personalpod_search_cache_total", outcome="miss")
        return None
    try:
        item = SearchIndexItem.get(*_key(user_id, term))
    except SearchIndexItem.DoesNotExist:
        item = None
    except PynamoDBException:
        dynamo.breaker.failed()
        logger.warning("search cache unreachable; searching PostgreSQL", exc_info=True)
        metrics.incr("personalpod_search_cache_total", outcome="error")
        return None
    dynamo.breaker.succeeded()
    if item is None or item.change_seq != change_seq or item.expires_at <= timezone.now():
        metrics.incr("personalpod_search_cache_total", outcome="miss")
        return None
    metrics.incr("personalpod_search_cache_total", outcome="hit")
    return item.results  # type: ignore[no-any-return]


_writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="search-cache")
_pending: set[Future[None]] = set()


def put_later(reader: User, query: dict[str, Any], change_seq: int, page: dict[str, Any], cost_ms: float) -> None:
    """Cache a page after the answer has gone, and only if it was worth it: a page that
    PostgreSQL found in less than SEARCH_CACHE_MIN_MS costs about what a hit would.

    The reader's row learns the page's change_seq now, before the answer (one indexed
    UPDATE on a search that took SEARCH_CACHE_MIN_MS or more, none when the row already
    holds it, and never a wait): from the next request on, their lookups go on to the marker."""
    if cost_ms < settings.SEARCH_CACHE_MIN_MS or not dynamo.breaker.allows():
        return
    if reader.search_cache_seq < change_seq and not _record_page_seq(reader.id, change_seq):
        return  # a page its reader's row does not announce would never be read
    future = _writer.submit(put, reader.id, search_term(reader.id, query), change_seq, page)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


# A writer locks its owner's row (entries.feed.lock_owner) until it commits, and its write
# moves change_seq on, which makes this page stale anyway: skip the row rather than wait.
_RECORD_PAGE_SEQ = """
    UPDATE accounts_user SET search_cache_seq = GREATEST(search_cache_seq, %s)
    WHERE id = (SELECT id FROM accounts_user WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED)
"""


def _record_page_seq(user_id: Any, change_seq: int) -> bool:
    """Tell the reader's row that a page is stored under CHANGE_SEQ; False if it was not told
    (a write holds the row, or PostgreSQL failed: the search has its answer either way)."""
    try:
        with connection.cursor() as cursor:  # a search runs in no transaction: this is its own
            cursor.execute(_RECORD_PAGE_SEQ, [change_seq, user_id])
            return bool(cursor.rowcount == 1)
    except DatabaseError:
        logger.warning("search cache: the reader's row was not updated; page not cached", exc_info=True)
        return False


def flush() -> None:
    """Wait for cache writes under way (tests, and a worker shutting down)."""
    for future in list(_pending):
        future.result()


def put(user_id: Any, term: str, change_seq: int, page: dict[str, Any]) -> None:
    if not dynamo.breaker.allows():
        return
    now = timezone.now()
    pk, sk = _key(user_id, term)
    try:
        SearchIndexItem(
            pk,
            sk,
            gsi1pk=f"USER#{user_id}#TYPE#{SEARCH_TYPE}",
            gsi1sk=f"TIMESTAMP#{now.isoformat()}",
            change_seq=change_seq,
            results=page,
            expires_at=now + timedelta(seconds=settings.SEARCH_CACHE_TTL_SECONDS),
        ).save()
    except PynamoDBException:
        dynamo.breaker.failed()
        logger.warning("search cache unreachable; result not cached", exc_info=True)
        return
    try:
        cache.set(_marker(term), change_seq, timeout=settings.SEARCH_CACHE_TTL_SECONDS)
    except Exception:  # without its marker the page is read only while Redis is away
        logger.debug("search cache marker not written", exc_info=True)
