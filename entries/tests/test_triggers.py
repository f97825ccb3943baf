"""Every trigger, exercised the way that bypasses the services: bulk updates and plain SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from entries import services
from entries.models import Category, Entry, EntryTag, Tag

pytestmark = pytest.mark.django_db


def sql(statement: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def test_updated_at_is_stamped_by_a_bulk_update_and_by_plain_sql(alice: User) -> None:
    entry = services.create_entry(actor=alice, type="note", title="t")
    stamps = [entry.updated_at]
    Entry.objects.filter(id=entry.id).update(title="bulk")
    stamps.append(Entry.objects.get(id=entry.id).updated_at)
    sql("UPDATE entries_entry SET content = 'raw' WHERE id = %s", [entry.id])
    stamps.append(Entry.objects.get(id=entry.id).updated_at)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 3


def test_updated_at_cannot_be_backdated(alice: User) -> None:
    entry = services.create_entry(actor=alice, type="note", title="t")
    sql("UPDATE entries_entry SET updated_at = %s WHERE id = %s", [timezone.now() - timedelta(days=3), entry.id])
    assert Entry.objects.get(id=entry.id).updated_at >= entry.updated_at


def test_category_and_tag_updated_at_too(alice: User) -> None:
    category = Category.objects.filter(owner=alice).first()
    tag = Tag.objects.create(owner=alice, name="x")
    sql("UPDATE entries_category SET color = '#000000' WHERE id = %s", [category.id])
    Tag.objects.filter(id=tag.id).update(color="#111111")
    assert Category.objects.get(id=category.id).updated_at > category.updated_at
    assert Tag.objects.get(id=tag.id).updated_at > tag.updated_at


def test_usage_count_follows_plain_sql_inserts_and_deletes(alice: User) -> None:
    entries = [services.create_entry(actor=alice, type="note", title=f"n{i}") for i in range(3)]
    tag = Tag.objects.create(owner=alice, name="Plain SQL")
    for entry in entries:
        sql(
            "INSERT INTO entries_entrytag (id, entry_id, tag_id) VALUES (gen_random_uuid(), %s, %s)", [entry.id, tag.id]
        )
    tag.refresh_from_db()
    assert tag.usage_count == 3
    sql("DELETE FROM entries_entrytag WHERE entry_id = %s", [entries[0].id])
    tag.refresh_from_db()
    assert tag.usage_count == 2


def test_usage_count_follows_a_bulk_retag_with_queryset_update(alice: User) -> None:
    old = Tag.objects.create(owner=alice, name="old")
    new = Tag.objects.create(owner=alice, name="new")
    for i in range(5):
        services.create_entry(actor=alice, type="note", title=f"n{i}", tags=["old"])
    EntryTag.objects.filter(tag=old).update(tag=new)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.usage_count, new.usage_count) == (0, 5)


def test_usage_count_drops_when_an_entry_is_deleted(alice: User) -> None:
    entry = services.create_entry(actor=alice, type="note", title="t", tags=["gone"])
    services.delete_entry_forever(actor=alice, entry_id=entry.id)
    assert Tag.objects.get(owner=alice, name="gone").usage_count == 0


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Home Office", "home-office"),
        ("  C++ / Rust!  ", "c-plusplus-rust"),
        ("C#", "c-sharp"),
        ("C+", "c-plus"),
        ("#urgent", "urgent"),
        ("node.js", "node-js"),
        ("Café Crème", "café-crème"),
        ("???", "tag-0d1b08c3"),
    ],
)
def test_slugs_are_generated_by_the_database(alice: User, name: str, slug: str) -> None:
    sql("INSERT INTO entries_tag (id, owner_id, name, slug, color, usage_count, created_at, updated_at)"
        " VALUES (gen_random_uuid(), %s, %s, '', '', 0, now(), now())", [alice.id, name])  # fmt: skip
    assert Tag.objects.get(owner=alice, name=name).slug == slug


def test_renaming_a_tag_in_sql_regenerates_its_slug(alice: User) -> None:
    tag = Tag.objects.create(owner=alice, name="Before")
    assert Tag.objects.get(id=tag.id).slug == "before"
    Tag.objects.filter(id=tag.id).update(name="After Rename")
    assert Tag.objects.get(id=tag.id).slug == "after-rename"
