"""Metrics shared by every process, shown at /metrics in the Prometheus text format.

Counters and histograms are kept in Redis hashes, so every web and worker process adds to
the same numbers. Gauges (queue lengths, the sync backlog, the database pool) are read when
/metrics is scraped, from collectors that the apps register. Counting must never fail or
slow a request: each process adds up its counts in memory and a background thread sends
them in one pipeline every METRICS_FLUSH_SECONDS (and before the process reads the numbers,
and at exit), so a request makes no Redis round trip for them; when Redis is away the
numbers are dropped for a while.
"""

from __future__ import annotations

import atexit
import functools
import hmac
import json
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from personalpod.dynamo import CircuitBreaker

logger = logging.getLogger(__name__)
_KEY = "metrics:counters"
_HISTOGRAM_KEY = "metrics:histograms"
# A Redis outage costs one failed call, then metrics are skipped for this long.
_redis_breaker = CircuitBreaker(pause_seconds=10.0)

HELP = {
    "personalpod_search_cache_total": "Search result cache lookups in DynamoDB, by outcome (hit, miss, error).",
    "personalpod_cache_total": "Cache-table lookups in DynamoDB, by cache type and outcome (hit, miss, error).",
    "personalpod_sync_published_changes_total": "Change rows published into the sync queue.",
    "personalpod_sync_publish_errors_total": "Publish runs that left rows unpublished, by reason.",
    "personalpod_sync_enqueue_errors_total": "Publish tasks that could not be queued after a commit (beat catches up).",
    "personalpod_sync_failed_deliveries_total": "Sync queue items moved to the failed (dead-letter) state.",
    "personalpod_attachment_events_total": "Attachment uploads, downloads and deletions, by backend.",
    "personalpod_attachment_rejections_total": "Uploads refused before storing anything, by reason.",
    "personalpod_attachment_thumbnails_total": "Attachment previews finished, by outcome (ready, none, failed).",
    "personalpod_attachment_integrity_total": (
        "Stored files re-hashed by the integrity check, by outcome (ok, mismatch, missing, error)."
    ),
    "personalpod_attachment_orphans_removed_total": "Stored files removed because no attachment referred to them.",
}

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
HISTOGRAMS: dict[str, tuple[str, tuple[float, ...]]] = {
    "personalpod_request_duration_seconds": ("Request latency, by method and route.", LATENCY_BUCKETS),
    "personalpod_sync_publish_latency_seconds": (
        "From a change's commit to its sync queue items being written.",
        (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
    ),
}


class Gauge(NamedTuple):
    name: str
    help: str
    samples: list[tuple[Mapping[str, str], float]]


# Each returns gauges read at scrape time; apps register theirs in AppConfig.ready().
collectors: list[Callable[[], Iterable[Gauge]]] = []


def _client() -> Any:
    # The cache's own client (one per process: personalpod.redis_cache).
    return cache._cache.get_client(write=True)  # type: ignore[attr-defined]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(str(value))}"' for key, value in labels.items()) + "}"


def _redis(call: Callable[[Any], Any], what: str) -> Any:
    if not _redis_breaker.allows():
        return None
    try:
        result = call(_client())
    except Exception:
        _redis_breaker.failed()
        logger.debug("metrics: %s skipped", what, exc_info=True)
        return None
    _redis_breaker.succeeded()
    return result


class _Pending:
    """Counts not yet in Redis, {(hash key, field, is a float): amount}, sent by a thread of this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.amounts: dict[tuple[str, str, bool], float] = defaultdict(float)
        self.owner_pid = 0

    def add(self, key: str, field: str, amount: float) -> None:
        if self.owner_pid != os.getpid():  # the first count in this process
            self._start_sender()
        with self.lock:
            self.amounts[(key, field, isinstance(amount, float))] += amount

    def _start_sender(self) -> None:
        with self.lock:
            if self.owner_pid == os.getpid():
                return
            self.owner_pid = os.getpid()
        threading.Thread(target=self._send_forever, name="metrics-sender", daemon=True).start()

    def discard(self) -> None:
        with self.lock:
            self.amounts = defaultdict(float)

    def forget_after_fork(self) -> None:
        """In a forked child (a Celery pool process): the parent's counts and lock are not its own."""
        self.lock = threading.Lock()
        self.amounts = defaultdict(float)
        self.owner_pid = 0

    def _send_forever(self) -> None:
        pause = threading.Event()  # never set: a timer that patching time.sleep cannot touch
        while True:
            pause.wait(settings.METRICS_FLUSH_SECONDS)
            self.send()

    def send(self) -> None:
        with self.lock:
            amounts, self.amounts = self.amounts, defaultdict(float)
        if not amounts:
            return

        def write(client: Any) -> None:
            pipe = client.pipeline(transaction=False)
            for (key, field, is_float), amount in amounts.items():
                if is_float:
                    pipe.hincrbyfloat(key, field, amount)
                else:
                    pipe.hincrby(key, field, int(amount))
            pipe.execute()

        _redis(write, f"{len(amounts)} counts")


_pending = _Pending()
atexit.register(_pending.send)
os.register_at_fork(after_in_child=_pending.forget_after_fork)


def flush() -> None:
    """Send this process's counts now (a process about to end)."""
    _pending.send()


def discard_pending() -> None:
    """Drop the counts this process has not sent yet (tests start each from zero)."""
    _pending.discard()


def incr(name: str, amount: int = 1, **labels: str) -> None:
    _pending.add(cache.make_key(_KEY), name + _labels(dict(sorted(labels.items()))), amount)


def counters() -> dict[str, int]:
    _pending.send()
    raw = _redis(lambda client: client.hgetall(cache.make_key(_KEY)), "reading counters") or {}
    return {key.decode(): int(value) for key, value in raw.items()}


def observe(name: str, values: Iterable[float], *, counter: str | None = None, **labels: str) -> None:
    """Add VALUES (seconds) to histogram NAME, and their number to COUNTER."""
    buckets = HISTOGRAMS[name][1]
    base = sorted(labels.items())
    key = cache.make_key(_HISTOGRAM_KEY)
    values = list(values)
    if counter:
        _pending.add(cache.make_key(_KEY), counter, len(values))
    for value in values:
        bucket = next((le for le in buckets if value <= le), None)
        if bucket is not None:
            _pending.add(key, json.dumps([name, base, bucket]), 1)
        _pending.add(key, json.dumps([name, base, "sum"]), float(value))
        _pending.add(key, json.dumps([name, base, "count"]), 1)


def histograms() -> dict[tuple[str, str], dict[Any, float]]:
    """{(name, label string): {bucket upper bound or "sum"/"count": value}}."""
    _pending.send()
    raw = _redis(lambda client: client.hgetall(cache.make_key(_HISTOGRAM_KEY)), "reading histograms") or {}
    found: dict[tuple[str, str], dict[Any, float]] = defaultdict(dict)
    for field, value in raw.items():
        name, labels, part = json.loads(field)
        found[(name, _labels(dict(labels)))][part] = float(value)
    return found


def _render_histograms(lines: list[str]) -> None:
    series = histograms()
    for name, (text, buckets) in HISTOGRAMS.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} histogram"]
        for (series_name, labels), parts in sorted(series.items()):
            if series_name != name:
                continue
            inner = labels[1:-1] + "," if labels else ""
            running = 0.0
            for le in buckets:
                running += parts.get(le, 0.0)
                lines.append(f'{name}_bucket{{{inner}le="{le:g}"}} {running:g}')
            count = parts.get("count", 0.0)
            lines.append(f'{name}_bucket{{{inner}le="+Inf"}} {count:g}')
            lines.append(f"{name}_sum{labels} {parts.get('sum', 0.0):.6f}")
            lines.append(f"{name}_count{labels} {count:g}")


