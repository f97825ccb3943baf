"""`make test`: the real PostgreSQL, Redis and DynamoDB Local, under per-run names."""

from personalpod import dbconfig
from personalpod.env import env
from personalpod.settings.base import *  # noqa: F403
from personalpod.settings.base import DATA_DIR

DEBUG = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DYNAMODB_ACCESS_KEY_ID = env.string("DYNAMODB_ACCESS_KEY_ID", "local")
DYNAMODB_SECRET_ACCESS_KEY = env.string("DYNAMODB_SECRET_ACCESS_KEY", "local")

# Argon2 is deliberately slow; tests that are about hashing ask for it explicitly.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each run (and its Celery worker, which inherits the prefix) stores files in its own folder.
_run = "".join(c for c in env.string("CELERY_KEY_PREFIX", "") if c.isalnum() or c in "_-") or "default"
MEDIA_ROOT = DATA_DIR / "test-media" / _run
STORAGES = {
    **STORAGES,  # noqa: F405
    "filesystem": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(MEDIA_ROOT)}},
}
STORAGES["default"] = STORAGES[FILE_STORAGE]  # noqa: F405

# Small pools: a test run is one process (and one worker) on a server many runs share.
DATABASES = {"default": dbconfig.database(dbconfig.TEST)}

# Two test runs on one PostgreSQL server (e.g. two checkouts) each get their own database.
_test_database = env.string("TEST_DATABASE_NAME", "")
if _test_database:
    DATABASES["default"]["TEST"] = {"NAME": _test_database}

# Tests cache whatever they compute, however cheap; the threshold has its own tests (the
# benchmark sets the real one).
CACHE_MIN_COMPUTE_MS = env.number("CACHE_MIN_COMPUTE_MS", 0.0, minimum=0)

# Writes do not queue publish tasks in tests (eager mode still publishes in-process): a live
# test worker publishing while a transactional test's tables are flushed deadlocks the
# flush. The tests about publishing turn it on or publish explicitly.
SYNC_ENQUEUE_ON_COMMIT = env.boolean("SYNC_ENQUEUE_ON_COMMIT", False)
