"""Fixtures shared by every app's tests: real DynamoDB tables, a real Celery worker, users."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from personalpod import dynamo

ROOT = Path(__file__).resolve().parent


@pytest.fixture(scope="session", autouse=True)
def dynamodb_tables() -> Iterator[None]:
    """Create this run's DynamoDB tables (under its own prefix) and drop them afterwards."""
    dynamo.wait_until_reachable(60)
    dynamo.create_tables()
    yield
    dynamo.drop_tables()


def database_url(database: dict[str, Any]) -> str:
    user = quote(database["USER"] or "", safe="")
    password = f":{quote(database['PASSWORD'], safe='')}" if database["PASSWORD"] else ""
    auth = f"{user}{password}@" if user else ""
    host, port = database["HOST"] or "", database["PORT"] or ""
    if host.startswith("/"):
        query = f"host={quote(host, safe='/')}" + (f"&port={port}" if port else "")
        return f"postgresql://{auth}/{database['NAME']}?{query}"
    return f"postgresql://{auth}{host}{':' + port if port else ''}/{database['NAME']}"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, str]]:
    """moto's S3 server for this run, with a bucket: yields the settings that point a process at it."""
    import boto3

    port = closed_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    config = {
        "AWS_STORAGE_BUCKET_NAME": f"personalpod-test-{os.getpid()}",
        "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ACCESS_KEY_ID": "testing",
        "AWS_S3_SECRET_ACCESS_KEY": "testing",
    }
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("moto's S3 server did not start")
            time.sleep(0.2)
    boto3.client(
        "s3", endpoint_url=config["AWS_S3_ENDPOINT_URL"], region_name="us-east-1",
        aws_access_key_id=config["AWS_S3_ACCESS_KEY_ID"], aws_secret_access_key=config["AWS_S3_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket=config["AWS_STORAGE_BUCKET_NAME"])  # fmt: skip
    yield config
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def test_media() -> Iterator[None]:
    """Remove this run's stored files (MEDIA_ROOT is per run) when it ends."""
    yield
    import shutil

    root = Path(settings.MEDIA_ROOT)
    if "test-media" in root.parts:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None, s3_server: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on this run's queue, using the test database.

    It can read and write files on both storage backends: this run's folder and moto's S3.
    """
    from personalpod.celery import app

    env = {
        **os.environ,
        **s3_server,
        "FILE_STORAGE": settings.FILE_STORAGE,  # new files go where this process sends them
        "DATABASE_URL": database_url(settings.DATABASES["default"]),
    }
    log = (ROOT / ".data" / "celery-test-worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "personalpod", "worker", "--loglevel", "INFO",
         "--concurrency", "1", "--hostname", f"test-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"the Celery worker did not start; see {log.name}")
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


def closed_port() -> int:
    """A local port nothing listens on: a dependency that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DynamoOutage:
    """Point PynamoDB models at a closed port (a real outage of their endpoint), and back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.models: list[Any] = []

    def down(self, model: Any) -> None:
        self.monkeypatch.setattr(model.Meta, "host", f"http://127.0.0.1:{closed_port()}")
        self.monkeypatch.setattr(model.Meta, "max_retry_attempts", 0)
        self.monkeypatch.setattr(model, "_connection", None)
        self.models.append(model)

    def up(self) -> None:
        self.monkeypatch.undo()
        for model in self.models:
            model._connection = None
        self.models.clear()


@pytest.fixture
def dynamodb_outage(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoOutage]:
    outage = DynamoOutage(monkeypatch)
    yield outage
    outage.up()


@pytest.fixture(autouse=True)
def clean_cache() -> Iterator[None]:
    """Forget this run's cache keys (sign-in counters, heartbeats) after each test.

    Only keys under this run's CACHE_KEY_PREFIX: the Redis may be shared with `make run`.
    """
    yield
    from django.core.cache import cache

    from personalpod import metrics

    metrics.discard_pending()
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache") and prefix:
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def alice(db: None) -> Any:
    from accounts.tests.factories import UserFactory

    return UserFactory(email="alice@example.com", username="alice")


@pytest.fixture
def bob(db: None) -> Any:
    from accounts.tests.factories import UserFactory

    return UserFactory(email="bob@example.com", username="bob")
