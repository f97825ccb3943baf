from celery import shared_task

# Celery finds tasks in each app's tasks module; the attachments' live in their own package.
from entries.attachments import tasks as attachment_tasks  # noqa: F401
from entries.services import purge_trash, trash_expired_entries


@shared_task(ignore_result=True)
def trash_expired_entries_task() -> None:
    trash_expired_entries()


@shared_task(ignore_result=True)
def purge_trash_task() -> None:
    purge_trash()
