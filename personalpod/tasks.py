from celery import shared_task

from personalpod.health import record_heartbeat


@shared_task(ignore_result=True)
def heartbeat_task() -> None:
    """Prove that beat schedules and a worker runs: /readyz reports the last beat."""
    record_heartbeat()
