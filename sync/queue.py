"""Sync queue items (seed 001's table): one per change and target device, keyed so that a
retry rewrites the same item instead of adding another.

The sort key is `TIMESTAMP#{time the change entered the feed}#{seq:012}:{device id}`. The
time never goes backwards within a user's feed and the seq breaks ties, so the key order
is the feed's seq order; everything in the key comes from PostgreSQL, so a rebuild makes
the very same keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from django.conf import settings

from entries.models import Change
from sync.dynamo import SyncQueueItem
from sync.models import Device


class Status:
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def user_key(user_id: uuid.UUID | str) -> str:
    return f"USER#{user_id}"


def device_key(device_id: uuid.UUID | str) -> str:
    return f"DEVICE#{device_id}"


def sort_key(created_at: datetime, seq: int, device_id: uuid.UUID | str) -> str:
    # Fixed-width UTC time, so string order is time order.
    stamp = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"TIMESTAMP#{stamp}#{seq:012d}:{device_id}"


def targets(change: Change, devices: Iterable[Device]) -> list[Device]:
    """The devices that must hear about CHANGE: its user's, registered before it, except where it came from."""
    return [
        d
        for d in devices
        if d.owner_id == change.user_id and d.registered_seq < change.seq and d.id != change.origin_device
    ]


def item_for(change: Change, device: Device) -> SyncQueueItem:
    delivered = device.last_pulled_seq >= change.seq  # it has pulled past this already
    return SyncQueueItem(
        user_key(change.user_id),
        sort_key(change.created_at, change.seq, device.id),
        device_key=device_key(device.id),
        status=Status.DELIVERED if delivered else Status.PENDING,
        seq=change.seq,
        entry_id=str(change.entry_id),
        operation=change.operation,
        entry_version=change.entry_version,
        origin_device=str(change.origin_device) if change.origin_device else None,
        attempts=0,
        last_error=None,
        expires_at=change.created_at + timedelta(days=settings.SYNC_QUEUE_TTL_DAYS),
    )


def items_for(changes: Sequence[Change], devices: Sequence[Device]) -> list[SyncQueueItem]:
    return [item_for(change, device) for change in changes for device in targets(change, devices)]


def write(items: Sequence[SyncQueueItem]) -> None:
    """Put ITEMS with BatchWriteItem (25 a request). Keys are deterministic: writing an item
    again replaces it with the same content, so a retried publish never duplicates."""
    with SyncQueueItem.batch_write() as batch:
        for item in items:
            batch.save(item)
