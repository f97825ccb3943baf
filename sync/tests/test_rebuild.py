"""manage.py rebuild_dynamo: the sync queue and the caches again, from PostgreSQL alone."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from entries.dynamo import SearchIndexItem
from personalpod import cache
from personalpod.cache import CacheItem
from sync import delivery
from sync.dynamo import SyncQueueItem
from sync.publisher import publish_changes
from sync.tests.helpers import queue_items

pytestmark = pytest.mark.django_db


def snapshot(user: User) -> list[dict[str, Any]]:
    return [item.attribute_values for item in queue_items(user)]


@pytest.fixture
def dropped_queue() -> Any:
    """Drop the sync queue table; make sure it exists again afterwards for the other tests."""
    yield lambda: SyncQueueItem.delete_table()
    if not SyncQueueItem.exists():
        SyncQueueItem.create_table(wait=True)


def test_rebuild_restores_a_dropped_queue_table_to_the_same_items(
    alice: User, bob: User, add_device: Any, write_notes: Any, dropped_queue: Any
) -> None:
    add_device(alice, "Laptop")
    phone = add_device(alice, "Phone")
    add_device(bob)
    write_notes(alice, 4, origin_device=phone.id)
    write_notes(alice, 3)
    write_notes(bob, 2)
    publish_changes(user_id=alice.id)
    publish_changes(user_id=bob.id)
    before = {user.id: snapshot(user) for user in (alice, bob)}
    assert len(before[alice.id]) == 4 + 3 * 2

    dropped_queue()
    out = StringIO()
    call_command("rebuild_dynamo", stdout=out)

    assert "sync_queue: created" in out.getvalue()
    assert {user.id: snapshot(user) for user in (alice, bob)} == before


def test_rebuild_recreates_only_what_devices_have_not_pulled(
    alice: User, add_device: Any, write_notes: Any, dropped_queue: Any
) -> None:
    laptop = add_device(alice, "Laptop")
    add_device(alice, "Phone")
    write_notes(alice, 5)
    publish_changes(user_id=alice.id)
    delivery.acknowledge(laptop, 3)
    undelivered = [item for item in snapshot(alice) if item["status"] == "pending"]

    dropped_queue()
    call_command("rebuild_dynamo", "--user", "ALICE@example.com", stdout=StringIO())

    assert snapshot(alice) == undelivered
    assert len(undelivered) == 5 + 2


def test_rebuild_removes_items_that_postgres_does_not_explain(alice: User, add_device: Any, write_notes: Any) -> None:
    add_device(alice)
    write_notes(alice, 2)
    publish_changes(user_id=alice.id)
    wanted = snapshot(alice)
    stray = queue_items(alice)[0]
    stray.sk = stray.sk.replace("#000000000001:", "#000000000099:")
    stray.save()
    call_command("rebuild_dynamo", "--user", "alice", stdout=StringIO())
    assert snapshot(alice) == wanted


def test_rebuild_drops_stale_cache_items_and_keeps_current_ones(alice: User, bob: User, write_notes: Any) -> None:
    write_notes(alice, 2)  # change_seq 2
    for version in (1, 2):
        cache.store(alice.id, "statistics", "", version, {"v": version})
    cache.store(bob.id, "statistics", "", 0, {"v": 0})
    for seq, term in ((1, "old"), (2, "new")):
        SearchIndexItem(
            f"USER#{alice.id}", f"SEARCH#fulltext#{term}", gsi1pk="x", gsi1sk="y", change_seq=seq,
            results={}, expires_at=timezone.now() + timedelta(hours=1),
        ).save()  # fmt: skip

    out = StringIO()
    call_command("rebuild_dynamo", "--user", str(alice.id), stdout=out)

    keys = {(item.pk, item.sk) for item in CacheItem.scan() if str(alice.id) in item.pk or str(bob.id) in item.pk}
    assert keys == {cache.item_key(alice.id, "statistics", "", 2), cache.item_key(bob.id, "statistics", "", 0)}
    assert [item.sk for item in SearchIndexItem.query(f"USER#{alice.id}")] == ["SEARCH#fulltext#new"]
    assert "1 stale cache items and 1 stale search pages dropped" in out.getvalue()


def test_rebuild_names_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="nobody"):
        call_command("rebuild_dynamo", "--user", "nobody", stdout=StringIO())


def test_rebuild_leaves_items_of_changes_newer_than_itself(alice: User, add_device: Any, write_notes: Any) -> None:
    add_device(alice)
    write_notes(alice, 1)
    publish_changes(user_id=alice.id)
    # A change committed and published while the rebuild runs: not the rebuild's to judge.
    newer = queue_items(alice)[0]
    newer.sk, newer.seq = newer.sk.replace("#000000000001:", "#000000000002:"), 2
    newer.save()
    call_command("rebuild_dynamo", "--user", "alice", stdout=StringIO())
    assert [item.seq for item in queue_items(alice)] == [1, 2]
