"""Development: `make run`. Safe defaults for one machine; nothing here is for production."""

from personalpod.env import env
from personalpod.settings.base import *  # noqa: F403
from personalpod.settings.base import CELERY_TASK_ALWAYS_EAGER, DYNAMODB_ENDPOINT

# Off by default so that `make run` answers like production (the JSON error shape on every
# API error); DEBUG=1 brings back Django's debug pages for web views.
DEBUG = env.boolean("DEBUG", False)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# DynamoDB Local accepts any credentials, but botocore insists on having some.
if DYNAMODB_ENDPOINT:
    DYNAMODB_ACCESS_KEY_ID = env.string("DYNAMODB_ACCESS_KEY_ID", "local")
    DYNAMODB_SECRET_ACCESS_KEY = env.string("DYNAMODB_SECRET_ACCESS_KEY", "local")

# `make run` sets CELERY_TASK_ALWAYS_EAGER when Redis cannot be reached: tasks then run
# in-process and the cache lives in each process's memory, so the app still works.
if CELERY_TASK_ALWAYS_EAGER:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
