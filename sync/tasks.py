"""Celery tasks that mirror the change feed into DynamoDB: thin, safe to run twice."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from kombu.exceptions import OperationalError

from personalpod import metrics
from personalpod.dynamo import CircuitBreaker
from sync.publisher import Contended, PublishFailed, publish_changes, publish_everything

logger = logging.getLogger(__name__)


@shared_task(
    ignore_result=True,
    autoretry_for=(PublishFailed, Contended),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=settings.SYNC_PUBLISH_MAX_RETRIES,
)
def publish_changes_task(user_id: str) -> None:
    """Publish the changes of USER_ID's write, and with them every other user's pending ones:
    one run writes them all in mixed batches (sync.publisher). After the last retry, beat
    picks them up."""
    # From here on, a new write must queue another run: this one may not see it.
    _forget_queued()
    logger.debug("publishing after a write of user %s", user_id)
    publish_changes()


@shared_task(ignore_result=True)
def forget_old_pushed_operations_task() -> None:
    """Beat: drop the idempotency records of pushes older than SYNC_PUSH_MEMORY_DAYS."""
    from sync.push import forget_old_operations

    logger.info("forgot %d old pushed operations", forget_old_operations())


@shared_task(ignore_result=True)
def publish_unpublished_task() -> None:
    """Beat: publish whatever is still unpublished (Redis was down, a worker died, DynamoDB was away)."""
    publish_everything()


# Sending to a stopped Redis takes seconds to fail: after one failure, writes stop trying for
# a while and leave their rows to the beat task.
_broker_breaker = CircuitBreaker(pause_seconds=10.0)


def publish_after_commit(user_ids: Iterable[uuid.UUID]) -> None:
    """Queue a publish run for the users whose feed grew (entries.feed.committed_hooks).

    Never runs the publish here when the broker is away: the write has committed, and its
    rows wait for the beat task instead of holding up the request. One run at a time is
    queued, for all users: it publishes whatever is pending when it starts.
    """
    from personalpod.celery import app

    user_ids = sorted(user_ids)
    if app.conf.task_always_eager:
        for user_id in user_ids:
            try:
                publish_changes(user_id=user_id)
            except (PublishFailed, Contended):
                logger.warning("publishing user %s failed; beat will retry", user_id, exc_info=True)
        return
    if not user_ids or not settings.SYNC_ENQUEUE_ON_COMMIT:
        return  # SYNC_ENQUEUE_ON_COMMIT is off in tests only: see personalpod/settings/test.py
    if not _broker_breaker.allows():
        metrics.incr("personalpod_sync_enqueue_errors_total")
        return
    if not _mark_queued():
        return  # a run is queued and has not started: it will see these changes too
    try:
        app.send_task("sync.tasks.publish_changes_task", args=[str(user_ids[0])], retry=False)
    except OperationalError:
        _broker_breaker.failed()
        _forget_queued()
        metrics.incr("personalpod_sync_enqueue_errors_total")
        logger.warning("broker unreachable: the changes of users %s wait for the beat task", user_ids)
    else:
        _broker_breaker.succeeded()


_QUEUED_KEY = "sync:publish-queued"


def _mark_queued() -> bool:
    """Note that a publish run is queued; False if one already was.

    At 50 writes a second one queued run does the work of fifty. The note expires, so a run
    lost with its worker holds nothing up for long (and beat publishes meanwhile).
    """
    try:
        return bool(cache.add(_QUEUED_KEY, 1, timeout=settings.SYNC_PUBLISH_QUEUED_SECONDS))
    except Exception:  # noqa: BLE001 - Redis away: queue a run anyway
        return True


def _forget_queued() -> None:
    try:
        cache.delete(_QUEUED_KEY)
    except Exception:
        logger.debug("could not clear the queued-publish note", exc_info=True)
