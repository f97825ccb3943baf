from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.activity import log_activity, purge_activity
from accounts.models import Action, ActivityLog, User
from accounts.tests.conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounts_activitylog SET action = 'view'",
        "DELETE FROM accounts_activitylog",
    ],
)
def test_the_log_cannot_be_changed_or_deleted_with_plain_sql(alice: User, statement: str) -> None:
    log_activity(action=Action.LOGIN, actor=alice)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert ActivityLog.objects.filter(action=Action.LOGIN).count() == 1


def test_the_orm_cannot_delete_it_either(alice: User) -> None:
    row = log_activity(action=Action.LOGIN, actor=alice)
    with pytest.raises(DatabaseError), transaction.atomic():
        row.delete()


def test_the_retention_purge_deletes_old_rows_and_logs_itself(alice: User) -> None:
    old = log_activity(action=Action.LOGIN, actor=alice)
    recent = log_activity(action=Action.LOGOUT, actor=alice)
    # Rows cannot be backdated (they are immutable), so insert one with an old timestamp.
    long_ago = timezone.now() - timedelta(days=400)
    ancient = ActivityLog.objects.create(action=Action.VIEW, actor_id=alice.id, created_at=long_ago)
    assert purge_activity(before=timezone.now() - timedelta(days=365)) == 1
    assert not ActivityLog.objects.filter(id=ancient.id).exists()
    assert ActivityLog.objects.filter(id__in=[old.id, recent.id]).count() == 2
    purge = ActivityLog.objects.get(action=Action.ACTIVITY_PURGE)
    assert purge.metadata["deleted_count"] == 1
    with pytest.raises(DatabaseError), transaction.atomic():
        ActivityLog.objects.filter(id=old.id).delete()  # the exception ended with the purge


def test_metadata_may_not_hold_secrets(alice: User) -> None:
    with pytest.raises(ValueError, match="secrets"):
        log_activity(action=Action.UPDATE, actor=alice, metadata={"password": "hunter2"})


@pytest.fixture
def alice_api(alice: User, device_login: Callable[..., Any]) -> APIClient:
    return bearer(device_login(alice)["token"])


def test_activity_lists_only_the_users_own_rows_newest_first(alice: User, bob: User, alice_api: APIClient) -> None:
    log_activity(action=Action.VIEW, actor=bob, target_type="entry", target_id="bobs")
    log_activity(action=Action.VIEW, actor=alice, target_type="entry", target_id="e1")
    rows = alice_api.get("/api/v1/activity/").json()["results"]
    assert [r["action"] for r in rows] == ["view", "login"]
    assert all(r["owner_id"] == str(alice.id) for r in rows)


def test_activity_filters(alice: User, alice_api: APIClient) -> None:
    log_activity(action=Action.VIEW, actor=alice, target_type="entry", target_id="e1")
    log_activity(action=Action.VIEW, actor=alice, target_type="entry", target_id="e2")
    assert len(alice_api.get("/api/v1/activity/?action=view").json()["results"]) == 2
    assert len(alice_api.get("/api/v1/activity/?action=view,login").json()["results"]) == 3
    assert len(alice_api.get("/api/v1/activity/?target_type=entry&target_id=e2").json()["results"]) == 1
    future = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert alice_api.get("/api/v1/activity/", {"since": future}).json()["results"] == []
    assert len(alice_api.get("/api/v1/activity/", {"until": future}).json()["results"]) == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [({"action": "dance"}, "action"), ({"since": "yesterday"}, "since"),
     ({"since": "2026-01-02T00:00Z", "until": "2026-01-01T00:00Z"}, "until")],
)  # fmt: skip
def test_bad_activity_filters_name_the_field(alice_api: APIClient, query: dict[str, str], field: str) -> None:
    response = alice_api.get("/api/v1/activity/", query)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_activity_pages_with_a_cursor_in_a_bounded_number_of_queries(
    alice: User, alice_api: APIClient, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        log_activity(action=Action.VIEW, actor=alice, target_type="entry", target_id=f"e{n}")
    with django_assert_max_num_queries(3):
        first = alice_api.get("/api/v1/activity/?limit=20").json()
    assert len(first["results"]) == 20
    second = APIClient.get(alice_api, first["next"]).json()
    assert len(second["results"]) == 11
    assert second["next"] is None
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(set(ids)) == 31


def test_sign_in_and_out_and_failures_are_logged(alice: User, device_login: Callable[..., Any], client_ip: str) -> None:
    APIClient().post("/api/v1/auth/login/", {"email": alice.email, "password": "wrong"}, REMOTE_ADDR=client_ip)
    token = device_login(alice)["token"]
    bearer(token).post("/api/v1/auth/logout/")
    actions = list(
        ActivityLog.objects.filter(owner_id=alice.id).order_by("created_at").values_list("action", flat=True)
    )
    assert actions == ["login_failed", "login", "logout"]
    failed = ActivityLog.objects.get(action=Action.LOGIN_FAILED)
    assert failed.ip == client_ip
