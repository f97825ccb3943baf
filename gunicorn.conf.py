"""Gunicorn settings for `make run` and the container. All values come from the environment."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
keepalive = 5
# gunicorn's most (its default, 4094 bytes, is less than a 500-character search in a
# non-Latin script once URL-encoded: 9 bytes a character).
limit_request_line = 8190
# The application writes one line per request itself (personalpod.requests), with its id.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):  # type: ignore[no-untyped-def]
    host = os.environ.get("HOST", "127.0.0.1")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    server.log.info("PersonalPod is ready at http://%s:%s/", shown, os.environ.get("PORT", "8000"))


def on_starting(server):  # type: ignore[no-untyped-def]
    # Validate the configuration once, in the arbiter: a bad value is one line and exit 2,
    # not a traceback from every worker.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personalpod.settings.local")
    from personalpod.env import exit_on_config_error

    with exit_on_config_error():
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - loading the settings validates them