@functools.cache
def _broker(url: str) -> redis.Redis:
    timeout = settings.REDIS_TIMEOUT_SECONDS
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def celery_queue_gauges() -> Iterable[Gauge]:
    # Kombu keeps each queue as a Redis list, with one more list per priority step.
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    keys = [f"{prefix}{queue}"] + [f"{prefix}{queue}\x06\x16{priority}" for priority in (3, 6, 9)]
    pipe = _broker(settings.CELERY_BROKER_URL).pipeline(transaction=False)
    for key in keys:
        pipe.llen(key)
    length = sum(pipe.execute())
    yield Gauge("personalpod_celery_queue_length", "Tasks waiting in the Celery queue.", [({"queue": queue}, length)])


def database_pool_gauges() -> Iterable[Gauge]:
    """This process's PostgreSQL pool (each web and worker process has its own)."""
    if "pool" not in settings.DATABASES["default"].get("OPTIONS", {}):
        return
    stats = connections["default"].pool.get_stats()  # type: ignore[attr-defined]
    size, idle = stats.get("pool_size", 0), stats.get("pool_available", 0)
    yield Gauge(
        "personalpod_db_pool_connections",
        "Connections in this process's PostgreSQL pool, by state.",
        [({"state": "in_use"}, size - idle), ({"state": "idle"}, idle)],
    )
    yield Gauge("personalpod_db_pool_max", "The pool's maximum size.", [({}, stats.get("pool_max", 0))])
    yield Gauge(
        "personalpod_db_pool_requests_waiting",
        "Requests waiting for a connection.",
        [({}, stats.get("requests_waiting", 0))],
    )


collectors += [celery_queue_gauges, database_pool_gauges]


def _render_gauges(lines: list[str]) -> None:
    for collect in collectors:
        try:
            gauges = list(collect())
        except Exception:
            logger.warning("metrics: %s failed", getattr(collect, "__name__", collect), exc_info=True)
            continue
        for gauge in gauges:
            lines += [f"# HELP {gauge.name} {gauge.help}", f"# TYPE {gauge.name} gauge"]
            lines += [f"{gauge.name}{_labels(labels)} {value:g}" for labels, value in gauge.samples]


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        response = HttpResponse("A metrics token is needed.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    lines: list[str] = []
    values = counters()
    for name, text in HELP.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} counter"]
        lines += [f"{field} {value}" for field, value in sorted(values.items()) if field.split("{")[0] == name]
    _render_histograms(lines)
    _render_gauges(lines)
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")


class RequestMetricsMiddleware:
    """Time every request into the latency histogram, labelled by its URL pattern (not its
    path: ids in paths would make a series per object)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name) if match else "unmatched"
        observe(
            "personalpod_request_duration_seconds",
            [time.perf_counter() - started],
            method=request.method or "",
            route=route or "unmatched",
        )
        return response
