from celery import shared_task

from sharing.services import record_expired_shares


@shared_task(ignore_result=True)
def record_expired_shares_task() -> None:
    record_expired_shares()
