from celery import shared_task

from entries.services import purge_trash, trash_expired_entries


@shared_task(ignore_result=True)
def trash_expired_entries_task() -> None:
    trash_expired_entries()


@shared_task(ignore_result=True)
def purge_trash_task() -> None:
    purge_trash()
