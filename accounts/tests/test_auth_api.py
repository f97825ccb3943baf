"""Sign-up and sign-in through the API; device sessions in DynamoDB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts import sessions
from accounts.models import Action, ActivityLog, User
from accounts.tests.conftest import PASSWORD, bearer
from personalpod import dynamo
from personalpod.http import ClientInfo

pytestmark = pytest.mark.django_db


def signup(**body: str) -> Any:
    return APIClient().post("/api/v1/auth/signup/", body, format="json")


def test_sign_up_creates_the_account_and_logs_it() -> None:
    response = signup(email="Dora@Example.com", username="dora", password=PASSWORD)
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "dora@example.com"
    assert "password" not in body
    user = User.objects.get(id=body["id"])
    assert user.check_password(PASSWORD)
    assert ActivityLog.objects.filter(owner_id=user.id, action=Action.SIGNUP).count() == 1


@pytest.mark.parametrize(
    ("email", "username", "field"),
    [("ALICE@example.com", "someone", "email"), ("new@example.com", "ALICE", "username")],
)
def test_duplicate_email_or_username_in_any_case_names_the_field(
    alice: User, email: str, username: str, field: str
) -> None:
    response = signup(email=email, username=username, password=PASSWORD)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert User.objects.count() == 1


def test_weak_password_gets_the_validators_messages() -> None:
    response = signup(email="eve@example.com", username="eve", password="password")
    assert response.status_code == 400
    messages = response.json()["error"]["fields"]["password"]
    assert any("too short" in message for message in messages)
    assert any("too common" in message for message in messages)
    assert not User.objects.exists()


@pytest.mark.parametrize("missing", ["email", "username", "password"])
def test_missing_sign_up_field_is_named(missing: str) -> None:
    body = {"email": "fay@example.com", "username": "fay", "password": PASSWORD}
    del body[missing]
    response = signup(**body)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [missing]


def test_device_sign_in_returns_a_bearer_token_that_works(alice: User, device_login: Callable[..., Any]) -> None:
    body = device_login(alice, "Work laptop", platform="linux")
    assert body["token"].startswith("pps_")
    assert body["device"]["name"] == "Work laptop"
    assert body["device"]["platform"] == "linux"
    assert body["user"]["email"] == alice.email
    me = bearer(body["token"]).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["id"] == str(alice.id)


def test_login_path_works_without_the_trailing_slash(alice: User, client_ip: str) -> None:
    body = {"email": alice.email, "password": PASSWORD, "device_name": "Phone"}
    response = APIClient().post("/api/v1/auth/login", body, format="json", REMOTE_ADDR=client_ip)
    assert response.status_code == 200


def test_signing_in_again_from_a_device_reuses_its_id(alice: User, device_login: Callable[..., Any]) -> None:
    first = device_login(alice, "Phone")
    # Still signed in: another device of the same name, with a place in the feed of its own.
    assert device_login(alice, "phone")["device"]["id"] != first["device"]["id"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {first['token']}")
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert device_login(alice, "phone ")["device"]["id"] == first["device"]["id"]  # back after signing out


def test_wrong_password_and_unknown_account_get_the_same_answer(alice: User, client_ip: str) -> None:
    client = APIClient()
    wrong = client.post("/api/v1/auth/login/", {"email": alice.email, "password": "nope"}, REMOTE_ADDR=client_ip)
    unknown = client.post(
        "/api/v1/auth/login/", {"email": "ghost@example.com", "password": "nope"}, REMOTE_ADDR=client_ip
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    failures = ActivityLog.objects.filter(action=Action.LOGIN_FAILED)
    assert failures.count() == 2
    assert failures.filter(owner_id=alice.id).count() == 1


def test_an_unknown_account_costs_a_password_hash_too(client_ip: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Equal timing comes from hashing in both cases; count the hashes rather than time them.
    from django.contrib.auth.hashers import MD5PasswordHasher

    calls: list[str] = []
    original = MD5PasswordHasher.encode
    monkeypatch.setattr(
        MD5PasswordHasher, "encode", lambda self, pw, salt: calls.append(pw) or original(self, pw, salt)
    )
    APIClient().post("/api/v1/auth/login/", {"email": "ghost@example.com", "password": "x"}, REMOTE_ADDR=client_ip)
    assert calls == ["x"]


def test_two_devices_are_listed_with_their_names_and_the_current_one_marked(
    alice: User, device_login: Callable[..., Any]
) -> None:
    laptop, phone = device_login(alice, "Laptop"), device_login(alice, "Phone")
    response = bearer(laptop["token"]).get("/api/v1/me/sessions/")
    assert response.status_code == 200
    listed = {row["device_name"]: row for row in response.json()["results"]}
    assert set(listed) == {"Laptop", "Phone"}
    assert listed["Laptop"]["is_current"] is True
    assert listed["Phone"]["is_current"] is False
    assert listed["Phone"]["id"] == phone["session_id"]


def test_revoking_one_session_stops_its_token_at_once_and_keeps_the_other(
    alice: User, device_login: Callable[..., Any]
) -> None:
    laptop, phone = device_login(alice, "Laptop"), device_login(alice, "Phone")
    response = bearer(laptop["token"]).delete(f"/api/v1/me/sessions/{phone['session_id']}/")
    assert response.status_code == 204
    assert bearer(phone["token"]).get("/api/v1/me/").status_code == 401
    assert bearer(laptop["token"]).get("/api/v1/me/").status_code == 200
    assert ActivityLog.objects.filter(owner_id=alice.id, action=Action.SESSION_REVOKE).count() == 1


def test_revoke_all_other_sessions(alice: User, device_login: Callable[..., Any]) -> None:
    keep, *others = (device_login(alice, name) for name in ("A", "B", "C"))
    response = bearer(keep["token"]).post("/api/v1/me/sessions/revoke-others/")
    assert response.json() == {"ended_sessions": 2}
    assert [bearer(o["token"]).get("/api/v1/me/").status_code for o in others] == [401, 401]
    assert bearer(keep["token"]).get("/api/v1/me/").status_code == 200


def test_another_users_session_is_not_found(alice: User, bob: User, device_login: Callable[..., Any]) -> None:
    bobs = device_login(bob, "Bob's phone")
    response = bearer(device_login(alice)["token"]).delete(f"/api/v1/me/sessions/{bobs['session_id']}/")
    assert response.status_code == 404
    assert bearer(bobs["token"]).get("/api/v1/me/").status_code == 200


def test_sign_out_ends_the_device_session(alice: User, device_login: Callable[..., Any]) -> None:
    token = device_login(alice)["token"]
    assert bearer(token).post("/api/v1/auth/logout/").status_code == 204
    assert bearer(token).get("/api/v1/me/").status_code == 401
    assert ActivityLog.objects.filter(owner_id=alice.id, action=Action.LOGOUT).exists()


def test_an_expired_session_is_refused_although_dynamodb_local_keeps_it(alice: User) -> None:
    token = "pps_expired-token-for-test"
    item = sessions.new_item(
        secret=token, user_id=alice.id, kind="api", lifetime=timedelta(seconds=-1), client=ClientInfo("10.0.0.1", "")
    )
    item.save()
    response = bearer(token).get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert sessions.find_by_id(sessions.session_id(item)) is None


@pytest.mark.parametrize("header", ["Bearer pps_forged", "Bearer", "Bearer a b", "Token ppt_forged"])
def test_forged_or_malformed_credentials_are_401(header: str) -> None:
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/me/sessions/", "/api/v1/activity/", "/api/v1/auth/tokens/"])
def test_signed_out_requests_are_401(path: str) -> None:
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_session_items_have_the_seed_key_format_and_hold_no_token(
    alice: User, device_login: Callable[..., Any]
) -> None:
    body = device_login(alice, "Tablet", platform="android")
    table = settings.DYNAMODB_TABLE_PREFIX + "sessions"
    items = dynamo.client().scan(TableName=table)["Items"]
    ours = [item for item in items if item["sk"]["S"] == f"USER#{alice.id}"]
    assert len(ours) == 1
    item = ours[0]
    assert item["pk"]["S"] == f"SESSION#{body['session_id']}"
    assert len(body["session_id"]) == 64
    assert item["user_key"]["S"] == f"USER#{alice.id}"
    assert item["device_key"]["S"] == f"DEVICE#{body['device']['id']}"
    assert item["device_name"]["S"] == "Tablet"
    assert item["platform"]["S"] == "android"
    assert {"ip", "user_agent", "created_at", "last_seen_at", "expires_at"} <= set(item)
    assert body["token"] not in str(items)


def test_last_seen_is_written_at_most_once_a_minute(alice: User, device_login: Callable[..., Any]) -> None:
    body = device_login(alice)
    first = sessions.find_by_id(body["session_id"])
    assert first is not None
    bearer(body["token"]).get("/api/v1/me/")
    again = sessions.find_by_id(body["session_id"])
    assert again is not None
    assert again.last_seen_at == first.last_seen_at
    first.update(actions=[first.__class__.last_seen_at.set(first.last_seen_at - timedelta(minutes=2))])
    bearer(body["token"]).get("/api/v1/me/")
    later = sessions.find_by_id(body["session_id"])
    assert later is not None
    assert later.last_seen_at > first.last_seen_at


def test_profile_updates_are_validated_field_by_field(alice: User, device_login: Callable[..., Any]) -> None:
    client = bearer(device_login(alice)["token"])
    bad = client.patch("/api/v1/me/", {"timezone": "Mars/Olympus", "search_language": "klingon"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"timezone", "search_language"}
    good = client.patch("/api/v1/me/", {"timezone": "Europe/Paris", "search_language": "french"}, format="json")
    assert good.status_code == 200
    assert (good.json()["timezone"], good.json()["search_language"]) == ("Europe/Paris", "french")
    assert "english" in client.get("/api/v1/me/search-languages/").json()["results"]


def test_password_change_ends_the_other_sessions(alice: User, device_login: Callable[..., Any]) -> None:
    keep, other = device_login(alice, "A"), device_login(alice, "B")
    client = bearer(keep["token"])
    wrong = client.post("/api/v1/auth/password/", {"current_password": "nope", "new_password": "x"}, format="json")
    assert wrong.status_code == 400
    assert set(wrong.json()["error"]["fields"]) == {"current_password", "new_password"}
    new = "a whole new passphrase 42"
    response = client.post("/api/v1/auth/password/", {"current_password": PASSWORD, "new_password": new}, format="json")
    assert response.status_code == 200
    assert response.json()["ended_sessions"] == 1
    assert bearer(other["token"]).get("/api/v1/me/").status_code == 401
    assert client.get("/api/v1/me/").status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(new)
