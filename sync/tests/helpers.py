"""Helpers for the sync tests."""

from __future__ import annotations

from accounts.models import User
from entries.models import Change
from sync import queue
from sync.dynamo import SyncQueueItem


def queue_items(user: User) -> list[SyncQueueItem]:
    """The user's queue items in key order (the order a device reads them)."""
    return list(SyncQueueItem.query(queue.user_key(user.id), consistent_read=True))


def unpublished(user: User) -> list[int]:
    return list(
        Change.objects.filter(user=user, published_at__isnull=True).order_by("seq").values_list("seq", flat=True)
    )
