"""Versioned cache-aside on the cache table of seed 001, keyed by the user's `change_seq`.

A write bumps `change_seq` in PostgreSQL, so every item under an older version is stale at
once without a delete; TTL removes it later, and readers check TTL themselves because
DynamoDB Local never expires items. PostgreSQL stays the source of truth: when DynamoDB
is away the value is computed from it, the error is counted, and the request goes on.

A value is stored only when computing it took at least three times what a hit costs
(measured as hits happen, and never less than CACHE_MIN_COMPUTE_MS): below that a hit
saves too little to be worth an item (docs/benchmarks/mirror.md measures both). Every
stored item is also marked in Redis under its version, so a lookup that would miss costs
no DynamoDB round trip; the marker is a filter, not the cache: when Redis is away the
lookup goes to DynamoDB, and a marker whose item is gone is a miss.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache as redis_cache
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


def _redis_key(kind: str, user_id: Any, cache_type: str, key: str, version: int | None = None) -> str:
    return f"cache-{kind}:{cache_type}:{user_id}:{key}" + (f":{version}" if version is not None else "")


def _marked(user_id: Any, cache_type: str, key: str, version: int) -> bool:
    """False only when Redis says for certain that nothing was stored for this version."""
    try:
        return redis_cache.get(_redis_key("item", user_id, cache_type, key, version)) is not None
    except Exception:
        logger.debug("cache marker unreadable", exc_info=True)
        return True


class _HitCost:
    """A moving average of what a hit costs in this process, in ms (None until the first)."""

    def __init__(self) -> None:
        self.ms: float | None = None

    def add(self, ms: float) -> None:
        self.ms = ms if self.ms is None else 0.9 * self.ms + 0.1 * ms


hit_cost = _HitCost()


def worth_caching(cost_ms: float) -> bool:
    """A value is worth caching when a hit is at least 3x cheaper than computing it: at least
    CACHE_MIN_COMPUTE_MS, and at least three hits as they have cost here (0 caches all)."""
    floor = settings.CACHE_MIN_COMPUTE_MS
    if floor <= 0:
        return True
    return bool(cost_ms >= max(floor, 3 * (hit_cost.ms or 0.0)))


def cached(user: Any, cache_type: str, key: str, compute: Callable[[], T]) -> T:
    """Return COMPUTE's (JSON-serialisable) value for USER, from the cache when it is current."""
    if _inside_uncommitted_write():
        return compute()
    started = time.perf_counter()
    # Read the version before computing: a value stored under a version never predates it.
    version = current_version(user.pk)
    if not dynamo.breaker.allows():
        metrics.incr(METRIC, cache_type=cache_type, outcome="error")
        return compute()
    if _marked(user.pk, cache_type, key, version):
        try:
            item = CacheItem.get(*item_key(user.pk, cache_type, key, version))
        except CacheItem.DoesNotExist:
            item = None
        except PynamoDBException:
            dynamo.breaker.failed()
            logger.warning("cache unreachable; computing %s from PostgreSQL", cache_type, exc_info=True)
            metrics.incr(METRIC, cache_type=cache_type, outcome="error")
            return compute()
        dynamo.breaker.succeeded()
        if item is not None and item.expires_at > timezone.now():
            hit_cost.add((time.perf_counter() - started) * 1000)
            metrics.incr(METRIC, cache_type=cache_type, outcome="hit")
            return item.value  # type: ignore[no-any-return]
    metrics.incr(METRIC, cache_type=cache_type, outcome="miss")
    return _compute_and_store(user.pk, cache_type, key, version, compute)


def _compute_and_store(user_id: Any, cache_type: str, key: str, version: int, compute: Callable[[], T]) -> T:
    started = time.perf_counter()
    value = compute()
    cost_ms = (time.perf_counter() - started) * 1000
    worth = worth_caching(cost_ms)
    _remember_worth(user_id, cache_type, worth)
    if worth:
        store(user_id, cache_type, key, version, value)
    return value


def _remember_worth(user_id: Any, cache_type: str, worth: bool) -> None:
    """Note whether this user's values of this type cost enough to cache, for the publisher's refresh."""
    name = _redis_key("worth", user_id, cache_type, "")
    try:
        if worth:
            redis_cache.set(name, 1, timeout=settings.CACHE_TTL_SECONDS)
        else:
            redis_cache.delete(name)
    except Exception:
        logger.debug("cache worth flag not written", exc_info=True)


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
    try:
        redis_cache.set(_redis_key("item", user_id, cache_type, key, version), 1, timeout=settings.CACHE_TTL_SECONDS)
    except Exception:
        logger.debug("cache marker not written", exc_info=True)
    return True


def refresh(user_id: Any, caches: Mapping[str, tuple[Callable[[], str], Callable[[], Any]]]) -> list[str]:
    """Store the values of CACHES ({cache type: (key, compute)}) for the user's current version,
    those that have been worth caching for this user (the publisher warms the cache after a
    write, with one Redis round trip for the rest); return the types it computed."""
    flags = {_redis_key("worth", user_id, cache_type, ""): cache_type for cache_type in caches}
    try:
        worth = [flags[name] for name in redis_cache.get_many(list(flags))]
    except Exception:  # noqa: BLE001 - Redis away: whether it is worth it is unknown; the next read computes
        return []
    if not worth or not dynamo.breaker.allows():
        return []
    version = current_version(user_id)
    for cache_type in worth:
        key, compute = caches[cache_type]
        _compute_and_store(user_id, cache_type, key(), version, compute)
    return worth
