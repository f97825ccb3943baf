"""DynamoDB: connection settings for every PynamoDB table, the table registry, and the
helpers that create and drop the tables.

Each table's model lives in the app that owns it (sessions in accounts, the search cache
in entries, the cache in personalpod.cache, the sync queue in sync) and registers itself
with `@register`; the apps import those modules in `AppConfig.ready()`.
"""

from __future__ import annotations

import functools
import time
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from django.conf import settings
from pynamodb.models import Model

M = TypeVar("M", bound=type[Model])

_registry: list[type[Model]] = []


def table_name(name: str) -> str:
    return f"{settings.DYNAMODB_TABLE_PREFIX}{name}"


def table_meta(name: str) -> Any:
    """Return a PynamoDB `Meta` for table NAME, with host, region, credentials and prefix from settings."""
    return type(
        "Meta",
        (),
        {
            "table_name": table_name(name),
            "host": settings.DYNAMODB_ENDPOINT or None,
            "region": settings.DYNAMODB_REGION,
            "aws_access_key_id": settings.DYNAMODB_ACCESS_KEY_ID,
            "aws_secret_access_key": settings.DYNAMODB_SECRET_ACCESS_KEY,
            "connect_timeout_seconds": settings.DYNAMODB_CONNECT_TIMEOUT,
            "read_timeout_seconds": settings.DYNAMODB_READ_TIMEOUT,
            "max_retry_attempts": settings.DYNAMODB_MAX_RETRY_ATTEMPTS,
            "billing_mode": "PAY_PER_REQUEST",
        },
    )


def register(model: M) -> M:
    if model not in _registry:
        _registry.append(model)
    return model


def registered_tables() -> list[type[Model]]:
    return list(_registry)


def client(*, timeout: float | None = None) -> Any:
    """Return a boto3 DynamoDB client for the current settings (for admin and health work).

    Clients are thread-safe once made, but making one from boto3's shared default session
    is not, and costs milliseconds: make each configuration's client once per process.
    """
    return _client(
        settings.DYNAMODB_ENDPOINT or None,
        settings.DYNAMODB_REGION,
        settings.DYNAMODB_ACCESS_KEY_ID,
        settings.DYNAMODB_SECRET_ACCESS_KEY,
        timeout or settings.DYNAMODB_CONNECT_TIMEOUT,
        timeout or settings.DYNAMODB_READ_TIMEOUT,
        1 if timeout else settings.DYNAMODB_MAX_RETRY_ATTEMPTS + 1,
    )


@functools.cache
def _client(
    endpoint: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
) -> Any:
    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
        ),
    )


def wait_until_reachable(seconds: float) -> None:
    """Wait for the DynamoDB endpoint to answer (DynamoDB Local takes a few seconds to boot)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            client(timeout=1.0).list_tables(Limit=1)
            return
        except Exception:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.25)


def create_tables() -> list[tuple[str, str]]:
    """Create every missing table with its keys, GSIs and TTL; return (table, what was done)."""
    done = []
    for model in registered_tables():
        name = model.Meta.table_name
        if model.exists():
            outcome = "exists"
        else:
            model.create_table(wait=True)
            outcome = "created"
        if _ensure_ttl(model):
            outcome += ", TTL enabled"
        done.append((name, outcome))
    return done


def _ensure_ttl(model: type[Model]) -> bool:
    ttl = model._ttl_attribute()
    if ttl is None:
        return False
    dynamodb = client()
    described = dynamodb.describe_time_to_live(TableName=model.Meta.table_name)["TimeToLiveDescription"]
    if described.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return False
    dynamodb.update_time_to_live(
        TableName=model.Meta.table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl.attr_name},
    )
    return True


def drop_tables() -> list[str]:
    dropped = []
    for model in registered_tables():
        if model.exists():
            model.delete_table()
            dropped.append(model.Meta.table_name)
    return dropped


def endpoint_label() -> str:
    return settings.DYNAMODB_ENDPOINT or f"AWS ({settings.DYNAMODB_REGION})"


class CircuitBreaker:
    """After a failure, stop calling DynamoDB for a while: an outage must not add a timeout
    to every request that could be answered from PostgreSQL alone."""

    def __init__(self, pause_seconds: float = 30.0) -> None:
        self.pause_seconds = pause_seconds
        self.open_until = 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def failed(self) -> None:
        self.open_until = time.monotonic() + self.pause_seconds

    def succeeded(self) -> None:
        self.open_until = 0.0


breaker = CircuitBreaker()
