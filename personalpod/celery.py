import os
from typing import Any

from celery import Celery
from celery.signals import beat_init

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
