"""The API tokens and profile pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    return client


def test_a_new_token_is_shown_once_works_and_can_be_revoked(alice: User) -> None:
    web = signed_in(alice)
    created = web.post("/accounts/tokens/", {"name": "backup script"})
    assert created.status_code == 201
    assert created["Cache-Control"] == "no-store"
    token = re.search(r'value="(ppt_[^"]+)"', created.content.decode())
    assert token is not None
    listing = web.get("/accounts/tokens/").content.decode()
    assert "backup script" in listing
    assert token.group(1) not in listing
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.group(1)}")
    assert api.get("/api/v1/me/").status_code == 200
    api_token = ApiToken.objects.get(user=alice)
    assert web.post(f"/accounts/tokens/{api_token.id}/revoke/").status_code == 302
    assert api.get("/api/v1/me/").status_code == 401


def test_token_errors_and_someone_elses_token(alice: User, bob: User) -> None:
    web = signed_in(alice)
    past = web.post("/accounts/tokens/", {"name": "old", "expires_at": "2001-01-01T10:00"})
    assert past.status_code == 400
    assert "The expiry must be in the future." in past.content.decode()
    assert web.post("/accounts/tokens/", {"name": ""}).status_code == 400
    theirs = ApiToken.objects.create(user=bob, name="bob's", token_hash="0" * 64, prefix="ppt_xxxx")
    assert web.post(f"/accounts/tokens/{theirs.id}/revoke/").status_code == 404
    assert web.post("/accounts/tokens/not-a-uuid/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_profile_sets_time_zone_and_search_language(alice: User) -> None:
    web = signed_in(alice)
    page = web.get("/accounts/profile/").content.decode()
    assert 'value="Europe/Lisbon"' in page
    assert 'value="portuguese"' in page
    saved = web.post(
        "/accounts/profile/", {"username": "alice", "timezone": "Europe/Lisbon", "search_language": "portuguese"}
    )
    assert saved.status_code == 302
    alice.refresh_from_db()
    assert (alice.timezone, alice.search_language) == ("Europe/Lisbon", "portuguese")
    bad = web.post(
        "/accounts/profile/", {"username": "alice", "timezone": "Mars/Olympus", "search_language": "english"}
    )
    assert bad.status_code == 400
    alice.refresh_from_db()
    assert alice.timezone == "Europe/Lisbon"


def test_profile_refuses_a_taken_username(alice: User, bob: User) -> None:
    response = signed_in(alice).post(
        "/accounts/profile/", {"username": "BOB", "timezone": "UTC", "search_language": "english"}
    )
    assert response.status_code == 400
    assert "This username is taken." in response.content.decode()
