"""Sharing and the change feed, lock order, expiry housekeeping, query plans, and the admin."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import ActivityLog, User
from accounts.tests.factories import UserFactory
from entries import services as entry_services
from entries.models import Change, Entry
from entries.selectors import entries_for_reader
from sharing import services
from sharing.models import Share
from sharing.tasks import record_expired_shares_task
from sharing.tests.conftest import client_for

MakeEntry = Callable[..., dict[str, Any]]
MakeShare = Callable[..., dict[str, Any]]


@pytest.mark.django_db
def test_every_change_to_a_shared_entry_reaches_the_grantees_feed(
    alice: User, bob: User, carol: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice)
    share(alice, entry["id"], grantee="bob")
    share(alice, entry["id"], link=True)
    api, url = client_for(alice), f"/api/v1/entries/{entry['id']}/"
    api.patch(url, {"title": "renamed"}, format="json", HTTP_IF_MATCH='"1"')
    api.delete(url)
    api.delete(f"{url}?forever=1")
    assert list(Change.objects.filter(user=bob).order_by("seq").values_list("seq", "operation", "entry_version")) == [
        (1, "share", 1), (2, "update", 2), (3, "trash", 3), (4, "delete", 3),
    ]  # fmt: skip
    assert not Change.objects.filter(user=carol).exists()


@pytest.mark.django_db
def test_housekeeping_notes_expired_shares_once_and_tells_the_grantee(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare, django_capture_on_commit_callbacks: Any
) -> None:
    soon = (timezone.now() + timedelta(hours=1)).isoformat()
    entry = make_entry(alice)
    user_share = share(alice, entry["id"], grantee="bob", expires_at=soon)
    link = share(alice, entry["id"], link=True, expires_at=soon)
    lasting = share(alice, make_entry(alice)["id"], grantee="bob")
    Share.objects.filter(id__in=[user_share["id"], link["id"]]).update(expires_at=timezone.now() - timedelta(minutes=1))

    record_expired_shares_task.apply()
    assert services.record_expired_shares() == 0  # safe to run again

    assert set(Share.objects.filter(expiry_recorded_at__isnull=False).values_list("id", flat=True)) == {
        Share.objects.get(id=user_share["id"]).id, Share.objects.get(id=link["id"]).id,
    }  # fmt: skip
    assert Share.objects.get(id=lasting["id"]).expiry_recorded_at is None
    unshares = Change.objects.filter(user=bob, operation="unshare")
    assert list(unshares.values_list("entry_id", flat=True)) == [Entry.objects.get(id=entry["id"]).id]
    logged = ActivityLog.objects.filter(action="unshare", metadata__reason="expired")
    assert sorted(row.metadata["kind"] for row in logged) == ["link", "user"]
    assert {row.owner_id for row in logged} == {alice.id}
    # The person may be given a new share of the entry now.
    share(alice, entry["id"], grantee="bob")


@pytest.mark.django_db
def test_a_new_share_may_replace_an_expired_one_not_yet_noted(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice)
    old = share(alice, entry["id"], grantee="bob", expires_at=(timezone.now() + timedelta(hours=1)).isoformat())
    Share.objects.filter(id=old["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    new = share(alice, entry["id"], grantee="bob", permission="write")
    assert Share.objects.get(id=old["id"]).expiry_recorded_at is not None
    assert client_for(bob).get(f"/api/v1/shared-with-me/{entry['id']}/").json()["share"]["id"] == new["id"]


def test_beat_runs_the_housekeeping_every_minute() -> None:
    job = settings.CELERY_BEAT_SCHEDULE["record-expired-shares"]
    assert job["task"] == "sharing.tasks.record_expired_shares_task"
    assert job["schedule"] == timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_people_sharing_with_each_other_can_write_at_once_without_deadlock() -> None:
    alice, bob = UserFactory(), UserFactory()
    hers = entry_services.create_entry(actor=alice, type="note", title="hers")
    his = entry_services.create_entry(actor=bob, type="note", title="his")
    services.create_share(actor=alice, entry_id=hers.id, grantee=bob.username, permission="write")
    services.create_share(actor=bob, entry_id=his.id, grantee=alice.username, permission="write")
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def write(writer: int, actor: User, entries: list[Entry]) -> None:
        try:
            start.wait()
            for n in range(6):
                for entry in entries:
                    entry_services.update_entry(actor=actor, entry_id=entry.id, changes={"content": f"{writer}-{n}"})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=write, args=(1, alice, [hers, his])),
        threading.Thread(target=write, args=(2, bob, [his, hers])),
        threading.Thread(target=write, args=(3, alice, [his, hers])),
        threading.Thread(target=write, args=(4, bob, [hers, his])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for user in (alice, bob):
        seqs = list(Change.objects.filter(user=user).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))  # no gaps
        assert len(seqs) == 1 + 1 + 4 * 6 * 2  # create, share, every update of both entries
    assert Entry.objects.get(id=hers.id).version == Entry.objects.get(id=his.id).version == 1 + 4 * 6


@pytest.mark.django_db
@pytest.mark.parametrize("searching", [True, False])
def test_reads_with_shares_keep_to_indexes(alice: User, bob: User, searching: bool) -> None:
    """The owner's part of a read uses the owner's index, ORed with the shared ids (BitmapOr);
    an OR-ed EXISTS or IN subquery would leave PostgreSQL no way but to read every entry."""
    shared = entry_services.create_entry(actor=bob, type="note", title="shared")
    services.create_share(actor=bob, entry_id=shared.id, grantee="alice")
    entry_services.create_entry(actor=alice, type="note", title="shared too")
    # Everyone else's entries, so that the planner knows the owner's part is the narrow one.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO entries_entry (id, owner_id, type, title, content, fields, is_sensitive, status, version,"
            " keywords, created_at, updated_at)"
            " SELECT gen_random_uuid(), %s, 'note', 'shared note ' || n, '', '{}', false, 'active', 1, '{}', now(), now()"
            " FROM generate_series(1, 3000) AS n",
            [bob.id],
        )
        cursor.execute("ANALYZE entries_entry")
    entries = entries_for_reader(reader=alice)
    if searching:
        entries = entries.filter(search_vector=SearchQuery("shared", config="english"))
    sql, params = entries.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # only index paths, if any exist
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "BitmapOr" in plan, plan
    assert "Seq Scan on entries_entry" not in plan, plan
    index_conditions = [line for line in plan.splitlines() if "Index Cond:" in line]
    assert any(f"owner_id = '{alice.id}'" in line for line in index_conditions), plan


@pytest.mark.django_db
def test_the_admin_lists_shares_by_state_and_revokes_through_the_service(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    staff = User.objects.create_superuser("support@example.com", "support", "a long staff password")
    entry = make_entry(alice, title="Admin case")
    user_share = share(alice, entry["id"], grantee="bob")
    link = share(alice, entry["id"], link=True, passphrase="hidden words")
    browser = Client()
    browser.force_login(staff)
    listed = browser.get("/admin/sharing/share/", {"state": "live", "kind": "link"})
    assert listed.status_code == 200
    html = listed.content.decode()
    assert link["id"] in html
    assert user_share["id"] not in html
    for by in ({"entry": entry["id"]}, {"owner": str(alice.id)}, {"grantee": str(bob.id)}):
        page = browser.get("/admin/sharing/share/", by)
        assert page.status_code == 200
        assert (user_share["id"] in page.content.decode(), link["id"] in page.content.decode()) == (
            True, "grantee" not in by,
        )  # fmt: skip
    for leaked in (link["token"], f"http://testserver/s/{link['token']}/"):  # the whole token finds its link
        found = browser.get("/admin/sharing/share/", {"q": leaked}).content.decode()
        assert link["id"] in found
        assert user_share["id"] not in found
    other = browser.get("/admin/sharing/share/", {"owner": str(bob.id)}).content.decode()
    assert user_share["id"] not in other
    detail = browser.get(f"/admin/sharing/share/{link['id']}/change/").content.decode()
    assert Share.objects.get(id=link["id"]).token_hash not in detail
    assert Share.objects.get(id=link["id"]).passphrase_hash not in detail
    revoked = browser.post(
        "/admin/sharing/share/",
        {"action": "revoke", "_selected_action": [user_share["id"], link["id"]]},
    )
    assert revoked.status_code == 302
    assert Share.objects.filter(revoked_at__isnull=True).count() == 0
    assert client_for(bob).get(f"/api/v1/entries/{entry['id']}/").status_code == 404
    assert Change.objects.filter(user=bob, operation="unshare").count() == 1
    logged = ActivityLog.objects.filter(action="unshare")
    assert {(row.actor_id, row.metadata["by_support"]) for row in logged} == {(staff.id, True)}
    for state in ("revoked", "expired", "exhausted"):
        assert browser.get("/admin/sharing/share/", {"state": state}).status_code == 200
