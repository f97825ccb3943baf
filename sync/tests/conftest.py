from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD
from entries.services.entries import create_entry
from personalpod import dynamo
from sync.devices import register_device
from sync.models import Device


@pytest.fixture(autouse=True)
def closed_breakers() -> Iterator[None]:
    from sync.tasks import _broker_breaker

    dynamo.breaker.succeeded()
    _broker_breaker.succeeded()
    yield
    dynamo.breaker.succeeded()
    _broker_breaker.succeeded()


@pytest.fixture
def add_device() -> Callable[..., Device]:
    def add(user: User, name: str = "Laptop", platform: str = "linux") -> Device:
        from accounts.sessions import device_id_for

        return register_device(user=user, device_id=device_id_for(user.id, name), name=name, platform=platform)

    return add


@pytest.fixture
def write_notes() -> Callable[..., list[Any]]:
    def write(user: User, count: int, **extra: Any) -> list[Any]:
        return [create_entry(actor=user, type="note", title=f"Note {n}", **extra) for n in range(count)]

    return write


_addresses = itertools.count(1)


@pytest.fixture
def device_login() -> Callable[..., dict[str, Any]]:
    """Sign USER in through the API as a device; return the response body."""

    def login(user: User, device_name: str | None, **extra: Any) -> dict[str, Any]:
        body = {"email": user.email, "password": PASSWORD, **extra}
        if device_name:
            body["device_name"] = device_name
        n = next(_addresses)
        address = f"203.0.{n // 250}.{n % 250 + 1}"  # a fresh address: sign-in throttling stays out of it
        response = APIClient().post("/api/v1/auth/login/", body, format="json", REMOTE_ADDR=address)
        assert response.status_code == 200, response.content
        return response.json()  # type: ignore[no-any-return]

    return login


@pytest.fixture
def sync_device(device_login: Callable[..., dict[str, Any]]) -> Callable[[User, str], Any]:
    """A device of USER signed in through the API, with pull and push helpers (sync.tests.clients)."""
    from sync.tests.clients import DeviceClient

    def make(user: User, name: str) -> DeviceClient:
        body = device_login(user, name)
        return DeviceClient(user, name, body["token"], body["device"]["id"])

    return make
