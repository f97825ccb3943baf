"""Publish the change feed into the sync queue: PostgreSQL's Change rows are the truth, the
queue items are derived, and a row is marked published only once its items are written.

Rows are taken in seq order with row locks (SKIP LOCKED), so two workers never publish the
same row; a worker publishes only the oldest unpublished rows of a user, so items appear
in feed order even with several workers. A worker that dies mid-batch leaves its rows
unpublished (its transaction rolls back) and the next run rewrites the same item keys.
"""

from __future__ import annotations

import itertools
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

    def __init__(self, user_id: uuid.UUID, seq: int) -> None:
        self.user_id = user_id
        self.seq = seq


@dataclass
class Batch:
    changes: list[Change]  # published, in (user, seq) order
    item_count: int
    taken: int  # rows locked, published or not
    behind: tuple[uuid.UUID, int] | None = None  # a user whose older rows another worker holds


def publish_changes(*, user_id: uuid.UUID | str | None = None) -> int:
    """Publish the unpublished changes of USER_ID, or of every user when it is None, oldest
    first; return how many.

    Without a user, a batch mixes users: under load one run writes the changes of many users
    in one BatchWriteItem, instead of one run (and one round trip) per user.
    """
    user = uuid.UUID(str(user_id)) if user_id is not None else None
    published = 0
    users: set[uuid.UUID] = set()
    while True:
        try:
            batch = _publish_batch(user)
        except _Behind as behind:
            _wait_for(behind.user_id, behind.seq)
            continue
        if batch is None:
            break
        published += len(batch.changes)
        users.update(change.user_id for change in batch.changes)
        if batch.changes:
            now = timezone.now()
            metrics.observe(
                "personalpod_sync_publish_latency_seconds",
                [max(0.0, (now - change.created_at).total_seconds()) for change in batch.changes],
                counter="personalpod_sync_published_changes_total",
            )
        if batch.behind is not None:
            _wait_for(*batch.behind)
            continue
        if batch.taken < settings.SYNC_PUBLISH_BATCH_SIZE:
            break  # all there was; a change committed since has a run of its own queued
    for owner_id in sorted(users):
        try:
            refresh_hot_caches(owner_id)
        except Exception:
            logger.warning("could not refresh the hot caches of user %s", owner_id, exc_info=True)
    return published


_TAKE = """
    SELECT c.* FROM entries_change c
    WHERE c.published_at IS NULL {one_user}
    ORDER BY c.user_id, c.seq
    LIMIT %s
    FOR UPDATE OF c SKIP LOCKED
"""


def _publish_batch(user_id: uuid.UUID | None) -> Batch | None:
    with transaction.atomic():
        one_user, params = ("AND c.user_id = %s", [user_id]) if user_id else ("", [])
        taken = list(Change.objects.raw(_TAKE.format(one_user=one_user), [*params, settings.SYNC_PUBLISH_BATCH_SIZE]))
        # Read after the rows above are ours, in a statement of its own: it sees every
        # publish committed meanwhile.
        oldest = _oldest_unpublished({change.user_id for change in taken} or set(params))
        if not taken:
            if user_id in oldest:  # all locked by others
                raise _Behind(user_id, oldest[user_id])
            return None
        # A user's rows go out only as a run of consecutive seqs from their oldest unpublished
        # one (a user's seqs have no gaps). Two workers locking at the same moment can each
        # skip a row the other just took (one gets 81, 83-91, the other 82, 92-100): rows past
        # such a hole, or after older rows another worker holds, would enter the queue out of
        # order, so they wait for that worker.
        changes: list[Change] = []
        behind = None
        for owner_id, group in itertools.groupby(taken, key=lambda change: change.user_id):
            rows = list(group)
            run = 0
            while run < len(rows) and rows[run].seq == oldest[owner_id] + run:
                run += 1
            changes += rows[:run]
            if run < len(rows):
                behind = behind or (owner_id, oldest[owner_id] + run)
        if not changes:
            raise _Behind(*behind)  # type: ignore[misc]
        owners = {change.user_id for change in changes}
        devices = list(Device.objects.filter(owner_id__in=owners))
        items = queue.items_for(changes, devices)
        try:
            queue.write(items)
        except PynamoDBException as exc:
            metrics.incr("personalpod_sync_publish_errors_total", reason="dynamodb")
            raise PublishFailed(f"sync queue unreachable: {exc}") from exc
        if settings.SYNC_PUBLISH_PAUSE_SECONDS:  # fault injection for tests: a window to kill the worker in
            time.sleep(settings.SYNC_PUBLISH_PAUSE_SECONDS)
        Change.objects.filter(id__in=[change.id for change in changes]).update(published_at=timezone.now())
    logger.info("published %d changes (%d queue items) of %d users", len(changes), len(items), len(owners))
    return Batch(changes, len(items), len(taken), behind)


def _oldest_unpublished(user_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Each user's oldest unpublished seq, locked or not."""
    unpublished = Change.objects.filter(user_id__in=user_ids, published_at__isnull=True)
    return dict(unpublished.values("user_id").annotate(oldest=Min("seq")).values_list("user_id", "oldest"))


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


def publish_everything() -> int:
    """Publish every user's unpublished changes (beat: Redis was down, a worker died, DynamoDB was away)."""
    try:
        return publish_changes()
    except Contended:
        logger.info("another worker is publishing; the next run goes on from there")
    except PublishFailed:
        logger.warning("could not publish; the next run tries again", exc_info=True)
    return 0
