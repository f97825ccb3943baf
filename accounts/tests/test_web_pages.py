"""The browser pages, through Django's test client (the Chromium tests come with the UI issue)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts import sessions
from accounts.models import Action, ActivityLog, User
from accounts.tests.conftest import PASSWORD, bearer

pytestmark = pytest.mark.django_db


def browser(ip: str = "192.0.2.10") -> Client:
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")


def test_sign_up_in_the_browser_signs_you_in_with_a_session_in_dynamodb() -> None:
    client = browser()
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    assert b'name="email"' in page.content
    response = client.post("/accounts/signup/", {"email": "hana@example.com", "username": "hana", "password": PASSWORD})
    assert response.status_code == 302
    key = client.cookies["sessionid"].value
    item = sessions.find_by_secret(key)
    assert item is not None
    user = User.objects.get(email="hana@example.com")
    assert item.sk == f"USER#{user.id}"
    assert (item.kind, item.device_name, item.platform, item.ip) == (
        "browser",
        "Firefox on Linux",
        "linux",
        "192.0.2.10",
    )
    assert key not in str(item.pk)
    assert client.get("/accounts/sessions/").status_code == 200


def test_sign_up_errors_are_shown_on_the_form(alice: User) -> None:
    response = browser().post(
        "/accounts/signup/", {"email": "ALICE@example.com", "username": "x1", "password": "short"}
    )
    assert response.status_code == 400
    assert b"already exists" in response.content
    assert b"too short" in response.content


def test_sign_in_and_out_in_the_browser(alice: User) -> None:
    client = browser()
    wrong = client.post("/accounts/login/", {"email": alice.email, "password": "nope"})
    assert wrong.status_code == 400
    assert b"Wrong e-mail address or password." in wrong.content
    right = client.post("/accounts/login/", {"email": alice.email, "password": PASSWORD, "next": "/accounts/sessions/"})
    assert right.status_code == 302
    assert right["Location"] == "/accounts/sessions/"
    page = client.get("/accounts/sessions/")
    assert b"this session" in page.content
    key = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    assert sessions.find_by_secret(key) is None
    assert client.get("/accounts/sessions/").status_code == 302
    actions = set(ActivityLog.objects.filter(owner_id=alice.id).values_list("action", flat=True))
    assert {"login_failed", "login", "logout"} <= actions


def test_an_offsite_next_is_ignored(alice: User) -> None:
    response = browser().post(
        "/accounts/login/", {"email": alice.email, "password": PASSWORD, "next": "https://evil.example"}
    )
    assert response["Location"] == "/"


def test_the_sessions_page_lists_devices_and_revokes_one(alice: User, device_login: Callable[..., Any]) -> None:
    phone = device_login(alice, "Pixel")
    client = browser()
    client.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    page = client.get("/accounts/sessions/")
    assert b"Pixel" in page.content
    assert b"Firefox on Linux" in page.content
    response = client.post(f"/accounts/sessions/{phone['session_id']}/revoke/")
    assert response.status_code == 302
    assert bearer(phone["token"]).get("/api/v1/me/").status_code == 401
    assert client.get("/accounts/sessions/").status_code == 200


def test_signing_out_everywhere_else_says_how_many_in_plain_words(
    alice: User, device_login: Callable[..., Any]
) -> None:
    client = browser()
    client.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    device_login(alice, "Pixel")
    one = client.post("/accounts/sessions/revoke-others/", follow=True).content.decode()
    assert "1 other session signed out." in one
    device_login(alice, "Pixel")
    device_login(alice, "Laptop")
    two = client.post("/accounts/sessions/revoke-others/", follow=True).content.decode()
    assert "2 other sessions signed out." in two
    device_login(alice, "Pixel")
    body = {"current_password": PASSWORD, "new_password": "a whole new passphrase 42"}
    changed = client.post("/accounts/password/", body, follow=True).content.decode()
    assert "Password changed. 1 other session was signed out." in changed


def test_a_revoked_browser_session_is_signed_out(alice: User, device_login: Callable[..., Any]) -> None:
    client = browser()
    client.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    browser_id = sessions.hash_secret(client.cookies["sessionid"].value)
    assert bearer(device_login(alice)["token"]).delete(f"/api/v1/me/sessions/{browser_id}/").status_code == 204
    assert client.get("/accounts/sessions/").status_code == 302


def test_password_reset_by_e_mail_ends_every_session(
    alice: User,
    device_login: Callable[..., Any],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    token = device_login(alice)["token"]
    client = browser()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": alice.email})
    assert response.status_code == 200
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/reset/\S+/", mail.outbox[0].body)
    assert link is not None
    path = link.group(0).split("8000", 1)[1]
    # The token leaves the URL (and so the Referer header) before any page is shown.
    moved = client.get(path)
    assert moved.status_code == 302
    form_path = moved["Location"]
    assert form_path.endswith("/set-password/")
    assert client.get(form_path).status_code == 200
    new = "a brand new passphrase 7"
    done = client.post(form_path, {"new_password": new, "new_password_again": new})
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert bearer(token).get("/api/v1/me/").status_code == 401
    again = client.get(path)
    assert client.get(again["Location"]).status_code == 400  # the link worked once
    assert ActivityLog.objects.filter(owner_id=alice.id, action=Action.PASSWORD_RESET).exists()


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(
    eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = browser().post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 200
    assert b"If an account has this address" in response.content
    assert mail.outbox == []


def test_password_reset_through_the_api(
    alice: User, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    api = bearer("unused")
    api.credentials()
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/auth/password-reset/", {"email": alice.email}).status_code == 202
    body = mail.outbox[0].body
    uid = re.search(r'uid "([^"]+)"', body).group(1)  # type: ignore[union-attr]
    token = re.search(r'token "([^"]+)"', body).group(1)  # type: ignore[union-attr]
    bad = api.post(
        "/api/v1/auth/password-reset/confirm/", {"uid": uid, "token": "x-y", "new_password": "whatever 12345"}
    )
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["token"]
    good = api.post(
        "/api/v1/auth/password-reset/confirm/", {"uid": uid, "token": token, "new_password": "whatever 12345"}
    )
    assert good.status_code == 200


def test_the_admin_deactivates_a_user_and_ends_their_sessions(
    alice: User, bob: User, device_login: Callable[..., Any]
) -> None:
    token = device_login(bob)["token"]
    alice.is_staff = alice.is_superuser = True
    alice.save(update_fields=["is_staff", "is_superuser"])
    admin = browser()
    admin.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    found = admin.get("/admin/accounts/user/", {"q": "bob"})
    assert b"bob@example.com" in found.content
    response = admin.post("/admin/accounts/user/", {"action": "deactivate", "_selected_action": [str(bob.id)]})
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.is_active is False
    assert sessions.find_by_secret(token) is None
    entry = ActivityLog.objects.get(action=Action.USER_DEACTIVATE)
    assert (entry.actor_id, entry.owner_id) == (alice.id, bob.id)


def test_the_admin_shows_the_activity_log_read_only(alice: User) -> None:
    alice.is_staff = alice.is_superuser = True
    alice.save(update_fields=["is_staff", "is_superuser"])
    admin = browser()
    admin.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    listing = admin.get("/admin/accounts/activitylog/", {"action": "login"})
    assert listing.status_code == 200
    assert '<link rel="icon" href="/static/personalpod/favicon.svg"' in listing.content.decode()  # not /favicon.ico
    row = ActivityLog.objects.get(action=Action.LOGIN)
    assert admin.get(f"/admin/accounts/activitylog/{row.id}/delete/").status_code == 403
    row_link = f"/admin/accounts/activitylog/{row.id}/change/"
    assert row_link in admin.get("/admin/accounts/activitylog/", {"q": alice.email.upper()}).content.decode()
    assert row_link not in admin.get("/admin/accounts/activitylog/", {"q": "nobody@example.com"}).content.decode()


def test_staff_sign_in_to_the_admin_through_the_throttled_logged_page(alice: User) -> None:
    response = browser().get("/admin/login/", {"next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_signing_in_leaves_one_session_record(alice: User) -> None:
    from accounts.dynamo import SessionItem

    client = browser()
    client.get("/accounts/login/")
    client.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    key = client.cookies["sessionid"].value
    records = list(SessionItem.query(f"SESSION#{sessions.hash_secret(key)}"))
    assert [r.sk for r in records] == [f"USER#{alice.id}"]


def test_a_browser_cookie_is_not_a_bearer_token(alice: User) -> None:
    client = browser()
    client.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    assert bearer(client.cookies["sessionid"].value).get("/api/v1/me/").status_code == 401


def test_a_sessions_outage_is_a_503_and_keeps_the_cookie(alice: User, dynamodb_outage: Any) -> None:
    from accounts.dynamo import SessionItem

    client = browser()
    client.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    dynamodb_outage.down(SessionItem)
    page = client.get("/accounts/sessions/")
    assert page.status_code == 503
    assert "sessionid" not in page.cookies or page.cookies["sessionid"].value
    dynamodb_outage.up()
    assert client.get("/accounts/sessions/").status_code == 200


def test_reset_links_never_reach_the_request_log() -> None:
    from personalpod.logs import loggable_path

    assert loggable_path("/accounts/reset/MDFh/abc-123def/") == "/accounts/reset/MDFh/[redacted]/"
