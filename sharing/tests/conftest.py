from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory

_ips = itertools.count(1)


@pytest.fixture
def carol(db: None) -> User:
    return UserFactory(email="carol@example.com", username="carol")  # type: ignore[no-any-return]


@pytest.fixture
def dave(db: None) -> User:
    return UserFactory(email="dave@example.com", username="dave")  # type: ignore[no-any-return]


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def ip() -> str:
    """A fresh client address per test: link rate limits never carry across tests."""
    n = next(_ips)
    return f"203.0.{n // 250}.{n % 250 + 1}"


@pytest.fixture
def make_entry() -> Callable[..., dict[str, Any]]:
    def make(owner: User, **body: Any) -> dict[str, Any]:
        body.setdefault("type", "note")
        body.setdefault("title", "A note")
        response = client_for(owner).post("/api/v1/entries/", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()  # type: ignore[no-any-return]

    return make


@pytest.fixture
def share() -> Callable[..., dict[str, Any]]:
    """Share through the API as ACTOR; returns the created share (with a link's token)."""

    def make(actor: User, entry_id: str, **body: Any) -> dict[str, Any]:
        response = client_for(actor).post("/api/v1/shares/", {"entry": entry_id, **body}, format="json")
        assert response.status_code == 201, response.content
        return response.json()  # type: ignore[no-any-return]

    return make
