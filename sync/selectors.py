"""Reads of the sync queue and the publish backlog."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from django.db.models import Count, Min
from django.utils import timezone
from pynamodb.exceptions import PynamoDBException

from accounts.models import User
from entries.models import Change
from personalpod import dynamo
from personalpod.metrics import Gauge
from sync import queue
from sync.dynamo import SyncQueueItem
from sync.models import Device
from sync.queue import Status


def published_through(user_id: uuid.UUID | str) -> int:
    """The highest seq up to which every change of the user has its queue items written.

    Rows are published oldest first, so everything below the oldest unpublished row is out.
    """
    # change_seq first: a change committed after this read is above it either way.
    seq = User.objects.filter(id=user_id).values_list("change_seq", flat=True).get()
    oldest = Change.objects.filter(user_id=user_id, published_at__isnull=True).aggregate(m=Min("seq"))["m"]
    return seq if oldest is None else min(seq, oldest - 1)


def _range_from(device: Device, after_seq: int) -> Any:
    """A sort-key lower bound for the items after AFTER_SEQ (the time that change entered the feed)."""
    if after_seq <= 0:
        return None
    created_at = (
        Change.objects.filter(user_id=device.owner_id, seq=after_seq).values_list("created_at", flat=True).first()
    )
    if created_at is None:
        return None
    stamp = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return SyncQueueItem.sk >= f"TIMESTAMP#{stamp}#"


def items_for_device(device: Device, *, after_seq: int, limit: int) -> list[SyncQueueItem]:
    """DEVICE's queue items after AFTER_SEQ in feed order, only as far as the feed is published
    (so a reader never sees a later change before an earlier one).

    Read from the table itself with a consistent read: a GSI may lag behind the items just written.
    """
    through = published_through(device.owner_id)
    condition = (
        (SyncQueueItem.device_key == queue.device_key(device.id))
        & (SyncQueueItem.seq > after_seq)
        & (SyncQueueItem.seq <= through)
    )
    return list(
        SyncQueueItem.query(
            queue.user_key(device.owner_id),
            range_key_condition=_range_from(device, after_seq),
            filter_condition=condition,
            consistent_read=True,
            limit=limit,
        )
    )


def pending_items_through(device: Device, *, after_seq: int, through_seq: int) -> Iterator[SyncQueueItem]:
    """DEVICE's still-pending items with AFTER_SEQ < seq <= THROUGH_SEQ."""
    return SyncQueueItem.by_device.query(
        queue.device_key(device.id),
        range_key_condition=_range_from(device, after_seq),
        filter_condition=(SyncQueueItem.status == Status.PENDING)
        & (SyncQueueItem.seq > after_seq)
        & (SyncQueueItem.seq <= through_seq),
    )


def failed_items(limit: int = 200) -> list[SyncQueueItem]:
    """Items in the dead-letter state, oldest first."""
    return list(SyncQueueItem.by_status.query(Status.FAILED, limit=limit))


def failed_item_count() -> int:
    return SyncQueueItem.by_status.count(Status.FAILED)


def backlog() -> tuple[int, float | None]:
    """(unpublished change rows, age in seconds of the oldest), from the partial index on unpublished rows."""
    row = Change.objects.filter(published_at__isnull=True).aggregate(count=Count("id"), oldest=Min("created_at"))
    age = (timezone.now() - row["oldest"]).total_seconds() if row["oldest"] else None
    return row["count"], age


def sync_gauges() -> Iterable[Gauge]:
    count, age = backlog()
    yield Gauge("personalpod_sync_backlog_changes", "Change rows not yet published into the sync queue.", [({}, count)])
    yield Gauge(
        "personalpod_sync_oldest_unpublished_age_seconds",
        "Age of the oldest unpublished change row (0 when there is none).",
        [({}, max(0.0, age or 0.0))],
    )
    if not dynamo.breaker.allows():
        return  # DynamoDB away: /readyz says so; the gauge is left out rather than wrong
    try:
        failed = failed_item_count()
    except PynamoDBException:
        dynamo.breaker.failed()
        return
    yield Gauge("personalpod_sync_failed_items", "Sync queue items in the failed (dead-letter) state.", [({}, failed)])
