"""Edge cases found in review: each once broke an invariant or answered a 500."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from entries import services
from entries.models import Category, Change, Entry, Status, Tag

pytestmark = pytest.mark.django_db


def test_the_purge_spares_an_entry_restored_after_it_was_listed(alice: User, settings: Any) -> None:
    entry = services.create_entry(actor=alice, type="note", title="saved in time")
    services.set_status(actor=alice, entry_id=entry.id, status=Status.DELETED)
    Entry.objects.filter(id=entry.id).update(trashed_at=timezone.now() - timedelta(days=40))
    cutoff = timezone.now() - timedelta(days=30)
    services.set_status(actor=alice, entry_id=entry.id, status=Status.ACTIVE)  # after the purge listed it
    with pytest.raises(Entry.DoesNotExist):
        services.delete_entry_forever(actor=None, entry_id=entry.id, trashed_before=cutoff)
    assert Entry.objects.filter(id=entry.id, status=Status.ACTIVE).exists()


def test_a_restored_expired_entry_does_not_go_straight_back(alice: User) -> None:
    entry = services.create_entry(actor=alice, type="note", title="t", expires_at=timezone.now() + timedelta(minutes=1))
    Entry.objects.filter(id=entry.id).update(expires_at=timezone.now() - timedelta(minutes=1))  # time passes
    services.trash_expired_entries()
    services.set_status(actor=alice, entry_id=entry.id, status=Status.ACTIVE)
    assert services.trash_expired_entries() == 0
    entry.refresh_from_db()
    assert (entry.status, entry.expires_at) == (Status.ACTIVE, None)


def test_tasks_without_a_due_date_are_not_due(api: APIClient, make_entry: Any) -> None:
    due = make_entry(type="task", title="due", fields={"due_at": "2026-01-01T00:00:00Z"})
    make_entry(type="task", title="someday")
    found = api.get("/api/v1/entries/?due_before=2026-06-01T00:00:00Z").json()["results"]
    assert [e["id"] for e in found] == [due["id"]]


@pytest.mark.parametrize(
    ("entry_type", "fields", "field"),
    [("task", {"due_at": "2026-13-01T09:00:00Z"}, "fields.due_at"),
     ("contact", {"birthday": "1990-02-30"}, "fields.birthday"),
     ("bookmark", {"url": "   "}, "fields.url")],
)  # fmt: skip
def test_impossible_dates_and_blank_required_fields_are_400s(
    api: APIClient, entry_type: str, fields: Any, field: str
) -> None:
    response = api.post("/api/v1/entries/", {"type": entry_type, "title": "t", "fields": fields}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


@pytest.mark.parametrize("name", ["İstanbul", "ΟΔΟΣ", "Straße"])
def test_tags_whose_case_folding_differs_are_found_again(
    alice: User, api: APIClient, make_entry: Any, name: str
) -> None:
    first = make_entry(title="one", tags=[name])
    second = make_entry(title="two", tags=[name])
    tag = Tag.objects.get(owner=alice)
    assert tag.usage_count == 2
    found = api.get("/api/v1/entries/", {"tags": name}).json()["results"]
    assert {e["id"] for e in found} == {first["id"], second["id"]}


def test_deleting_a_category_whose_child_would_clash_is_a_400(api: APIClient) -> None:
    top = api.post("/api/v1/categories/", {"name": "Top"}, format="json").json()
    api.post("/api/v1/categories/", {"name": "Notes", "parent": top["id"]}, format="json")
    mid = api.post("/api/v1/categories/", {"name": "Mid", "parent": top["id"]}, format="json").json()
    api.post("/api/v1/categories/", {"name": "notes", "parent": mid["id"]}, format="json")
    response = api.delete(f"/api/v1/categories/{mid['id']}/")
    assert response.status_code == 400
    assert Category.objects.filter(id=mid["id"]).exists()


def test_an_account_with_nested_categories_can_be_deleted(alice: User, api: APIClient) -> None:
    top = api.post("/api/v1/categories/", {"name": "Top"}, format="json").json()
    api.post("/api/v1/categories/", {"name": "Child", "parent": top["id"]}, format="json")
    alice.delete()
    assert not Category.objects.filter(owner_id=alice.id).exists()


def test_restoring_a_version_without_a_category_clears_it(alice: User, api: APIClient, make_entry: Any) -> None:
    entry = make_entry(title="t")
    work = alice.categories.get(name="Work")
    api.patch(f"/api/v1/entries/{entry['id']}/", {"category": str(work.id)}, format="json", HTTP_IF_MATCH='"1"')
    restored = api.post(f"/api/v1/entries/{entry['id']}/restore/", {"version": 1}, format="json").json()
    assert restored["category"] is None


def test_a_recurring_task_spawns_its_next_occurrence_once(alice: User, api: APIClient, make_entry: Any) -> None:
    task = make_entry(type="task", title="t", fields={"due_at": "2026-03-27T08:00:00Z", "recurrence": "daily"})
    url = f"/api/v1/entries/{task['id']}/"
    for version, done in ((1, True), (2, False), (3, True)):
        api.patch(url, {"fields": {"is_done": done}}, format="json", HTTP_IF_MATCH=f'"{version}"')
    assert Entry.objects.filter(type="task").count() == 2


def test_daily_tasks_keep_their_wall_clock_time_across_a_dst_change(
    alice: User, api: APIClient, make_entry: Any
) -> None:
    alice.timezone = "Europe/Paris"
    alice.save(update_fields=["timezone"])
    # 09:00 in Paris on 28 March 2026 (UTC+1); DST starts the next night.
    task = make_entry(type="task", title="t", fields={"due_at": "2026-03-28T08:00:00Z", "recurrence": "daily"})
    api.patch(f"/api/v1/entries/{task['id']}/", {"fields": {"is_done": True}}, format="json", HTTP_IF_MATCH='"1"')
    following = Entry.objects.exclude(id=task["id"]).get(type="task")
    assert following.fields["due_at"] == "2026-03-29T07:00:00+00:00"  # 09:00 in Paris, now UTC+2


def test_a_task_created_done_spawns_its_next_occurrence(make_entry: Any) -> None:
    make_entry(
        type="task", title="t", fields={"due_at": "2026-03-27T08:00:00Z", "recurrence": "weekly", "is_done": True}
    )
    assert Entry.objects.filter(type="task").count() == 2


def test_a_status_change_through_patch_is_a_trash_in_the_feed(alice: User, api: APIClient, make_entry: Any) -> None:
    entry = make_entry()
    api.patch(f"/api/v1/entries/{entry['id']}/", {"status": "deleted"}, format="json", HTTP_IF_MATCH='"1"')
    assert Change.objects.filter(user=alice).order_by("-seq").first().operation == "trash"


def test_another_users_entry_is_404_even_without_if_match(api: APIClient, bob: User) -> None:
    entry = services.create_entry(actor=bob, type="note", title="b")
    assert api.patch(f"/api/v1/entries/{entry.id}/", {"title": "x"}, format="json").status_code == 404


def test_a_stale_archive_is_a_412(api: APIClient, make_entry: Any) -> None:
    entry = make_entry()
    response = api.post(f"/api/v1/entries/{entry['id']}/archive/", HTTP_IF_MATCH='"7"')
    assert response.status_code == 412


def test_raw_sql_cannot_set_a_slug_or_a_usage_count(alice: User) -> None:
    services.create_entry(actor=alice, type="note", title="t", tags=["Real"])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE entries_tag SET slug = 'fake', usage_count = 99 WHERE owner_id = %s", [alice.id])
    tag = Tag.objects.get(owner=alice)
    assert (tag.slug, tag.usage_count) == ("real", 1)
