"""Account edge cases a client found: each got a wrong answer before."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.conftest import bearer
from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(alice: User, device_login: Callable[..., Any]) -> APIClient:
    return bearer(device_login(alice)["token"])


@pytest.mark.parametrize("name", ["localtime", "posixrules", "Factory"])
def test_names_in_the_zone_database_that_are_not_places_are_refused(alice_api: APIClient, name: str) -> None:
    response = alice_api.patch("/api/v1/me/", {"timezone": name}, format="json")
    assert response.status_code == 400
    assert "timezone" in response.json()["error"]["fields"]


def test_the_new_password_must_not_be_the_current_one(alice_api: APIClient) -> None:
    body = {"current_password": PASSWORD, "new_password": PASSWORD}
    response = alice_api.post("/api/v1/auth/password/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["new_password"]


def test_signing_out_with_an_api_token_says_to_revoke_it(alice_api: APIClient) -> None:
    token = alice_api.post("/api/v1/auth/tokens/", {"name": "script"}, format="json").json()["token"]
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = script.post("/api/v1/auth/logout/")
    assert response.status_code == 400
    assert "token" in response.json()["error"]["fields"]
    assert script.get("/api/v1/me/").status_code == 200  # nothing pretended to end


def test_a_body_over_the_limit_is_a_413_that_says_so(alice_api: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20
    body = json.dumps({"type": "note", "title": "Big", "content": "x" * 2**20})
    response = alice_api.post("/api/v1/entries/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert "1 MiB" in response.json()["error"]["message"]
