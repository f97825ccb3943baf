from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Action, ActivityLog, User
from accounts.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limits(settings: Any) -> None:
    settings.SIGNIN_ACCOUNT_LIMIT = 3
    settings.SIGNIN_IP_LIMIT = 5
    settings.SIGNIN_SLOW_AFTER = 100  # no sleeping in tests; the delay is checked on its own below


def attempt(email: str, password: str, ip: str) -> Any:
    return APIClient().post("/api/v1/auth/login/", {"email": email, "password": password}, REMOTE_ADDR=ip)


def test_an_account_is_locked_after_repeated_failures_even_for_the_right_password(alice: User, client_ip: str) -> None:
    statuses = [attempt(alice.email, "wrong", client_ip).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    locked = attempt(alice.email, PASSWORD, client_ip)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert locked.json()["error"]["code"] == "throttled"
    assert ActivityLog.objects.filter(owner_id=alice.id, action=Action.LOGIN_THROTTLED).count() == 1
    # The lock is on the account: the right password from elsewhere is refused too.
    assert attempt(alice.email, PASSWORD, "203.0.113.99").status_code == 429


def test_an_ip_is_locked_after_failures_across_accounts(client_ip: str, alice: User) -> None:
    for n in range(5):
        assert attempt(f"nobody{n}@example.com", "wrong", client_ip).status_code == 401
    assert attempt(alice.email, PASSWORD, client_ip).status_code == 429


def test_a_successful_sign_in_clears_the_account_count(alice: User, client_ip: str) -> None:
    attempt(alice.email, "wrong", client_ip)
    attempt(alice.email, "wrong", client_ip)
    assert attempt(alice.email, PASSWORD, client_ip).status_code == 200
    attempt(alice.email, "wrong", client_ip)
    assert attempt(alice.email, PASSWORD, client_ip).status_code == 200


def test_repeated_failures_are_slowed_before_the_lock(
    alice: User, client_ip: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SIGNIN_SLOW_AFTER = 1
    slept: list[float] = []
    monkeypatch.setattr("accounts.throttle.time.sleep", slept.append)
    attempt(alice.email, "wrong", client_ip)
    attempt(alice.email, "wrong", client_ip)
    assert slept == [0.25]
