"""verify_consistency: clean after a run of real writes (published to the sync queue, caches
warmed), and failing loudly when a row or an item is removed or changed by hand."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pgtrigger
import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import ActivityLog, User
from entries import services
from entries.attachments.selectors import storage_stats
from entries.attachments.services import add_attachment, delete_attachment
from entries.models import Change, EntryVersion
from entries.overview import _categories_version, category_tree_counts, statistics
from personalpod.cache import CacheItem, item_key
from sharing.services import create_share
from sync import queue
from sync.delivery import acknowledge
from sync.devices import register_device
from sync.dynamo import SyncQueueItem

# Real commits: the on-commit hooks publish to the sync queue, and cache-aside reads store
# their values, exactly as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager() -> Iterator[None]:
    from personalpod.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def writes(alice: User, bob: User, eager: None) -> dict[str, Any]:
    """A run of writes of every kind, each committed and published as in production."""
    laptop = register_device(user=alice, device_id=uuid.uuid4(), name="Laptop")
    register_device(user=bob, device_id=uuid.uuid4(), name="Phone")
    work = services.create_category(actor=alice, name="Clients")
    note = services.create_entry(actor=alice, type="note", title="Plan", tags=["q1"], category=work.id)
    login = services.create_entry(actor=alice, type="password", title="Bank", fields={"secret": "pw"})
    services.update_entry(actor=alice, entry_id=note.id, changes={"content": "ship it", "tags": ["q2"]})
    services.set_status(actor=alice, entry_id=login.id, status="archived")
    services.update_category(actor=alice, category_id=work.id, name="Customers")
    services.bulk_change(actor=alice, action="tag", ids=[str(note.id), str(login.id)], tags=["all"])
    file = add_attachment(actor=alice, entry_id=note.id, file=ContentFile(b"hello", name="a.txt"), name="a.txt")
    delete_attachment(actor=alice, entry_id=note.id, attachment_id=file.id)
    create_share(actor=alice, entry_id=note.id, grantee="bob@example.com")
    services.update_entry(actor=alice, entry_id=note.id, changes={"title": "Plan B"})
    gone = services.create_entry(actor=alice, type="note", title="Scratch")
    services.delete_entry_forever(actor=alice, entry_id=gone.id)
    acknowledge(laptop, 3)  # the laptop has pulled part of the feed
    alice.refresh_from_db()
    statistics(alice)  # cache-aside reads store their values under the current version
    storage_stats(alice)
    category_tree_counts(alice)
    return {"note": note, "login": login, "laptop": laptop}


def test_clean_after_a_run_of_writes(writes: dict[str, Any], alice: User, capsys: pytest.CaptureFixture[str]) -> None:
    assert SyncQueueItem.count(queue.user_key(alice.id)) > 0  # the checks below have something to compare
    assert Change.objects.filter(user=alice, published_at__isnull=True).count() == 0
    for cache_type, key in (
        ("statistics", ""),
        ("storage_stats", ""),
        ("category_tree", _categories_version(alice.id)),
    ):
        assert CacheItem.count(item_key(alice.id, cache_type, key, alice.change_seq)[0]) == 1  # values to compare

    call_command("verify_consistency")

    assert "2 user(s) checked: PostgreSQL, the sync queue and the caches agree" in capsys.readouterr().out


def _delete_change(writes: dict[str, Any], alice: User) -> str:
    Change.objects.filter(user=alice, seq=4).delete()
    return "missing seq 4"


def _delete_history(writes: dict[str, Any], alice: User) -> str:
    EntryVersion.objects.filter(entry=writes["note"], version=2).delete()
    return f"entry {writes['note'].id} is at version"


def _delete_activity(writes: dict[str, Any], alice: User) -> str:
    note = writes["note"]
    note.refresh_from_db()
    with pgtrigger.ignore("accounts.ActivityLog:append_only"):
        ActivityLog.objects.filter(target_id=str(note.id), metadata__version=note.version).delete()
    return f"entry {note.id} version {note.version} has no activity-log row"


def _delete_queue_item(writes: dict[str, Any], alice: User) -> str:
    change = Change.objects.filter(user=alice).order_by("-seq").first()
    assert change is not None
    SyncQueueItem(queue.user_key(alice.id), queue.sort_key(change.created_at, change.seq, writes["laptop"].id)).delete()
    return f"sync queue lacks seq {change.seq}"


def _change_queue_item(writes: dict[str, Any], alice: User) -> str:
    change = Change.objects.filter(user=alice).order_by("-seq").first()
    assert change is not None
    item = SyncQueueItem.get(
        queue.user_key(alice.id), queue.sort_key(change.created_at, change.seq, writes["laptop"].id)
    )
    item.update(actions=[SyncQueueItem.operation.set("update" if item.operation != "update" else "create")])
    return "differs: operation"


def _orphan_queue_item(writes: dict[str, Any], alice: User) -> str:
    SyncQueueItem(
        queue.user_key(alice.id), "TIMESTAMP#2030-01-01T00:00:00.000000Z#000000000999:x", device_key="DEVICE#x",
        seq=999, operation="create", expires_at=timezone.now() + timedelta(days=1),
    ).save()  # fmt: skip
    return "matches no change"


def _stale_cache(writes: dict[str, Any], alice: User) -> str:
    pk, sk = item_key(alice.id, "statistics", "", alice.change_seq)
    item = CacheItem.get(pk, sk)
    item.update(actions=[CacheItem.value.set({**item.value, "entry_count": 99})])
    return "cache statistics at version"


def _unpublished(writes: dict[str, Any], alice: User) -> str:
    Change.objects.filter(user=alice, seq=2).update(published_at=None, created_at=timezone.now() - timedelta(hours=1))
    return "1 change(s) unpublished for more than"


def _raw_sql_gap(writes: dict[str, Any], alice: User) -> str:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET change_seq = change_seq + 1 WHERE id = %s", [alice.id])
    return "change feed has"


@pytest.mark.parametrize(
    "tamper",
    [_delete_change, _delete_history, _delete_activity, _delete_queue_item, _change_queue_item, _orphan_queue_item,
     _stale_cache, _unpublished, _raw_sql_gap],
)  # fmt: skip
def test_fails_after_a_row_or_item_is_changed_by_hand(
    writes: dict[str, Any], alice: User, tamper: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    alice.refresh_from_db()
    expected = tamper(writes, alice)

    with pytest.raises(CommandError, match=r"mismatch\(es\) in 2 user\(s\)"):
        call_command("verify_consistency")

    out = capsys.readouterr().out
    assert expected in out
    assert all(line.startswith("alice@example.com: ") for line in out.splitlines())  # Bob's data is fine


def test_checks_one_user_when_asked(writes: dict[str, Any], alice: User, capsys: pytest.CaptureFixture[str]) -> None:
    Change.objects.filter(user=alice, seq=4).delete()
    call_command("verify_consistency", user=["bob@example.com"])
    assert "1 user(s) checked" in capsys.readouterr().out
    with pytest.raises(CommandError, match=r"no account with the e-mail address nobody@example\.com"):
        call_command("verify_consistency", user=["nobody@example.com"])


def test_older_cache_versions_cannot_be_served_and_are_not_mismatches(
    writes: dict[str, Any], alice: User, capsys: pytest.CaptureFixture[str]
) -> None:
    pk, _ = item_key(alice.id, "statistics", "", 0)
    CacheItem(pk, "VERSION#1", value={"entry_count": -1}, expires_at=timezone.now() + timedelta(hours=1)).save()
    call_command("verify_consistency")
    assert "agree" in capsys.readouterr().out
