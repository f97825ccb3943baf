import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from django.test import Client

from conftest import closed_port
from personalpod import health
from personalpod.tasks import heartbeat_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a hung dependency."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_healthz_answers_while_the_process_is_up(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_probes_answer_a_load_balancer_that_calls_by_ip_address(client: Client) -> None:
    assert client.get("/healthz", HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert client.get("/api/v1/", HTTP_HOST="10.0.3.7:8000").status_code == 400


def test_probes_refuse_other_methods_with_the_error_shape(client: Client) -> None:
    response = client.post("/readyz")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db(transaction=True)
def test_readyz_is_ok_when_every_dependency_is_up(client: Client, celery_worker: object) -> None:
    from accounts.tests.factories import UserFactory

    UserFactory.create_batch(2)
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"postgres", "redis", "dynamodb", "celery"}
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert body["checks"]["postgres"]["version"]
    assert body["checks"]["postgres"]["user_count"] == 2
    assert body["checks"]["celery"]["worker"].startswith("test-")
    assert len(body["checks"]["dynamodb"]["tables"]) == 4
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_reports_the_beat_heartbeat_run_by_the_worker(client: Client, celery_worker: object) -> None:
    heartbeat_task.delay()
    deadline = time.monotonic() + 20
    while True:
        beat = client.get("/readyz").json()["checks"]["celery"]["beat"]
        if beat["status"] == "ok" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert beat["status"] == "ok"
    assert beat["last_run_at"]


def test_readyz_names_dynamodb_when_its_port_is_closed(client: Client, settings: object) -> None:
    settings.DYNAMODB_ENDPOINT = f"http://127.0.0.1:{closed_port()}"  # type: ignore[attr-defined]
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 3
    body = response.json()
    assert response.status_code == 503
    assert "dynamodb" in body["failing"]
    assert body["checks"]["dynamodb"]["status"] == "error"
    assert body["checks"]["postgres"]["status"] == "ok"


def test_readyz_answers_within_3_seconds_when_dynamodb_hangs(
    client: Client, settings: object, silent_port: int
) -> None:
    settings.DYNAMODB_ENDPOINT = f"http://127.0.0.1:{silent_port}"  # type: ignore[attr-defined]
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.json()["failing"] == ["dynamodb"] or "dynamodb" in response.json()["failing"]


def test_readyz_names_redis_when_it_is_unreachable(client: Client, settings: object) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"  # type: ignore[attr-defined]
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert "redis" in response.json()["failing"]


def test_readyz_names_a_missing_table(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from personalpod.cache import CacheItem

    monkeypatch.setattr(CacheItem.Meta, "table_name", "missing_cache")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "missing_cache" in response.json()["checks"]["dynamodb"]["error"]


def test_readyz_names_celery_when_no_worker_answers(
    client: Client, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real broker, under a key prefix no worker listens on: Redis is up, nobody answers.
    nobody = Celery(
        "nobody",
        broker=settings.CELERY_BROKER_URL,  # type: ignore[attr-defined]
        broker_transport_options={"global_keyprefix": "nobody-listens:"},
    )
    monkeypatch.setattr(health, "celery_app", lambda: nobody)
    response = client.get("/readyz")
    nobody.close()
    assert response.status_code == 503
    assert response.json()["failing"] == ["celery"]
    assert "no worker answered" in response.json()["checks"]["celery"]["error"]


def test_metrics_take_a_token_when_one_is_set(settings: Any) -> None:
    settings.METRICS_TOKEN = "scrape-me-42"
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    scraped = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me-42")
    assert scraped.status_code == 200
    assert "# TYPE" in scraped.content.decode()
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 200
