from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
_ips = itertools.count(1)


@pytest.fixture
def client_ip() -> str:
    """A fresh client address per test, so sign-in throttling never carries across tests."""
    n = next(_ips)
    return f"198.51.{n // 250}.{n % 250 + 1}"


@pytest.fixture
def carol(db: None) -> User:
    return UserFactory(email="carol@example.com", username="carol")  # type: ignore[no-any-return]


@pytest.fixture
def device_login(client_ip: str) -> Callable[..., dict[str, Any]]:
    """Sign a user in as a device through the API; return the response body."""

    def login(user: User, device_name: str | None = "Laptop", **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"email": user.email, "password": PASSWORD, **extra}
        if device_name:
            body["device_name"] = device_name
        response = APIClient().post("/api/v1/auth/login/", body, format="json", REMOTE_ADDR=client_ip)
        assert response.status_code == 200, response.content
        return response.json()  # type: ignore[no-any-return]

    return login


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process (for tests about what a task does, not about the worker)."""
    from personalpod.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
