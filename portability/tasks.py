"""Celery tasks: an id in, a service call, nothing else; each safe to run twice."""

from celery import shared_task
from django.conf import settings

from portability import exports, imports, undo

# Exports and imports can take minutes: their own limits, not the default five.
LIMITS = {"time_limit": settings.PORTABILITY_TIME_LIMIT_SECONDS,
          "soft_time_limit": settings.PORTABILITY_TIME_LIMIT_SECONDS - 30}  # fmt: skip


@shared_task(ignore_result=True, **LIMITS)
def run_export_task(export_id: str) -> None:
    exports.run_export(export_id)


@shared_task(ignore_result=True, **LIMITS)
def read_import_task(import_id: str) -> None:
    imports.read_import(import_id)


@shared_task(ignore_result=True, **LIMITS)
def create_import_task(import_id: str) -> None:
    imports.create_import(import_id)


@shared_task(ignore_result=True, **LIMITS)
def undo_import_task(import_id: str) -> None:
    undo.undo_import(import_id)


@shared_task(ignore_result=True)
def purge_portability_task() -> None:
    """Expired exports' files and unconfirmed imports' staged files; work whose worker was lost."""
    exports.purge_expired_exports()
    imports.resume_lost_imports()
    imports.purge_stale_imports()
