"""Rebuild the derived DynamoDB data from PostgreSQL alone (`manage.py rebuild_dynamo`).

The sync queue is recreated as every device's undelivered changes (those after its cursor);
cache and search-cache items older than their user's change_seq, or past their TTL, are
dropped. Sessions cannot be rebuilt: losing them only means signing in again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import User
from entries.dynamo import SearchIndexItem
from entries.models import Change
from personalpod import dynamo
from personalpod.cache import CacheItem
from sync import queue
from sync.dynamo import SyncQueueItem
from sync.models import Device

logger = logging.getLogger(__name__)


@dataclass
class RebuildReport:
    tables_created: list[str] = field(default_factory=list)
    users: int = 0
    queue_items_written: int = 0
    queue_items_removed: int = 0
    cache_items_dropped: int = 0
    search_items_dropped: int = 0


def rebuild(user_ids: Iterable[uuid.UUID] | None = None) -> RebuildReport:
    """Rebuild for USER_IDS (every user when None); create any missing table first."""
    report = RebuildReport()
    report.tables_created = [name for name, outcome in dynamo.create_tables() if outcome.startswith("created")]
    versions = dict(
        User.objects.filter(**({"id__in": list(user_ids)} if user_ids is not None else {})).values_list(
            "id", "change_seq"
        )
    )
    for user_id in sorted(versions):
        written, removed = rebuild_sync_queue(user_id)
        report.queue_items_written += written
        report.queue_items_removed += removed
        report.search_items_dropped += _drop_stale_search_pages(user_id, versions[user_id])
        report.users += 1
    report.cache_items_dropped = _drop_stale_cache_items(versions, every_user=user_ids is None)
    return report


def _undelivered_changes(user_id: uuid.UUID, devices: list[Device], upto: int) -> Iterator[Change]:
    if not devices:
        return iter(())
    since = min(max(device.registered_seq, device.last_pulled_seq) for device in devices)
    changes = Change.objects.filter(user_id=user_id, seq__gt=since, seq__lte=upto)
    return changes.order_by("seq").iterator(chunk_size=2000)


def rebuild_sync_queue(user_id: uuid.UUID) -> tuple[int, int]:
    """Make the user's queue exactly their devices' undelivered changes; return (written, removed)."""
    # Changes after this are the publisher's: their items may be written while this runs.
    upto = User.objects.filter(id=user_id).values_list("change_seq", flat=True).get()
    devices = list(Device.objects.filter(owner_id=user_id))
    wanted: set[str] = set()
    batch: list[SyncQueueItem] = []
    written = 0
    for change in _undelivered_changes(user_id, devices, upto):
        for device in queue.targets(change, devices):
            if device.last_pulled_seq < change.seq:
                item = queue.item_for(change, device)
                wanted.add(item.sk)
                batch.append(item)
        if len(batch) >= 500:
            queue.write(batch)
            written, batch = written + len(batch), []
    queue.write(batch)
    written += len(batch)
    stale = [
        item
        for item in SyncQueueItem.query(queue.user_key(user_id), consistent_read=True)
        if item.seq <= upto and item.sk not in wanted
    ]
    with SyncQueueItem.batch_write() as deletes:
        for item in stale:
            deletes.delete(item)
    return written, len(stale)


def _drop_stale_search_pages(user_id: uuid.UUID, change_seq: int) -> int:
    now = timezone.now()
    stale = [
        item
        for item in SearchIndexItem.query(queue.user_key(user_id))
        if item.change_seq != change_seq or item.expires_at <= now
    ]
    with SearchIndexItem.batch_write() as deletes:
        for item in stale:
            deletes.delete(item)
    return len(stale)


def _drop_stale_cache_items(versions: dict[uuid.UUID, int], *, every_user: bool) -> int:
    """Scan the cache table (its keys start with the cache type, not the user) for items
    under an old version or past their TTL; items of users that no longer exist go too."""
    now = timezone.now()
    stale = []
    for item in CacheItem.scan():
        user_id = _cache_item_user(item.pk)
        if user_id is None or (user_id not in versions and not every_user):
            continue
        current = versions.get(user_id)
        if current is None or item.sk != f"VERSION#{current}" or item.expires_at <= now:
            stale.append(item)
    with CacheItem.batch_write() as deletes:
        for item in stale:
            deletes.delete(item)
    return len(stale)


def _cache_item_user(pk: str) -> uuid.UUID | None:
    # CACHE#{cacheType}#{userId}[#{key}]
    parts = pk.split("#")
    try:
        return uuid.UUID(parts[2])
    except (IndexError, ValueError):
        return None
