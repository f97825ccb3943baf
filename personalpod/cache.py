"""Versioned cache-aside on the cache table of seed 001, keyed by the user's `change_seq`.

A write bumps `change_seq` in PostgreSQL, so every item under an older version is stale at
once without a delete; TTL removes it later, and readers check TTL themselves because
DynamoDB Local never expires items. PostgreSQL stays the source of truth: when DynamoDB
is away the value is computed from it, the error is counted, and the request goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django.utils import timezone
from pynamodb.attributes import JSONAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from personalpod import dynamo, metrics

logger = logging.getLogger(__name__)
T = TypeVar("T")
METRIC = "personalpod_cache_total"


@dynamo.register
class CacheItem(Model):
    Meta = dynamo.table_meta("cache")

    pk = UnicodeAttribute(hash_key=True)  # CACHE#{cacheType}#{cacheKey}
    sk = UnicodeAttribute(range_key=True)  # VERSION#{version}
    value = JSONAttribute(null=True)
    expires_at = TTLAttribute()


def item_key(user_id: Any, cache_type: str, key: str, version: int) -> tuple[str, str]:
    # The cache key starts with the user: versions are per user, so are the items.
    cache_key = f"{user_id}#{key}" if key else str(user_id)
    return f"CACHE#{cache_type}#{cache_key}", f"VERSION#{version}"


def current_version(user_id: Any) -> int:
    """The user's `change_seq` as committed now (one indexed query)."""
    from django.contrib.auth import get_user_model

    seq = get_user_model().objects.filter(pk=user_id).values_list("change_seq", flat=True).first()
    if seq is None:
        raise LookupError(f"no user {user_id}")
    return int(seq)


def _inside_uncommitted_write() -> bool:
    # A write in this transaction has taken a new change_seq that a rollback would hand to
    # a different change: nothing computed here may be stored under it. Every write
    # registers its publish hook on commit, so pending hooks mean a pending write.
    return connection.in_atomic_block and bool(connection.run_on_commit)


def cached(user: Any, cache_type: str, key: str, compute: Callable[[], T]) -> T:
    """Return COMPUTE's (JSON-serialisable) value for USER, from the cache when it is current."""
    if _inside_uncommitted_write():
        return compute()
    # Read the version before computing: a value stored under a version never predates it.
    version = current_version(user.pk)
    pk, sk = item_key(user.pk, cache_type, key, version)
    if not dynamo.breaker.allows():
        metrics.incr(METRIC, cache_type=cache_type, outcome="error")
        return compute()
    try:
        item = CacheItem.get(pk, sk)
    except CacheItem.DoesNotExist:
        item = None
    except PynamoDBException:
        dynamo.breaker.failed()
        logger.warning("cache unreachable; computing %s from PostgreSQL", cache_type, exc_info=True)
        metrics.incr(METRIC, cache_type=cache_type, outcome="error")
        return compute()
    dynamo.breaker.succeeded()
    if item is not None and item.expires_at > timezone.now():
        metrics.incr(METRIC, cache_type=cache_type, outcome="hit")
        return item.value  # type: ignore[no-any-return]
    metrics.incr(METRIC, cache_type=cache_type, outcome="miss")
    value = compute()
    store(user.pk, cache_type, key, version, value)
    return value


def store(user_id: Any, cache_type: str, key: str, version: int, value: Any) -> bool:
    """Put VALUE under VERSION with the cache TTL; False (and counted) if DynamoDB refused."""
    if not dynamo.breaker.allows():
        return False
    pk, sk = item_key(user_id, cache_type, key, version)
    expires_at = timezone.now() + timedelta(seconds=settings.CACHE_TTL_SECONDS)
    try:
        CacheItem(pk, sk, value=value, expires_at=expires_at).save()
    except PynamoDBException:
        dynamo.breaker.failed()
        logger.warning("cache unreachable; %s not stored", cache_type, exc_info=True)
        metrics.incr(METRIC, cache_type=cache_type, outcome="error")
        return False
    return True


def refresh(user_id: Any, cache_type: str, key: str, compute: Callable[[], T]) -> T:
    """Compute the value for the user's current version and store it (the publisher warms the cache)."""
    version = current_version(user_id)
    value = compute()
    store(user_id, cache_type, key, version, value)
    return value
