"""Pull: snapshot, ordered changes after a cursor, tombstones, grantees' devices, reset_required,
behind, acknowledgement, and bad cursors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone

from accounts.models import User
from entries.models import Change
from entries.models import Status as EntryStatus
from entries.services.bulk import bulk_change
from entries.services.entries import create_entry, update_entry
from entries.services.lifecycle import delete_entry_forever, set_status
from sharing.services import create_share, revoke_share
from sync.models import Device
from sync.queue import Status
from sync.tests.clients import op, publish
from sync.tests.helpers import queue_items

pytestmark = pytest.mark.django_db


def test_a_first_pull_is_a_snapshot_paged_to_a_cursor_at_its_end(alice: User, bob: User, sync_device: Any) -> None:
    notes = [create_entry(actor=alice, type="note", title=f"N{n}") for n in range(5)]
    set_status(actor=alice, entry_id=notes[0].id, status=EntryStatus.DELETED)
    create_entry(actor=bob, type="note", title="Bob's")
    laptop = sync_device(alice, "Laptop")
    first = laptop.pull(limit=2)
    assert first["has_more"]
    assert first["snapshot"]
    assert len(first["changes"]) == 2
    second = laptop.pull(first["cursor"], limit=2)
    third = laptop.pull(second["cursor"], limit=2)
    assert not third["has_more"]
    changes = first["changes"] + second["changes"] + third["changes"]
    assert sorted(c["entry_id"] for c in changes) == sorted(str(n.id) for n in notes)  # the trash too
    trashed = next(c for c in changes if c["entry_id"] == str(notes[0].id))
    assert trashed["deleted"]
    assert trashed["entry"]["status"] == "deleted"
    assert laptop.pull(third["cursor"])["changes"] == []  # nothing after the snapshot


def test_changes_come_in_order_with_current_states_and_move_the_cursor(alice: User, sync_device: Any) -> None:
    laptop, phone = sync_device(alice, "Laptop"), sync_device(alice, "Phone")
    laptop.pull_all()
    phone.pull_all()
    (created,) = phone.push(op("create", type="note", title="From phone"))["results"]
    entry_id = created["entry"]["id"]
    update_entry(actor=alice, entry_id=entry_id, changes={"title": "Edited on the web"})
    publish(alice)
    changes = laptop.pull_all()
    assert [(c["op"], c["entry_id"], c["entry"]["title"]) for c in changes] == [
        ("create", entry_id, "Edited on the web"),
        ("update", entry_id, "Edited on the web"),
    ]
    assert changes[0]["seq"] < changes[1]["seq"]
    # The phone gets the web edit, not its own create back.
    assert [(c["op"], c["entry"]["title"]) for c in phone.pull_all()] == [("update", "Edited on the web")]


def test_pulling_acknowledges_up_to_the_cursor(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    laptop.pull_all()
    for n in range(3):
        create_entry(actor=alice, type="note", title=f"N{n}")
    publish(alice)
    answer = laptop.pull(laptop.cursor)
    assert {i.status for i in queue_items(alice)} == {Status.PENDING}  # not yet: the device has not applied them
    laptop.pull(answer["cursor"])
    device = laptop.device
    assert device.last_pulled_seq == 3
    assert device.last_seen_at is not None
    assert {i.status for i in queue_items(alice)} == {Status.DELIVERED}


def test_trash_and_deletion_arrive_as_tombstones(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    kept, gone = (create_entry(actor=alice, type="note", title=t) for t in ("Kept", "Gone"))
    laptop.pull_all()
    set_status(actor=alice, entry_id=kept.id, status=EntryStatus.DELETED)
    delete_entry_forever(actor=alice, entry_id=gone.id)
    publish(alice)
    trash, delete = laptop.pull_all()
    assert (trash["op"], trash["deleted"], trash["entry"]["status"]) == ("trash", True, "deleted")
    assert (delete["op"], delete["deleted"], delete["entry"]) == ("delete", True, None)


def test_grantee_devices_receive_shared_edits_and_a_tombstone_on_revocation(
    alice: User, bob: User, sync_device: Any
) -> None:
    tablet = sync_device(bob, "Tablet")
    tablet.pull_all()
    entry = create_entry(actor=alice, type="note", title="Shared plan")
    share = create_share(actor=alice, entry_id=entry.id, grantee=bob.email, permission="write").share
    update_entry(actor=alice, entry_id=entry.id, changes={"content": "step 1"})
    publish(alice, bob)
    shared, edited = tablet.pull_all()
    assert (shared["op"], shared["entry"]["content"], edited["op"]) == ("share", "step 1", "update")
    revoke_share(actor=alice, share_id=share.id)
    publish(alice, bob)
    (revoked,) = tablet.pull_all()
    assert (revoked["op"], revoked["deleted"], revoked["entry"]) == ("unshare", True, None)


def test_a_grantee_push_reaches_the_owners_devices(alice: User, bob: User, sync_device: Any) -> None:
    laptop, tablet = sync_device(alice, "Laptop"), sync_device(bob, "Tablet")
    entry = create_entry(actor=alice, type="note", title="Together")
    create_share(actor=alice, entry_id=entry.id, grantee=bob.email, permission="write")
    laptop.pull_all()
    tablet.pull_all()
    (result,) = tablet.push(op("update", entry.id, 1, content="bob was here"))["results"]
    assert result["outcome"] == "applied"
    publish(alice, bob)
    assert [c["entry"]["content"] for c in laptop.pull_all()] == ["bob was here"]
    assert tablet.pull_all() == []  # its own change


def test_pull_ordering_across_a_thousand_changes(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    laptop.pull_all()
    notes = [create_entry(actor=alice, type="note", title=f"N{n}") for n in range(100)]
    for round_ in range(9):  # 100 changes a transaction
        bulk_change(actor=alice, action="tag", ids=[note.id for note in notes], tags=[f"r{round_}"])
    publish(alice)
    changes = laptop.pull_all(limit=300)
    assert [c["seq"] for c in changes] == list(range(1, 1001))
    assert [c["op"] for c in changes] == ["create"] * 100 + ["update"] * 900
    assert [c["entry_id"] for c in changes[100:200]] == sorted(str(note.id) for note in notes)
    assert {len(c["entry"]["tags"]) for c in changes} == {9}  # each with the entry's current state
    laptop.pull_all()
    assert laptop.device.last_pulled_seq == 1000


def test_unpublished_changes_make_the_pull_say_behind(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    laptop.pull_all()
    create_entry(actor=alice, type="note", title="Published")
    publish(alice)
    create_entry(actor=alice, type="note", title="Committed, not published")
    answer = laptop.pull(laptop.cursor)
    assert [c["entry"]["title"] for c in answer["changes"]] == ["Published"]
    assert (answer["behind"], answer["reached"], answer["has_more"]) == (True, 1, False)
    publish(alice)
    later = laptop.pull(answer["cursor"])
    assert [c["entry"]["title"] for c in later["changes"]] == ["Committed, not published"]
    assert "behind" not in later


def test_a_cursor_older_than_the_queue_requires_a_reset(alice: User, sync_device: Any, device_login: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    laptop.pull_all()
    create_entry(actor=alice, type="note", title="Old news")
    publish(alice)
    Change.objects.filter(user=alice, seq=1).update(created_at=timezone.now() - timedelta(days=31))
    answer = laptop.pull(laptop.cursor)
    assert (answer["reset_required"], answer["changes"], answer["cursor"]) == (True, [], None)
    assert [c["entry"]["title"] for c in laptop.pull()["changes"]] == ["Old news"]  # a fresh snapshot


def test_a_removed_and_re_signed_in_device_must_reset(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    laptop.pull_all()
    old_cursor = laptop.cursor
    create_entry(actor=alice, type="note", title="Meanwhile")
    publish(alice)
    device = laptop.device
    Device.objects.filter(id=device.id).update(registered_seq=1)  # as if removed and signed in again
    assert laptop.pull(old_cursor)["reset_required"] is True


def test_forged_foreign_and_garbage_cursors_are_refused(alice: User, bob: User, sync_device: Any) -> None:
    laptop, phone = sync_device(alice, "Laptop"), sync_device(alice, "Phone")
    bobs = sync_device(bob, "Laptop")
    cursor = laptop.pull()["cursor"]
    forged = signing.dumps({"d": str(laptop.device.id), "s": 99}, salt="not-ours")
    for client, bad in ((phone, cursor), (bobs, cursor), (laptop, "garbage"), (laptop, forged)):
        response = client.api.get("/api/v1/sync/pull", {"cursor": bad})
        assert response.status_code == 400
        assert "cursor" in response.json()["error"]["fields"]
    response = laptop.api.get("/api/v1/sync/pull", {"limit": 0})
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["fields"]


def test_pull_needs_a_device_sign_in(alice: User, api_client: Any, client: Any) -> None:
    assert client.get("/api/v1/sync/pull").status_code == 401
    client.force_login(alice)
    response = client.get("/api/v1/sync/pull")
    assert response.status_code == 400
    assert "device" in response.json()["error"]["fields"]


def test_pull_query_count_is_bounded(alice: User, sync_device: Any, django_assert_max_num_queries: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    laptop.pull_all()
    for n in range(30):
        create_entry(actor=alice, type="note", title=f"N{n}", tags=["a", "b"])
    publish(alice)
    with django_assert_max_num_queries(20):
        answer = laptop.pull(laptop.cursor)
    assert len(answer["changes"]) == 30
    with django_assert_max_num_queries(10):
        laptop.pull(limit=1000)
