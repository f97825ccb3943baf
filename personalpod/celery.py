import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personalpod.settings.local")

app = Celery("personalpod")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# personalpod is the project package as well as an app; its tasks live in personalpod/tasks.py.
app.autodiscover_tasks(["personalpod"])


@beat_init.connect
def _heartbeat_on_start(sender: Any, **kwargs: Any) -> None:
    # Report beat as alive as soon as it starts, not one interval later.
    sender.app.send_task("personalpod.tasks.heartbeat_task")


@worker_process_shutdown.connect
def _send_counts(**kwargs: Any) -> None:
    # Pool processes leave without running atexit hooks: send what metrics still hold.
    from personalpod import metrics

    metrics.flush()


def enqueue(task_name: str, *args: Any) -> None:
    """Send a task by name; if the broker is unreachable, run it here instead of failing.

    Called after a transaction commits: the change is already durable, and the work it
    triggers must not be lost because Redis is away.
    """
    import logging

    from kombu.exceptions import OperationalError

    if app.conf.task_always_eager:
        _task(task_name).apply(args=args, throw=True)
        return
    try:
        app.send_task(task_name, args=args, retry=False)
    except OperationalError:
        logging.getLogger(__name__).warning("broker unreachable: running %s in-process", task_name)
        _task(task_name).apply(args=args)


def _task(task_name: str) -> Any:
    if task_name not in app.tasks:
        app.loader.import_default_modules()  # outside a worker, tasks modules load on demand
    return app.tasks[task_name]
