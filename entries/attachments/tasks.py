"""Celery tasks for attachments: ids in, a service call, nothing else; safe to run twice."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task
from django.conf import settings

from entries.attachments import services


def retry_delay(retries: int) -> float:
    """Exponential backoff with jitter: about 1, 2, 4, 8... times the base, capped at an hour."""
    base = settings.ATTACHMENT_THUMBNAIL_BACKOFF_SECONDS * 2**retries
    return float(min(3600.0, base * random.uniform(0.75, 1.25)))  # noqa: S311 - jitter, not a secret


@shared_task(bind=True, ignore_result=True)
def make_thumbnail_task(self: Any, attachment_id: str) -> str:
    try:
        return services.make_thumbnail(attachment_id)
    except services.StorageUnavailable as error:
        if self.request.retries >= settings.ATTACHMENT_THUMBNAIL_RETRIES:
            return services.thumbnail_failed(attachment_id, str(error))
        raise self.retry(
            exc=error, countdown=retry_delay(self.request.retries), max_retries=settings.ATTACHMENT_THUMBNAIL_RETRIES
        ) from error


@shared_task(ignore_result=True)
def verify_attachments_task() -> dict[str, int]:
    return services.verify_sample()


@shared_task(ignore_result=True)
def remove_orphan_files_task() -> int:
    return services.remove_orphan_files()
