"""Delivery state: acknowledged items are delivered; N failures dead-letter an item; support retries it."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from personalpod import metrics
from sync import delivery, selectors
from sync.publisher import publish_changes
from sync.queue import Status
from sync.tests.helpers import queue_items

pytestmark = pytest.mark.django_db


def test_acknowledged_items_are_delivered_and_the_cursor_moves(alice: User, add_device: Any, write_notes: Any) -> None:
    laptop, phone = add_device(alice, "Laptop"), add_device(alice, "Phone")
    write_notes(alice, 4)
    publish_changes(user_id=alice.id)
    delivery.acknowledge(laptop, 3)
    laptop.refresh_from_db()
    assert laptop.last_pulled_seq == 3
    statuses = {(item.device_key, item.seq): item.status for item in queue_items(alice)}
    assert [statuses[(f"DEVICE#{laptop.id}", seq)] for seq in (1, 2, 3, 4)] == ["delivered"] * 3 + ["pending"]
    assert {statuses[(f"DEVICE#{phone.id}", seq)] for seq in (1, 2, 3, 4)} == {"pending"}


def test_a_cursor_never_moves_back(alice: User, add_device: Any, write_notes: Any) -> None:
    laptop = add_device(alice)
    write_notes(alice, 2)
    delivery.acknowledge(laptop, 2)
    assert delivery.acknowledge(laptop, 1).last_pulled_seq == 2


def test_items_after_a_cursor_stop_at_what_is_published(alice: User, add_device: Any, write_notes: Any) -> None:
    laptop = add_device(alice)
    write_notes(alice, 3)
    publish_changes(user_id=alice.id)
    write_notes(alice, 2)  # not published yet
    assert [item.seq for item in selectors.items_for_device(laptop, after_seq=1, limit=10)] == [2, 3]
    publish_changes(user_id=alice.id)
    assert [item.seq for item in selectors.items_for_device(laptop, after_seq=1, limit=2)] == [2, 3]
    assert [item.seq for item in selectors.items_for_device(laptop, after_seq=3, limit=10)] == [4, 5]


def test_the_nth_failed_delivery_dead_letters_the_item(
    alice: User, add_device: Any, write_notes: Any, settings: Any
) -> None:
    settings.SYNC_MAX_DELIVERY_ATTEMPTS = 3
    add_device(alice)
    write_notes(alice, 1)
    publish_changes(user_id=alice.id)
    (item,) = queue_items(alice)
    for attempt in range(1, 3):
        delivery.record_delivery_failure(item, f"timeout {attempt}")
        assert (item.status, item.attempts) == (Status.PENDING, attempt)
    delivery.record_delivery_failure(item, "timeout 3")
    (stored,) = queue_items(alice)
    assert (stored.status, stored.attempts, stored.last_error) == (Status.FAILED, 3, "timeout 3")
    assert [failed.sk for failed in selectors.failed_items() if failed.pk == stored.pk] == [stored.sk]
    assert metrics.counters()["personalpod_sync_failed_deliveries_total"] == 1


def test_retry_puts_a_failed_item_back_to_pending(
    alice: User, add_device: Any, write_notes: Any, settings: Any
) -> None:
    settings.SYNC_MAX_DELIVERY_ATTEMPTS = 1
    add_device(alice)
    write_notes(alice, 2)
    publish_changes(user_id=alice.id)
    first, second = queue_items(alice)
    delivery.record_delivery_failure(first, "device rejected it")
    assert delivery.retry_failed([(first.pk, first.sk), (second.pk, second.sk)]) == 1  # the pending one stays
    stored = queue_items(alice)[0]
    assert (stored.status, stored.attempts, stored.last_error) == (Status.PENDING, 0, None)
    assert [failed for failed in selectors.failed_items() if failed.pk == stored.pk] == []


def test_items_handed_out_again_without_progress_are_dead_lettered(
    alice: User, add_device: Any, write_notes: Any, settings: Any
) -> None:
    settings.SYNC_MAX_DELIVERY_ATTEMPTS = 2
    laptop = add_device(alice)
    write_notes(alice, 3)
    publish_changes(user_id=alice.id)
    served = selectors.items_for_device(laptop, after_seq=0, limit=10)
    delivery.acknowledge(laptop, 0, served=served)  # first hand-out: not a failure
    assert {item.attempts for item in queue_items(alice)} == {0}
    for _ in range(2):  # the device comes back from the same place: it applied none of them
        served = selectors.items_for_device(laptop, after_seq=0, limit=10)
        delivery.acknowledge(laptop, 0, served=served)
    assert [(item.status, item.attempts) for item in queue_items(alice)] == [(Status.FAILED, 2)] * 3
    assert "stayed at seq 0" in (queue_items(alice)[0].last_error or "")


def test_a_device_that_moves_on_has_no_failed_deliveries(alice: User, add_device: Any, write_notes: Any) -> None:
    laptop = add_device(alice)
    write_notes(alice, 4)
    publish_changes(user_id=alice.id)
    first = selectors.items_for_device(laptop, after_seq=0, limit=2)
    delivery.acknowledge(laptop, 0, served=first)
    second = selectors.items_for_device(laptop, after_seq=2, limit=2)
    delivery.acknowledge(laptop, 2, served=second)
    delivery.acknowledge(laptop, 4)
    assert [(item.status, item.attempts) for item in queue_items(alice)] == [(Status.DELIVERED, 0)] * 4
