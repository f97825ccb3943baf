"""Faults, each against the real services with real Celery processes: Redis stopped, DynamoDB
Local stopped, a worker killed mid-publish, two workers publishing one user at once.

Each test brings its own Redis (and, where it stops it, its own DynamoDB Local), so the
machine's shared services are never stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import close_old_connections
from rest_framework.test import APIClient

from accounts.models import User
from entries.models import Change
from entries.overview import statistics
from entries.services.entries import create_entry
from personalpod import dynamo, metrics
from sync.models import Device
from sync.tests.faults import Celery, DynamoLocal, RedisServer, broker_at, celery_env, wait_for_workers, wait_until
from sync.tests.helpers import queue_items, unpublished

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def writes_queue_publishes(settings: Any) -> None:
    settings.SYNC_ENQUEUE_ON_COMMIT = True  # as in production (the test settings turn it off)


@pytest.fixture
def processes() -> Iterator[list[Any]]:
    """Everything a test starts; stopped at the end whatever happened."""
    started: list[Any] = []
    yield started
    for process in reversed(started):
        process.stop()


@pytest.fixture
def redis_server(tmp_path: Path, processes: list[Any]) -> RedisServer:
    server = RedisServer(tmp_path / "redis.log")
    server.start()
    processes.append(server)
    return server


def assert_delivered_once_in_order(user: User, devices: list[Device], count: int) -> None:
    items = queue_items(user)
    assert len({item.sk for item in items}) == len(items) == count * len(devices)
    per_device: dict[str, list[int]] = {}
    for item in items:  # key order: what a device reads
        per_device.setdefault(item.device_key, []).append(item.seq)
    assert per_device == {f"DEVICE#{device.id}": list(range(1, count + 1)) for device in devices}


def published_counter(client: Any) -> int:
    from django.conf import settings

    key = f"{settings.CACHES['default']['KEY_PREFIX']}:1:metrics:counters"
    return int(client.hget(key, "personalpod_sync_published_changes_total") or 0)


def test_redis_stopped_while_100_entries_are_written(
    alice: User, add_device: Any, redis_server: RedisServer, processes: list[Any], tmp_path: Path
) -> None:
    devices = [add_device(alice, "Laptop"), add_device(alice, "Phone")]
    env = celery_env(redis_server.url, SYNC_PUBLISH_INTERVAL_SECONDS="1")
    worker = Celery("worker", "redis-fault", env, tmp_path).start()
    beat = Celery("beat", "redis-fault-beat", env, tmp_path).start()
    processes += [worker, beat]
    api = APIClient()
    api.force_authenticate(alice)
    with broker_at(redis_server.url) as app:
        wait_for_workers(app, worker)
        redis_server.stop()

        for n in range(100):
            response = api.post("/api/v1/entries/", {"type": "note", "title": f"Offline {n}"}, format="json")
            assert response.status_code == 201, response.content

        assert unpublished(alice) == list(range(1, 101))
        assert metrics.counters()["personalpod_sync_enqueue_errors_total"] == 100
        assert queue_items(alice) == []

        redis_server.start()
        wait_until(lambda: not unpublished(alice), 45, f"beat to publish\n{beat.output()[-2000:]}")

    assert_delivered_once_in_order(alice, devices, 100)
    # The workers send their counts within METRICS_FLUSH_SECONDS.
    wait_until(lambda: published_counter(redis_server.client()) == 100, 10, "the published counter")


def test_dynamodb_stopped_during_writes_and_reads(
    alice: User,
    add_device: Any,
    redis_server: RedisServer,
    processes: list[Any],
    tmp_path: Path,
    settings: Any,
    monkeypatch: Any,
) -> None:
    local = DynamoLocal(tmp_path / "dynamodb.log", tmp_path / "dynamodb")
    local.start()
    processes.append(local)
    settings.DYNAMODB_ENDPOINT = local.url
    for model in dynamo.registered_tables():  # this process's tables, on that DynamoDB Local
        monkeypatch.setattr(model.Meta, "host", local.url)
        monkeypatch.setattr(model, "_connection", None)
    dynamo.create_tables()
    devices = [add_device(alice, "Laptop"), add_device(alice, "Phone")]
    env = celery_env(
        redis_server.url,
        DYNAMODB_ENDPOINT=local.url,
        DYNAMODB_CONNECT_TIMEOUT="0.5",
        DYNAMODB_MAX_RETRY_ATTEMPTS="0",
        SYNC_PUBLISH_MAX_RETRIES="1",
        SYNC_PUBLISH_INTERVAL_SECONDS="1",
    )
    worker = Celery("worker", "dynamo-fault", env, tmp_path).start()
    beat = Celery("beat", "dynamo-fault-beat", env, tmp_path).start()
    processes += [worker, beat]
    api = APIClient()
    api.force_authenticate(alice)
    with broker_at(redis_server.url) as app:
        wait_for_workers(app, worker)
        for n in range(10):
            assert (
                api.post("/api/v1/entries/", {"type": "note", "title": f"Online {n}"}, format="json").status_code == 201
            )
        wait_until(lambda: not unpublished(alice), 30, "the first ten to be published")

        local.stop()
        for n in range(20):
            response = api.post("/api/v1/entries/", {"type": "note", "title": f"Offline {n}"}, format="json")
            assert response.status_code == 201, response.content
        # Reads answer from PostgreSQL: the list, search (its cache is in DynamoDB), statistics.
        assert len(api.get("/api/v1/entries/", {"limit": 100}).json()["results"]) == 30
        search = api.get("/api/v1/search/", {"q": "Offline"})
        assert search.status_code == 200
        assert search.json()["results"]
        assert all(result["title"].startswith("Offline") for result in search.json()["results"])
        assert statistics(alice)["by_type"] == {"note": 30}
        assert metrics.counters()['personalpod_cache_total{cache_type="statistics",outcome="error"}'] >= 1
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["dynamodb"]["status"] == "error"
        assert unpublished(alice) == list(range(11, 31))

        local.start()
        wait_until(lambda: not unpublished(alice), 45, f"beat to publish\n{worker.output()[-2000:]}")
        close_old_connections()

    assert_delivered_once_in_order(alice, devices, 30)


def test_worker_killed_mid_publish(
    alice: User, add_device: Any, redis_server: RedisServer, processes: list[Any], tmp_path: Path
) -> None:
    devices = [add_device(alice, "Laptop"), add_device(alice, "Phone")]
    with broker_at(redis_server.url) as app:
        for n in range(60):  # a queued publish task, no worker yet
            create_entry(actor=alice, type="note", title=f"Note {n}")
        dying = Celery(
            "worker",
            "dying",
            celery_env(redis_server.url, SYNC_PUBLISH_BATCH_SIZE="20", SYNC_PUBLISH_PAUSE_SECONDS="60"),
            tmp_path,
        ).start()
        processes.append(dying)
        # The first batch's items are written; the worker sleeps before marking its rows.
        wait_until(lambda: len(queue_items(alice)) == 40, 40, f"the first batch\n{dying.output()[-2000:]}")
        dying.kill()

        assert unpublished(alice) == list(range(1, 61))  # its transaction died with it
        # The next run: the beat task, on a fresh worker.
        env = celery_env(redis_server.url, SYNC_PUBLISH_INTERVAL_SECONDS="1")
        healthy = Celery("worker", "healthy", env, tmp_path).start()
        beat = Celery("beat", "healthy-beat", env, tmp_path).start()
        processes += [healthy, beat]
        wait_for_workers(app, healthy)
        wait_until(lambda: not unpublished(alice), 40, f"the next run\n{healthy.output()[-2000:]}")

    assert_delivered_once_in_order(alice, devices, 60)
    # The workers send their counts within METRICS_FLUSH_SECONDS.
    wait_until(lambda: published_counter(redis_server.client()) == 60, 10, "the published counter")


def test_two_workers_publishing_one_user_at_once(
    alice: User, add_device: Any, redis_server: RedisServer, processes: list[Any], tmp_path: Path
) -> None:
    devices = [add_device(alice, "Laptop"), add_device(alice, "Phone")]
    with broker_at(redis_server.url) as app:
        for n in range(200):
            create_entry(actor=alice, type="note", title=f"Note {n}")
        # Small batches with a pause in each, so the two are busy with the user at the same time.
        env = celery_env(redis_server.url, SYNC_PUBLISH_BATCH_SIZE="10", SYNC_PUBLISH_PAUSE_SECONDS="0.1")
        first = Celery("worker", "first", env, tmp_path).start()
        second = Celery("worker", "second", env, tmp_path).start()
        processes += [first, second]
        wait_for_workers(app, first, second)
        for _ in range(6):  # several runs for the one user at once, as retries and beat can make
            app.send_task("sync.tasks.publish_changes_task", args=[str(alice.id)])
        wait_until(lambda: not unpublished(alice), 50, "both workers to finish")

    assert_delivered_once_in_order(alice, devices, 200)
    # The workers send their counts within METRICS_FLUSH_SECONDS.
    wait_until(lambda: published_counter(redis_server.client()) == 200, 10, "the published counter")
    # Rows were published batch after batch in feed order, never a later batch first.
    marks = list(Change.objects.filter(user=alice).order_by("seq").values_list("published_at", flat=True))
    assert marks == sorted(marks)
    batches = Counter(
        worker.name for worker in (first, second) for line in worker.output().splitlines() if "published" in line
    )
    assert batches["first"] > 0
    assert batches["second"] > 0
