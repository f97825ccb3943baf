"""Publish the change feed into the sync queue: PostgreSQL's Change rows are the truth, the
queue items are derived, and a row is marked published only once its items are written.

Rows are taken in seq order with row locks (SKIP LOCKED), so two workers never publish the
same row; a worker publishes only the oldest unpublished rows of a user, so items appear
in feed order even with several workers. A worker that dies mid-batch leaves its rows
unpublished (its transaction rolls back) and the next run rewrites the same item keys.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Min
from django.utils import timezone
from pynamodb.exceptions import PynamoDBException

from entries.models import Change
from entries.overview import refresh_hot_caches
from personalpod import metrics
from sync import queue
from sync.models import Device

logger = logging.getLogger(__name__)


class PublishFailed(Exception):
    """DynamoDB refused the queue items: the rows stay unpublished for a retry."""


class Contended(Exception):
    """Another worker held this user's oldest unpublished rows for longer than the lock timeout."""


class _Behind(Exception):
    """Another worker holds older rows of this user: publishing later ones now would put
    them into the queue out of order."""

    def __init__(self, seq: int) -> None:
        self.seq = seq


@dataclass
class Batch:
    changes: list[Change]
    item_count: int


def publish_changes(*, user_id: uuid.UUID | str) -> int:
    """Publish all of the user's unpublished changes, oldest first; return how many."""
    user_id = uuid.UUID(str(user_id))
    published = 0
    while True:
        try:
            batch = _publish_batch(user_id)
        except _Behind as behind:
            _wait_for(user_id, behind.seq)
            continue
        if batch is None:
            break
        published += len(batch.changes)
        now = timezone.now()
        metrics.observe(
            "personalpod_sync_publish_latency_seconds",
            [max(0.0, (now - change.created_at).total_seconds()) for change in batch.changes],
            counter="personalpod_sync_published_changes_total",
        )
        if len(batch.changes) < settings.SYNC_PUBLISH_BATCH_SIZE:
            break  # all there was; a change committed since has a run of its own queued
    if published:
        try:
            refresh_hot_caches(user_id)
        except Exception:
            logger.warning("could not refresh the hot caches of user %s", user_id, exc_info=True)
    return published


_TAKE = """
    SELECT c.*, (SELECT min(o.seq) FROM entries_change o WHERE o.user_id = %s AND o.published_at IS NULL) AS oldest
    FROM entries_change c
    WHERE c.user_id = %s AND c.published_at IS NULL
    ORDER BY c.seq
    LIMIT %s
    FOR UPDATE OF c SKIP LOCKED
"""


def _publish_batch(user_id: uuid.UUID) -> Batch | None:
    with transaction.atomic():
        # The oldest unpublished row, locked or not, comes in the same statement.
        changes = list(Change.objects.raw(_TAKE, [user_id, user_id, settings.SYNC_PUBLISH_BATCH_SIZE]))
        if changes:
            oldest = changes[0].oldest  # type: ignore[attr-defined]
        else:  # all locked by others, or none at all
            unpublished = Change.objects.filter(user_id=user_id, published_at__isnull=True)
            oldest = unpublished.aggregate(oldest=Min("seq"))["oldest"]
        if oldest is None:
            return None
        if not changes or oldest < changes[0].seq:
            raise _Behind(oldest)
        devices = list(Device.objects.filter(owner_id=user_id, registered_seq__lt=changes[-1].seq))
        items = queue.items_for(changes, devices)
        try:
            queue.write(items)
        except PynamoDBException as exc:
            metrics.incr("personalpod_sync_publish_errors_total", reason="dynamodb")
            raise PublishFailed(f"sync queue unreachable: {exc}") from exc
        if settings.SYNC_PUBLISH_PAUSE_SECONDS:  # fault injection for tests: a window to kill the worker in
            time.sleep(settings.SYNC_PUBLISH_PAUSE_SECONDS)
        Change.objects.filter(id__in=[change.id for change in changes]).update(published_at=timezone.now())
    logger.info("published %d changes (%d queue items) of user %s", len(changes), len(items), user_id)
    return Batch(changes, len(items))


def _wait_for(user_id: uuid.UUID, seq: int) -> None:
    """Wait, holding no locks, until the worker that holds row SEQ commits or gives up."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = %s", [f"{settings.SYNC_PUBLISH_LOCK_TIMEOUT_SECONDS * 1000:.0f}ms"])
        try:
            with transaction.atomic():
                cursor.execute(
                    "SELECT 1 FROM entries_change WHERE user_id = %s AND seq = %s FOR UPDATE", [user_id, seq]
                )
        except OperationalError as exc:  # lock_timeout: that worker is stuck; let a later run try
            metrics.incr("personalpod_sync_publish_errors_total", reason="contended")
            raise Contended(f"changes of user {user_id} from seq {seq} are held by another worker") from exc


def users_with_unpublished_changes() -> list[uuid.UUID]:
    return list(
        Change.objects.filter(published_at__isnull=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )


def publish_everything() -> int:
    """Publish every user's unpublished changes (beat: Redis was down, a worker died, DynamoDB was away)."""
    total = 0
    for user_id in users_with_unpublished_changes():
        try:
            total += publish_changes(user_id=user_id)
        except Contended:
            logger.info("user %s is being published by another worker", user_id)
        except PublishFailed:
            logger.warning("could not publish user %s; the next run tries again", user_id, exc_info=True)
    return total
