"""Push: each operation's outcome (applied, merged, conflict with a copy, rejected), re-sends,
and batches refused as a whole."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection

from accounts.models import User
from entries.models import Entry, EntryVersion
from entries.services.entries import create_entry, update_entry
from sync.models import PushedOperation
from sync.tests.clients import op

pytestmark = pytest.mark.django_db


def test_create_and_update_at_the_current_version_are_applied(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    (created,) = laptop.push(op("create", type="note", title="Groceries", content="milk\n", tags=["home"]))["results"]
    assert created["outcome"] == "applied"
    assert created["version"] == 1
    entry_id = created["entry"]["id"]
    (updated,) = laptop.push(op("update", entry_id, 1, title="Groceries!"))["results"]
    assert (updated["outcome"], updated["version"], updated["entry"]["title"]) == ("applied", 2, "Groceries!")
    entry = Entry.objects.get(id=entry_id)
    assert (entry.title, entry.version, entry.owner_id) == ("Groceries!", 2, alice.id)


def test_edits_to_different_fields_merge(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    entry = create_entry(actor=alice, type="note", title="Plan", content="one\ntwo\nthree\n", tags=["a"])
    update_entry(actor=alice, entry_id=entry.id, changes={"title": "Plan v2", "tags": ["a", "b"]})  # elsewhere
    (result,) = laptop.push(op("update", entry.id, 1, content="one\ntwo\nthree\nfour\n", tags=["a", "c"]))["results"]
    assert result["outcome"] == "merged"
    assert result["version"] == 3
    entry.refresh_from_db()
    assert (entry.title, entry.content) == ("Plan v2", "one\ntwo\nthree\nfour\n")
    assert sorted(t.name for t in entry.tags.all()) == ["a", "b", "c"]
    assert EntryVersion.objects.filter(entry=entry).count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_update_that_keeps_losing_the_race_still_lands(
    alice: User, sync_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync import push

    laptop = sync_device(alice, "Laptop")
    entry = create_entry(actor=alice, type="note", title="Busy", content="one\n")
    real = push._update_once
    writers: list[threading.Thread] = []

    def another_device_writes_first(user: User, operation: Any, current: Entry, *args: Any) -> Any:
        n = len(writers)

        def write() -> None:
            try:
                update_entry(actor=alice, entry_id=current.id, changes={"title": f"Busy {n}"})
            finally:
                connection.close()

        writers.append(threading.Thread(target=write))
        writers[-1].start()
        writers[-1].join(timeout=2)  # done at once, unless this try holds the owner's lock
        return real(user, operation, current, *args)

    monkeypatch.setattr(push, "_update_once", another_device_writes_first)
    (result,) = laptop.push(op("update", entry.id, 1, content="one\ntwo\n"))["results"]
    assert result["outcome"] == "merged"
    assert len(writers) == push._ATTEMPTS
    writers[-1].join(timeout=30)  # the write that waited for the lock lands after
    entry.refresh_from_db()
    assert (entry.title, entry.content) == (f"Busy {push._ATTEMPTS - 1}", "one\ntwo\n")


def test_note_content_merges_line_by_line(alice: User, sync_device: Any) -> None:
    phone = sync_device(alice, "Phone")
    entry = create_entry(actor=alice, type="note", title="List", content="a\nb\nc\nd\n")
    update_entry(actor=alice, entry_id=entry.id, changes={"content": "A\nb\nc\nd\n"})
    (result,) = phone.push(op("update", entry.id, 1, content="a\nb\nc\nD\n"))["results"]
    assert result["outcome"] == "merged"
    assert result["entry"]["content"] == "A\nb\nc\nD\n"


def test_same_field_edits_conflict_and_keep_a_copy(alice: User, sync_device: Any) -> None:
    phone = sync_device(alice, "Phone")
    entry = create_entry(actor=alice, type="note", title="Trip", content="day 1\n", tags=["travel"])
    update_entry(actor=alice, entry_id=entry.id, changes={"content": "day 1: Paris\n"})
    (result,) = phone.push(op("update", entry.id, 1, content="day 1: Rome\n", title="Trip (phone)"))["results"]
    assert result["outcome"] == "conflict"
    assert result["conflict"] == {
        "content": {"base": "day 1\n", "current": "day 1: Paris\n", "incoming": "day 1: Rome\n"}
    }
    entry.refresh_from_db()
    assert (entry.title, entry.content, entry.version) == ("Trip", "day 1: Paris\n", 2)  # nothing overwritten
    assert result["entry"]["content"] == "day 1: Paris\n"
    copy = Entry.objects.get(conflict_of=entry)
    assert (copy.title, copy.content, copy.owner_id) == ("Trip (phone)", "day 1: Rome\n", alice.id)
    assert sorted(t.name for t in copy.tags.all()) == ["conflict", "travel"]
    assert result["copy"]["id"] == str(copy.id)
    assert result["copy"]["conflict_of"] == str(entry.id)


def test_conflicting_secret_fields_are_redacted(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    entry = create_entry(
        actor=alice, type="password", title="Bank", fields={"username": "al", "secret": "old-secret-1"}
    )
    update_entry(actor=alice, entry_id=entry.id, changes={"fields": {"secret": "server-secret-2"}})
    (result,) = laptop.push(op("update", entry.id, 1, fields={"secret": "device-secret-3"}))["results"]
    assert result["outcome"] == "conflict"
    body = str(result)
    assert "secret-1" not in body
    assert "secret-2" not in body
    assert "secret-3" not in body
    assert result["conflict"]["fields"]["incoming"]["secret"] is None
    copy = Entry.objects.get(conflict_of=entry)
    assert b"device-secret-3" not in bytes(copy.content_encrypted or b"")  # sealed, not plain
    from entries.crypto import envelope

    assert envelope.unseal(copy.id, alice.id, copy.content_encrypted)["fields.secret"] == "device-secret-3"


def test_a_resent_operation_returns_its_first_outcome_and_applies_nothing(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    create = op("create", type="note", title="Once")
    first = laptop.push(create)["results"][0]
    again = laptop.push(create)["results"][0]
    assert again["replayed"] is True
    assert {k: v for k, v in again.items() if k != "replayed"} == first
    assert Entry.objects.filter(owner=alice, title="Once").count() == 1
    update = op("update", first["entry"]["id"], 1, content="more")
    laptop.push(update)
    assert laptop.push(update)["results"][0]["outcome"] == "applied"
    assert Entry.objects.get(owner=alice).version == 2
    assert PushedOperation.objects.filter(user=alice).count() == 2


def test_pushed_operations_are_forgotten_after_the_memory_period(alice: User, sync_device: Any, settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from sync.push import forget_old_operations

    laptop = sync_device(alice, "Laptop")
    laptop.push(op("create", type="note", title="Old"), op("create", type="note", title="New"))
    old = PushedOperation.objects.filter(user=alice).order_by("id").first()
    assert old is not None
    PushedOperation.objects.filter(id=old.id).update(
        created_at=timezone.now() - timedelta(days=settings.SYNC_PUSH_MEMORY_DAYS, seconds=1)
    )
    assert forget_old_operations() == 1
    assert list(PushedOperation.objects.filter(user=alice).values_list("id", flat=True)) != [old.id]
    assert PushedOperation.objects.filter(user=alice).count() == 1


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        (lambda e, other: op("update", e.id, 5, title="x"), "version_from_future"),
        (lambda e, other: op("update", uuid.uuid4(), 1, title="x"), "not_found"),
        (lambda e, other: op("update", other.id, 1, title="x"), "not_found"),
        (lambda e, other: op("update", e.id, 1, title=""), "invalid"),
        (lambda e, other: op("update", e.id, 1, colour="red"), "invalid"),
        (lambda e, other: op("create", type="note"), "invalid"),
        (lambda e, other: op("delete", other.id), "not_found"),
    ],
)
def test_bad_operations_are_rejected_one_by_one(
    alice: User, bob: User, sync_device: Any, operation: Any, code: str
) -> None:
    laptop = sync_device(alice, "Laptop")
    entry = create_entry(actor=alice, type="note", title="Mine")
    others = create_entry(actor=bob, type="note", title="Bob's")
    good = op("update", entry.id, 1, content="fine")
    bad, after = operation(entry, others), op("create", type="note", title="After")
    results = laptop.push(bad, good, after)["results"]
    assert results[0]["outcome"] == "rejected"
    assert results[0]["error"]["code"] == code
    assert [r["outcome"] for r in results[1:]] == ["applied", "applied"]
    entry.refresh_from_db()
    others.refresh_from_db()
    assert (entry.title, entry.content, others.title, others.version) == ("Mine", "fine", "Bob's", 1)


def test_a_reader_cannot_push_changes(alice: User, bob: User, sync_device: Any) -> None:
    from sharing.services import create_share

    entry = create_entry(actor=alice, type="note", title="Read only")
    create_share(actor=alice, entry_id=entry.id, grantee=bob.email, permission="read")
    (result,) = sync_device(bob, "Phone").push(op("update", entry.id, 1, title="Mine now"))["results"]
    assert (result["outcome"], result["error"]["code"]) == ("rejected", "forbidden")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "operations"),
        ({"operations": "all"}, "operations"),
        ({"operations": [op("create", type="note", title="x")] * 1 + [op("create", title="y")] * 500}, "operations"),
        ({"operations": [{"op_id": "nope", "op": "create", "changes": {"title": "x"}}]}, "operations.0.op_id"),
        ({"operations": [op("create", type="note", title="x"), op("explode")]}, "operations.1.op"),
        ({"operations": [op("update", uuid.uuid4(), title="x")]}, "operations.0.base_version"),
        ({"operations": [op("update", "not-an-id", 1, title="x")]}, "operations.0.entry"),
        ({"operations": [{**op("trash", uuid.uuid4()), "base_version": "two"}]}, "operations.0.base_version"),
    ],
)
def test_a_malformed_batch_is_refused_whole(alice: User, sync_device: Any, body: Any, field: str) -> None:
    laptop = sync_device(alice, "Laptop")
    response = laptop.api.post("/api/v1/sync/push", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Entry.objects.filter(owner=alice).exists()
    assert not PushedOperation.objects.exists()


def test_duplicate_operation_ids_in_one_batch_are_refused(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    twice = op("create", type="note", title="Twice")
    response = laptop.api.post("/api/v1/sync/push", {"operations": [twice, twice]}, format="json")
    assert response.status_code == 400
    assert "operations.1.op_id" in response.json()["error"]["fields"]
    assert not Entry.objects.filter(owner=alice).exists()


def test_trash_restore_and_delete_forever(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    entry = create_entry(actor=alice, type="note", title="Old")
    trashed, restored = laptop.push(op("trash", entry.id), op("restore", entry.id))["results"]
    assert (trashed["entry"]["status"], restored["entry"]["status"]) == ("deleted", "active")
    update_entry(actor=alice, entry_id=entry.id, changes={"title": "Newer"})
    (stale,) = laptop.push(op("delete", entry.id, 1))["results"]
    assert stale["outcome"] == "conflict"
    assert Entry.objects.filter(id=entry.id).exists()
    (deleted,) = laptop.push(op("delete", entry.id, 4))["results"]
    assert deleted["outcome"] == "applied"
    assert not Entry.objects.filter(id=entry.id).exists()


def test_push_needs_a_signed_in_user(client: Any) -> None:
    response = client.post("/api/v1/sync/push", {"operations": []}, content_type="application/json")
    assert response.status_code == 401


def test_push_query_count_is_bounded(alice: User, sync_device: Any, django_assert_max_num_queries: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    entries = [create_entry(actor=alice, type="note", title=f"N{n}") for n in range(5)]
    with django_assert_max_num_queries(40 * 5):
        laptop.push(*[op("update", e.id, 1, title=f"M{n}") for n, e in enumerate(entries)])


def test_an_editors_device_cannot_trash_the_owners_entry(alice: User, bob: User, sync_device: Any) -> None:
    from sharing.services import create_share

    entry = create_entry(actor=alice, type="note", title="Shared plan")
    create_share(actor=alice, entry_id=entry.id, grantee=bob.email, permission="write")
    (result,) = sync_device(bob, "Bob's phone").push(op("trash", entry.id))["results"]
    assert (result["outcome"], result["error"]["code"]) == ("rejected", "forbidden")
    assert Entry.objects.get(id=entry.id).status == "active"
