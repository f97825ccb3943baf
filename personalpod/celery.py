import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personalpod.settings.local")

app = Celery("personalpod")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# personalpod is the project package as well as an app; its tasks live in personalpod/tasks.py.
app.autodiscover_tasks(["personalpod"])
