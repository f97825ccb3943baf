"""The publisher against the real PostgreSQL and DynamoDB Local (called directly; the worker
and the faults are in test_faults.py)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from entries.models import Change
from entries.overview import statistics
from entries.services.entries import create_entry, update_entry
from personalpod import cache, metrics
from sync.dynamo import SyncQueueItem
from sync.publisher import PublishFailed, publish_changes, publish_everything
from sync.queue import Status, sort_key
from sync.tests.helpers import queue_items, unpublished

pytestmark = pytest.mark.django_db


def test_each_change_gets_one_item_per_device_except_its_origin(alice: User, add_device: Any) -> None:
    laptop, phone = add_device(alice, "Laptop"), add_device(alice, "Phone", "ios")
    note = create_entry(actor=alice, type="note", title="From the laptop", origin_device=laptop.id)
    update_entry(actor=alice, entry_id=note.id, changes={"title": "Edited on the web"}, expected_version=1)
    assert publish_changes(user_id=alice.id) == 2
    items = queue_items(alice)
    assert [(item.seq, item.device_key, item.operation, item.entry_version) for item in items] == sorted(
        [
            (1, f"DEVICE#{phone.id}", "create", 1),
            (2, f"DEVICE#{laptop.id}", "update", 2),
            (2, f"DEVICE#{phone.id}", "update", 2),
        ]
    )
    first = items[0]
    assert first.status == Status.PENDING
    assert first.entry_id == str(note.id)
    assert first.origin_device == str(laptop.id)
    assert first.attempts == 0
    assert unpublished(alice) == []


def test_queue_key_order_is_feed_order(alice: User, add_device: Any, write_notes: Any) -> None:
    add_device(alice)
    write_notes(alice, 30)
    publish_changes(user_id=alice.id)
    assert [item.seq for item in queue_items(alice)] == list(range(1, 31))


def test_feed_time_never_goes_backwards(alice: User, write_notes: Any) -> None:
    write_notes(alice, 1)
    # A clock that jumped back: the next change still sorts after the last one.
    future = timezone.now() + timedelta(minutes=5)
    Change.objects.filter(user=alice).update(created_at=future)
    write_notes(alice, 1)
    stamps = list(Change.objects.filter(user=alice).order_by("seq").values_list("created_at", flat=True))
    assert stamps[1] >= stamps[0] == future


def test_publishing_again_writes_the_same_items(alice: User, add_device: Any, write_notes: Any) -> None:
    add_device(alice)
    write_notes(alice, 5)
    publish_changes(user_id=alice.id)
    before = [item.attribute_values for item in queue_items(alice)]
    Change.objects.filter(user=alice).update(published_at=None)  # as if the worker died before marking
    assert publish_changes(user_id=alice.id) == 5
    assert [item.attribute_values for item in queue_items(alice)] == before


def test_a_device_gets_only_changes_after_it_signed_in(alice: User, add_device: Any, write_notes: Any) -> None:
    write_notes(alice, 2)
    phone = add_device(alice, "Phone")
    write_notes(alice, 1)
    publish_changes(user_id=alice.id)
    assert phone.registered_seq == 2
    assert [(item.seq, item.device_key) for item in queue_items(alice)] == [(3, f"DEVICE#{phone.id}")]


def test_changes_without_devices_are_published_with_no_items(alice: User, write_notes: Any) -> None:
    write_notes(alice, 3)
    assert publish_changes(user_id=alice.id) == 3
    assert queue_items(alice) == []
    assert unpublished(alice) == []


def test_small_batches_publish_everything_in_order(
    alice: User, add_device: Any, write_notes: Any, settings: Any
) -> None:
    settings.SYNC_PUBLISH_BATCH_SIZE = 4
    add_device(alice)
    write_notes(alice, 10)
    assert publish_changes(user_id=alice.id) == 10
    assert [item.seq for item in queue_items(alice)] == list(range(1, 11))


def test_dynamodb_down_leaves_the_rows_for_a_retry(
    alice: User, add_device: Any, write_notes: Any, dynamodb_outage: Any
) -> None:
    add_device(alice)
    write_notes(alice, 3)
    dynamodb_outage.down(SyncQueueItem)
    with pytest.raises(PublishFailed):
        publish_changes(user_id=alice.id)
    assert unpublished(alice) == [1, 2, 3]
    dynamodb_outage.up()
    assert publish_changes(user_id=alice.id) == 3
    assert [item.seq for item in queue_items(alice)] == [1, 2, 3]


def test_publishing_counts_and_times_the_changes(alice: User, write_notes: Any) -> None:
    write_notes(alice, 4)
    publish_changes(user_id=alice.id)
    assert metrics.counters()["personalpod_sync_published_changes_total"] == 4
    latency = metrics.histograms()[("personalpod_sync_publish_latency_seconds", "")]
    assert latency["count"] == 4


def test_publishing_warms_the_statistics_cache(alice: User, write_notes: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(cache, "_inside_uncommitted_write", lambda: False)  # the test's own transaction
    write_notes(alice, 1)
    statistics(alice)  # read once: computed, stored, and noted as worth caching
    write_notes(alice, 1)
    publish_changes(user_id=alice.id)
    pk, sk = cache.item_key(alice.id, "statistics", "", 2)
    assert cache.CacheItem.get(pk, sk).value["by_type"] == {"note": 2}
    monkeypatch.setattr("entries.overview._compute_statistics", lambda owner_id: pytest.fail("not a cache hit"))
    assert statistics(alice)["entry_count"] == 2


def test_publishing_leaves_caches_nobody_needed_cold(alice: User, write_notes: Any, settings: Any) -> None:
    write_notes(alice, 2)
    publish_changes(user_id=alice.id)
    pk, sk = cache.item_key(alice.id, "statistics", "", 2)
    with pytest.raises(cache.CacheItem.DoesNotExist):
        cache.CacheItem.get(pk, sk)


def test_beat_publishes_every_user(alice: User, bob: User, add_device: Any, write_notes: Any) -> None:
    add_device(alice)
    add_device(bob)
    write_notes(alice, 2)
    write_notes(bob, 3)
    assert publish_everything() == 5
    assert Counter(item.pk for user in (alice, bob) for item in queue_items(user)) == {
        f"USER#{alice.id}": 2,
        f"USER#{bob.id}": 3,
    }


def test_sort_key_is_fixed_width_utc() -> None:
    from datetime import UTC, datetime

    stamp = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert sort_key(stamp, 42, "d") == "TIMESTAMP#2026-01-02T03:04:05.000006Z#000000000042:d"
