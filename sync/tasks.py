"""Celery tasks that mirror the change feed into DynamoDB: thin, safe to run twice."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from celery import shared_task
from django.conf import settings
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
    """Publish one user's unpublished changes; after the last retry, beat picks them up."""
    publish_changes(user_id=user_id)


@shared_task(ignore_result=True)
def publish_unpublished_task() -> None:
    """Beat: publish whatever is still unpublished (Redis was down, a worker died, DynamoDB was away)."""
    publish_everything()


# Sending to a stopped Redis takes seconds to fail: after one failure, writes stop trying for
# a while and leave their rows to the beat task.
_broker_breaker = CircuitBreaker(pause_seconds=10.0)


def publish_after_commit(user_ids: Iterable[uuid.UUID]) -> None:
    """Queue a publish for each user whose feed grew (entries.feed.committed_hooks).

    Never runs the publish here when the broker is away: the write has committed, and its
    rows wait for the beat task instead of holding up the request.
    """
    from personalpod.celery import app

    for user_id in sorted(user_ids):
        if app.conf.task_always_eager:
            try:
                publish_changes(user_id=user_id)
            except (PublishFailed, Contended):
                logger.warning("publishing user %s failed; beat will retry", user_id, exc_info=True)
            continue
        if not _broker_breaker.allows():
            metrics.incr("personalpod_sync_enqueue_errors_total")
            continue
        try:
            app.send_task("sync.tasks.publish_changes_task", args=[str(user_id)], retry=False)
        except OperationalError:
            _broker_breaker.failed()
            metrics.incr("personalpod_sync_enqueue_errors_total")
            logger.warning("broker unreachable: the changes of user %s wait for the beat task", user_id)
        else:
            _broker_breaker.succeeded()
