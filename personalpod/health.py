"""Liveness (/healthz) and readiness (/readyz).

Readiness checks every dependency at once, each in its own thread with its own timeout,
and answers within READYZ_TIMEOUT whatever state they are in: a load balancer must never
be left waiting on a dead Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

import redis
from celery import Celery
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from personalpod import dynamo
from personalpod.errors import error_response

HEARTBEAT_CACHE_KEY = "health:beat-heartbeat"

Check = Callable[[], dict[str, Any]]


def check_postgres() -> dict[str, Any]:
    # Seed 003's comprehensive check: connectivity, the user count, the server's version.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.execute(
                f"SELECT COUNT(*), NOW(), current_setting('server_version') FROM {_user_table()}"  # noqa: S608
            )
            user_count, _now, version = cursor.fetchone()
    finally:
        connection.close()  # this thread's connection goes back to the pool
    return {"version": version, "user_count": user_count}


def _user_table() -> str:
    from django.contrib.auth import get_user_model

    return connection.ops.quote_name(get_user_model()._meta.db_table)


def check_redis() -> dict[str, Any]:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.READYZ_CHECK_TIMEOUT,
        socket_timeout=settings.READYZ_CHECK_TIMEOUT,
    )
    try:
        client.ping()
    finally:
        client.close()
    return {}


def check_dynamodb() -> dict[str, Any]:
    client = dynamo.client(timeout=settings.READYZ_CHECK_TIMEOUT)
    tables = {}
    for model in dynamo.registered_tables():
        name = model.Meta.table_name
        try:
            status = client.describe_table(TableName=name)["Table"]["TableStatus"]
        except client.exceptions.ResourceNotFoundException:
            raise RuntimeError(f"table {name} does not exist (run manage.py create_dynamo_tables)") from None
        if status != "ACTIVE":
            raise RuntimeError(f"table {name} is {status}")
        tables[name] = status
    return {"tables": tables}


def celery_app() -> Celery:
    from personalpod.celery import app

    return app


def check_celery() -> dict[str, Any]:
    app = celery_app()
    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise RuntimeError("no broker: tasks run in-process (CELERY_TASK_ALWAYS_EAGER)")
    # limit=1: one live worker is enough, and waiting for more would take the whole timeout.
    replies = app.control.ping(timeout=settings.READYZ_CHECK_TIMEOUT, limit=1)
    if not replies:
        raise RuntimeError(f"no worker answered a ping within {settings.READYZ_CHECK_TIMEOUT:g}s")
    return {"worker": next(iter(replies[0])), "beat": beat_status()}


def record_heartbeat() -> None:
    cache.set(HEARTBEAT_CACHE_KEY, time.time(), timeout=None)


def beat_status() -> dict[str, Any]:
    """Report when the beat heartbeat last ran; informative, so it never fails readiness."""
    last = cache.get(HEARTBEAT_CACHE_KEY)
    if last is None:
        return {"status": "unknown", "last_run_at": None}
    age = time.time() - last
    stale = age > 3 * settings.HEARTBEAT_INTERVAL_SECONDS
    return {
        "status": "stale" if stale else "ok",
        "last_run_at": datetime.fromtimestamp(last, tz=UTC).isoformat(timespec="seconds"),
        "age_seconds": round(age, 1),
    }


CHECKS: dict[str, Check] = {
    "postgres": check_postgres,
    "redis": check_redis,
    "dynamodb": check_dynamodb,
    "celery": check_celery,
}


def _timed(check: Check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = {"status": "ok", **check()}
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; say which
        result = {"status": "error", "error": _describe(exc)}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _describe(exc: Exception) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}"[:300] if message else type(exc).__name__


def run_checks(checks: dict[str, Check] | None = None) -> dict[str, dict[str, Any]]:
    checks = checks or CHECKS
    executor = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="readyz")
    futures = {name: executor.submit(_timed, check) for name, check in checks.items()}
    wait(futures.values(), timeout=settings.READYZ_TIMEOUT)
    # Do not wait for a check that is stuck: its thread finishes (or times out) on its own.
    executor.shutdown(wait=False, cancel_futures=True)
    results = {}
    for name, future in futures.items():
        if future.done():
            results[name] = future.result()
        else:
            results[name] = {"status": "error", "error": f"timed out after {settings.READYZ_TIMEOUT:g}s"}
    return results


def healthz() -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz() -> JsonResponse:
    results = run_checks()
    failing = sorted(name for name, result in results.items() if result["status"] != "ok")
    body: dict[str, Any] = {"status": "unavailable" if failing else "ok", "checks": results}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)


_PROBES = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    """Answer the probes before Host validation and HTTPS redirects.

    Load balancers and container health checks call them by IP address, which is not in
    ALLOWED_HOSTS, and over plain HTTP inside the network.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = _PROBES.get(request.path)
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response: HttpResponse = error_response("method_not_allowed", f"Method {request.method} not allowed.", 405)
            response["Allow"] = "GET, HEAD"
        else:
            response = probe()
        add_never_cache_headers(response)
        return response
