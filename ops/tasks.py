"""Beat runs these: a backup every day, a verification every week (settings.CELERY_BEAT_SCHEDULE).

Not acknowledged late: a worker that dies mid-backup must not have Redis hand the same
hour-long dump to another worker; the next scheduled run writes the next one.
"""

from celery import shared_task
from django.conf import settings

from ops import backups
from ops.verification import verify_backup


@shared_task(
    ignore_result=True,
    acks_late=False,
    time_limit=settings.BACKUP_TIME_LIMIT_SECONDS,
    soft_time_limit=settings.BACKUP_TIME_LIMIT_SECONDS - 60,
)
def backup_database_task() -> None:
    backups.create_backup()


@shared_task(
    ignore_result=True,
    acks_late=False,
    time_limit=settings.BACKUP_TIME_LIMIT_SECONDS,
    soft_time_limit=settings.BACKUP_TIME_LIMIT_SECONDS - 60,
)
def verify_backup_task() -> None:
    # A failure is recorded (and shown at /metrics) by verify_backup itself, and logged loudly.
    verify_backup()
