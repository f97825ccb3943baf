"""The vault at a glance: statistics, the category tree with counts, recent entries."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from entries import overview
from entries.models import Category, Entry
from entries.services.entries import create_entry
from entries.services.lifecycle import set_status
from personalpod import cache, dynamo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def reads_outside_a_write(monkeypatch: Any) -> None:
    # The test's own transaction holds the writes' on-commit hooks; as in a request after
    # them, the reads may use the cache.
    monkeypatch.setattr(cache, "_inside_uncommitted_write", lambda: False)
    dynamo.breaker.succeeded()


def test_statistics_count_by_type_status_and_tag(alice: User, bob: User) -> None:
    create_entry(actor=alice, type="note", title="A", tags=["work", "urgent"])
    create_entry(actor=alice, type="note", title="B", tags=["work"], status="draft")
    create_entry(actor=alice, type="bookmark", title="C", fields={"url": "https://example.com"}, tags=["work"])
    trashed = create_entry(actor=alice, type="task", title="D", tags=["urgent"])
    set_status(actor=alice, entry_id=trashed.id, status="deleted")
    create_entry(actor=bob, type="note", title="Bob's")

    stats = overview.statistics(alice)

    assert stats["entry_count"] == 3
    assert stats["by_type"] == {"note": 2, "bookmark": 1}
    assert stats["by_status"] == {"active": 2, "draft": 1, "deleted": 1}
    assert stats["by_tag"] == [
        {"name": "work", "slug": "work", "entry_count": 3},
        {"name": "urgent", "slug": "urgent", "entry_count": 1},
    ]


def test_statistics_come_from_the_cache_until_the_next_write(
    alice: User, django_assert_num_queries: Any, monkeypatch: Any
) -> None:
    create_entry(actor=alice, type="note", title="A")
    assert overview.statistics(alice)["entry_count"] == 1
    with django_assert_num_queries(1):  # the version; the counts come from DynamoDB
        assert overview.statistics(alice)["entry_count"] == 1
    create_entry(actor=alice, type="note", title="B")
    assert overview.statistics(alice)["entry_count"] == 2


@pytest.mark.django_db(transaction=True)  # each write its own transaction: updated_at moves on
def test_recent_entries_newest_first_without_the_trash(alice: User) -> None:
    work = Category.objects.create(owner=alice, name="Projects")
    made = []
    for n, status in enumerate(["active", "archived", "draft", "active", "deleted"] * 3):
        entry = create_entry(actor=alice, type="note", title=f"Entry {n}", category=work.id)
        Entry.objects.filter(id=entry.id).update(status=status)
        made.append((f"Entry {n}", status))

    recent = overview.recent_entries(alice)

    newest_first = [title for title, status in reversed(made) if status != "deleted"]
    assert [row["title"] for row in recent] == newest_first[: overview.RECENT_COUNT]
    assert recent[0]["category"] == "Projects"
    assert set(recent[0]) == {"id", "type", "title", "status", "category", "updated_at"}


def test_category_tree_counts_are_plain_json(alice: User) -> None:
    parent = Category.objects.filter(owner=alice).first()
    assert parent is not None
    child = Category.objects.create(owner=alice, name="Inside", parent=parent, depth=1)
    create_entry(actor=alice, type="note", title="In the child", category=child.id)
    tree = overview.category_tree_counts(alice)
    node = next(node for node in tree if node["id"] == str(parent.id))
    assert node["total_count"] == 1
    assert node["children"][0]["name"] == "Inside"
    assert node["children"][0]["entry_count"] == 1


def test_the_cached_tree_shows_category_changes_that_touch_no_entry(alice: User) -> None:
    from entries.services.organize import create_category, update_category

    create_entry(actor=alice, type="note", title="A")
    before = overview.category_tree_counts(alice)
    assert overview.category_tree_counts(alice) == before  # a hit
    made = create_category(actor=alice, name="Garden")  # no entry changes: change_seq stays
    assert "Garden" in [node["name"] for node in overview.category_tree_counts(alice)]
    update_category(actor=alice, category_id=made.id, name="Allotment")
    names = [node["name"] for node in overview.category_tree_counts(alice)]
    assert "Allotment" in names
    assert "Garden" not in names
