"""Delivery state of sync queue items: pending -> delivered, or failed after N attempts (the
dead-letter state of seed 004's queues), and back to pending when support retries them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from pynamodb.exceptions import UpdateError

from personalpod import metrics
from sync.dynamo import SyncQueueItem
from sync.models import Device
from sync.queue import Status
from sync.selectors import pending_items_through


def _conditional_update(item: SyncQueueItem, actions: list[object], condition: object) -> bool:
    """Apply ACTIONS if CONDITION holds; False when it did not (someone else moved the item)."""
    try:
        item.update(actions=actions, condition=condition)  # type: ignore[arg-type]
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def record_delivery_failure(item: SyncQueueItem, error: str) -> SyncQueueItem:
    """Count a failed delivery of ITEM; the Nth failure moves it to failed."""
    error = error[:500]
    counted = _conditional_update(
        item,
        [SyncQueueItem.attempts.add(1), SyncQueueItem.last_error.set(error)],
        SyncQueueItem.status == Status.PENDING,
    )
    if counted and item.attempts >= settings.SYNC_MAX_DELIVERY_ATTEMPTS:
        moved = _conditional_update(
            item,
            [SyncQueueItem.status.set(Status.FAILED)],
            (SyncQueueItem.status == Status.PENDING) & (SyncQueueItem.attempts >= settings.SYNC_MAX_DELIVERY_ATTEMPTS),
        )
        if moved:
            metrics.incr("personalpod_sync_failed_deliveries_total")
    return item


def acknowledge(device: Device, cursor: int, served: Sequence[SyncQueueItem] = ()) -> Device:
    """DEVICE has applied its changes up to CURSOR: those items are delivered, the cursor moves
    on. SERVED are the items this pull hands it; those it was handed before and has not moved
    past count a failed delivery each (the Nth moves an item to failed, as a queue's
    receive count would)."""
    previous = device.last_pulled_seq
    served_before = device.last_served_seq
    with transaction.atomic():
        Device.objects.filter(id=device.id).update(
            last_pulled_seq=Greatest(F("last_pulled_seq"), cursor),
            last_served_seq=Greatest(cursor, max((int(item.seq) for item in served), default=0)),
            last_seen_at=timezone.now(),
        )
        device.refresh_from_db(fields=["last_pulled_seq", "last_served_seq", "last_seen_at"])
    for item in pending_items_through(device, after_seq=previous, through_seq=cursor):
        _conditional_update(item, [SyncQueueItem.status.set(Status.DELIVERED)], SyncQueueItem.status == Status.PENDING)
    for item in served:
        if item.status == Status.PENDING and cursor < item.seq <= served_before:
            record_delivery_failure(item, f"handed out again: the device stayed at seq {cursor}")
    return device


def retry_failed(keys: Iterable[tuple[str, str]]) -> int:
    """Put failed items (by (pk, sk)) back to pending with a fresh attempt count; return how many moved."""
    moved = 0
    for pk, sk in keys:
        item = SyncQueueItem(pk, sk)
        if _conditional_update(
            item,
            [
                SyncQueueItem.status.set(Status.PENDING),
                SyncQueueItem.attempts.set(0),
                SyncQueueItem.last_error.remove(),
            ],
            SyncQueueItem.status == Status.FAILED,
        ):
            moved += 1
    return moved
