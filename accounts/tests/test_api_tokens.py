from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Action, ActivityLog, ApiToken, User
from accounts.tests.conftest import bearer

pytestmark = pytest.mark.django_db


def token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def alice_api(alice: User, device_login: Callable[..., Any]) -> APIClient:
    return bearer(device_login(alice)["token"])


def test_a_token_is_shown_once_stored_as_a_hash_and_works(alice: User, alice_api: APIClient) -> None:
    created = alice_api.post("/api/v1/auth/tokens/", {"name": "backup script"}, format="json")
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("ppt_")
    row = ApiToken.objects.get(id=created.json()["id"])
    assert token not in {str(value) for value in vars(row).values()}
    assert len(row.token_hash) == 64
    listed = alice_api.get("/api/v1/auth/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["backup script"]
    assert "token" not in listed[0]
    me = token_client(token).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["id"] == str(alice.id)
    row.refresh_from_db()
    assert row.last_used_at is not None
    assert ActivityLog.objects.filter(owner_id=alice.id, action=Action.TOKEN_CREATE).count() == 1


def test_a_revoked_token_stops_working(alice: User, alice_api: APIClient) -> None:
    created = alice_api.post("/api/v1/auth/tokens/", {"name": "ci"}, format="json").json()
    assert alice_api.delete(f"/api/v1/auth/tokens/{created['id']}/").status_code == 204
    assert token_client(created["token"]).get("/api/v1/me/").status_code == 401
    assert alice_api.get("/api/v1/auth/tokens/").json()["results"] == []
    assert ActivityLog.objects.filter(owner_id=alice.id, action=Action.TOKEN_REVOKE).count() == 1


def test_an_expired_token_stops_working(alice: User, alice_api: APIClient) -> None:
    soon = timezone.now() + timedelta(minutes=5)
    created = alice_api.post("/api/v1/auth/tokens/", {"name": "short", "expires_at": soon.isoformat()}, format="json")
    ApiToken.objects.filter(id=created.json()["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert token_client(created.json()["token"]).get("/api/v1/me/").status_code == 401


def test_another_users_token_is_not_found(alice_api: APIClient, bob: User, device_login: Callable[..., Any]) -> None:
    bobs = bearer(device_login(bob)["token"]).post("/api/v1/auth/tokens/", {"name": "bob"}, format="json").json()
    assert alice_api.delete(f"/api/v1/auth/tokens/{bobs['id']}/").status_code == 404
    assert token_client(bobs["token"]).get("/api/v1/me/").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"), ({"name": "x" * 101}, "name")],
)
def test_bad_token_requests_name_the_field(alice_api: APIClient, body: dict[str, str], field: str) -> None:
    response = alice_api.post("/api/v1/auth/tokens/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not ApiToken.objects.exists()


def test_listing_tokens_takes_a_fixed_number_of_queries(
    alice: User, alice_api: APIClient, django_assert_max_num_queries: Any
) -> None:
    for n in range(15):
        alice_api.post("/api/v1/auth/tokens/", {"name": f"t{n}"}, format="json")
    with django_assert_max_num_queries(3):
        response = alice_api.get("/api/v1/auth/tokens/")
    assert len(response.json()["results"]) == 15
