from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from entries.models import Change, Entry, EntryVersion

pytestmark = pytest.mark.django_db

VALID = {
    "note": {},
    "password": {"username": "me", "url": "https://bank.example.com", "secret": "s3cret", "totp_seed": "JBSWY3DPEHPK3PXP"},
    "document": {"description": "Scan"},
    "bookmark": {"url": "https://example.com/page", "description": "A page"},
    "task": {"due_at": "2026-12-01T09:00:00+01:00", "priority": "high", "recurrence": "weekly"},
    "contact": {"name": "Sam", "emails": ["Sam@Example.com"], "phones": ["+351 912 345 678"],
                "organisation": "Acme", "addresses": ["1 Main St"], "birthday": "1990-04-21"},
}  # fmt: skip


@pytest.mark.parametrize("entry_type", list(VALID))
def test_each_type_is_created_with_its_fields(api: APIClient, entry_type: str) -> None:
    response = api.post(
        "/api/v1/entries/",
        {
            "type": entry_type,
            "title": f"My {entry_type}",
            "content": "body",
            "fields": VALID[entry_type],
            "tags": ["x"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "type", "title", "content", "fields", "status", "category", "tags",
                         "expires_at", "is_sensitive", "has_secret", "keywords", "version", "conflict_of", "created_at",
                         "updated_at"}  # fmt: skip
    assert (body["type"], body["version"], body["status"], body["tags"]) == (entry_type, 1, "active", ["x"])
    assert response["ETag"] == '"1"'
    if entry_type == "contact":
        assert body["fields"]["emails"] == ["sam@example.com"]
    if entry_type == "task":
        assert body["fields"]["due_at"] == "2026-12-01T08:00:00+00:00"
        assert body["fields"]["is_done"] is False


@pytest.mark.parametrize(
    ("entry_type", "fields", "field"),
    [
        ("bookmark", {}, "fields.url"),
        ("bookmark", {"url": "not a url"}, "fields.url"),
        ("bookmark", {"url": "javascript:alert(1)"}, "fields.url"),
        ("password", {"url": "ftp//x"}, "fields.url"),
        ("password", {"totp_seed": "not base32!"}, "fields.totp_seed"),
        ("task", {"priority": "urgent"}, "fields.priority"),
        ("task", {"due_at": "tomorrow"}, "fields.due_at"),
        ("task", {"due_at": "2026-12-01T09:00:00"}, "fields.due_at"),
        ("task", {"recurrence": "hourly"}, "fields.recurrence"),
        ("task", {"is_done": "yes"}, "fields.is_done"),
        ("contact", {"emails": ["nope"]}, "fields.emails"),
        ("contact", {"emails": "a@b.c"}, "fields.emails"),
        ("contact", {"phones": ["call me"]}, "fields.phones"),
        ("contact", {"birthday": "2999-01-01"}, "fields.birthday"),
        ("note", {"colour": "red"}, "fields.colour"),
        ("document", {"description": 5}, "fields.description"),
    ],
)
def test_invalid_per_type_fields_are_named(api: APIClient, entry_type: str, fields: dict[str, Any], field: str) -> None:
    response = api.post("/api/v1/entries/", {"type": entry_type, "title": "t", "fields": fields}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Entry.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "diary", "title": "t"}, "type"),
        ({"type": "note", "title": "x" * 301}, "title"),
        ({"type": "note", "title": "   "}, "title"),
        ({"type": "note", "title": "t", "status": "deleted"}, "status"),
        ({"type": "note", "title": "t", "tags": ["t"] * 51}, "tags"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api: APIClient, body: dict[str, Any], field: str) -> None:
    response = api.post("/api/v1/entries/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Entry.objects.exists()


def test_another_users_category_is_refused(api: APIClient, bob: User) -> None:
    bobs = bob.categories.first()
    response = api.post("/api/v1/entries/", {"type": "note", "title": "t", "category": str(bobs.id)}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["category"]


def test_another_users_entry_is_not_found(api: APIClient, bob: User) -> None:
    other = APIClient()
    other.force_authenticate(bob)
    bobs = other.post("/api/v1/entries/", {"type": "note", "title": "Bob's"}, format="json").json()
    assert api.get(f"/api/v1/entries/{bobs['id']}/").status_code == 404
    assert (
        api.patch(f"/api/v1/entries/{bobs['id']}/", {"title": "mine"}, format="json", HTTP_IF_MATCH='"1"').status_code
        == 404
    )
    assert api.delete(f"/api/v1/entries/{bobs['id']}/").status_code == 404
    assert api.get(f"/api/v1/entries/{bobs['id']}/history/").status_code == 404
    assert Entry.objects.get(id=bobs["id"]).title == "Bob's"


def test_signed_out_is_401() -> None:
    assert APIClient().get("/api/v1/entries/").status_code == 401


def test_update_needs_if_match_and_a_stale_one_changes_nothing(api: APIClient, make_entry: Any) -> None:
    entry = make_entry(title="First")
    url = f"/api/v1/entries/{entry['id']}/"
    missing = api.patch(url, {"title": "Second"}, format="json")
    assert missing.status_code == 428
    assert missing.json()["error"]["code"] == "precondition_required"
    ok = api.patch(url, {"title": "Second"}, format="json", HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200
    assert (ok.json()["version"], ok["ETag"]) == (2, '"2"')
    changes_before = Change.objects.count()
    stale = api.patch(url, {"title": "Third"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale["ETag"] == '"2"'
    assert stale.json()["error"]["code"] == "version_conflict"
    assert "version 2" in stale.json()["error"]["fields"]["version"][0]
    current = api.get(url).json()
    assert (current["title"], current["version"]) == ("Second", 2)
    assert Change.objects.count() == changes_before
    assert EntryVersion.objects.filter(entry_id=entry["id"]).count() == 1


def test_an_update_keeps_the_previous_state_and_appends_to_the_feed(
    alice: User, api: APIClient, make_entry: Any
) -> None:
    entry = make_entry(title="Before", content="old", tags=["a"])
    api.patch(f"/api/v1/entries/{entry['id']}/", {"title": "After", "tags": ["b"]}, format="json", HTTP_IF_MATCH='"1"')
    kept = EntryVersion.objects.get(entry_id=entry["id"])
    assert (kept.version, kept.snapshot["title"], kept.snapshot["tags"]) == (1, "Before", ["a"])
    feed = list(Change.objects.filter(user=alice).values_list("seq", "operation", "entry_version"))
    assert feed == [(1, "create", 1), (2, "update", 2)]
    alice.refresh_from_db()
    assert alice.change_seq == 2


def test_an_update_that_changes_nothing_makes_no_version(api: APIClient, make_entry: Any) -> None:
    entry = make_entry(title="Same")
    response = api.patch(f"/api/v1/entries/{entry['id']}/", {"title": "Same"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.json()["version"] == 1


def test_put_replaces_and_the_type_cannot_change(api: APIClient, make_entry: Any) -> None:
    entry = make_entry(type="bookmark", title="B", fields={"url": "https://a.example", "description": "d"})
    url = f"/api/v1/entries/{entry['id']}/"
    changed = api.put(url, {"type": "note", "title": "B"}, format="json", HTTP_IF_MATCH='"1"')
    assert changed.status_code == 400
    assert list(changed.json()["error"]["fields"]) == ["type"]
    put = api.put(
        url,
        {"type": "bookmark", "title": "B2", "fields": {"url": "https://b.example"}},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert put.status_code == 200
    assert put.json()["fields"] == {"url": "https://b.example", "description": ""}


def test_trash_restore_and_delete_forever(alice: User, api: APIClient, make_entry: Any) -> None:
    entry = make_entry(title="Bin me")
    url = f"/api/v1/entries/{entry['id']}/"
    assert api.delete(url).status_code == 204
    assert api.get(url).json()["status"] == "deleted"
    assert api.get("/api/v1/entries/").json()["results"] == []
    assert [e["id"] for e in api.get("/api/v1/entries/?status=deleted").json()["results"]] == [entry["id"]]
    restored = api.post(f"{url}restore/")
    assert (restored.status_code, restored.json()["status"]) == (200, "active")
    assert api.delete(f"{url}?forever=true").status_code == 204
    assert api.get(url).status_code == 404
    ops = list(Change.objects.filter(user=alice).order_by("seq").values_list("operation", flat=True))
    assert ops == ["create", "trash", "restore", "delete"]


def test_history_and_restoring_an_old_version(api: APIClient, make_entry: Any) -> None:
    entry = make_entry(title="v1", content="one")
    url = f"/api/v1/entries/{entry['id']}/"
    api.patch(url, {"title": "v2", "content": "two"}, format="json", HTTP_IF_MATCH='"1"')
    api.patch(url, {"title": "v3"}, format="json", HTTP_IF_MATCH='"2"')
    history = api.get(f"{url}history/").json()["results"]
    assert [(h["version"], h["title"]) for h in history] == [(2, "v2"), (1, "v1")]
    restored = api.post(f"{url}restore/", {"version": 1}, format="json")
    assert restored.status_code == 200
    assert (restored.json()["title"], restored.json()["content"], restored.json()["version"]) == ("v1", "one", 4)
    assert api.post(f"{url}restore/", {"version": 99}, format="json").status_code == 400


def test_finishing_a_recurring_task_stamps_it_and_creates_the_next(api: APIClient, make_entry: Any) -> None:
    task = make_entry(
        type="task", title="Water plants", fields={"due_at": "2026-12-01T09:00:00Z", "recurrence": "weekly"}
    )
    done = api.patch(
        f"/api/v1/entries/{task['id']}/", {"fields": {"is_done": True}}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert done.json()["fields"]["done_at"] is not None
    tasks = api.get("/api/v1/entries/?type=task").json()["results"]
    upcoming = [t for t in tasks if not t["fields"]["is_done"]]
    assert len(upcoming) == 1
    assert upcoming[0]["fields"]["due_at"] == "2026-12-08T09:00:00+00:00"
    undone = api.patch(
        f"/api/v1/entries/{task['id']}/", {"fields": {"is_done": False}}, format="json", HTTP_IF_MATCH='"2"'
    )
    assert undone.json()["fields"]["done_at"] is None


def test_list_filters(alice: User, api: APIClient, make_entry: Any) -> None:
    parent = api.post("/api/v1/categories/", {"name": "Projects"}, format="json").json()
    child = api.post("/api/v1/categories/", {"name": "Garden", "parent": parent["id"]}, format="json").json()
    soon = (datetime.now(tz=UTC) + timedelta(days=2)).isoformat()
    a = make_entry(title="A", tags=["red", "blue"], category=child["id"])
    b = make_entry(title="B", tags=["red"], category=parent["id"], expires_at=soon)
    c = make_entry(type="task", title="C", fields={"due_at": "2026-01-01T00:00:00Z"}, tags=["green"])
    make_entry(type="bookmark", title="D", fields={"url": "https://d.example"})

    def ids(query: str) -> set[str]:
        response = api.get(f"/api/v1/entries/?{query}")
        assert response.status_code == 200, response.content
        return {e["id"] for e in response.json()["results"]}

    assert ids(f"category={parent['id']}") == {a["id"], b["id"]}
    assert ids(f"category={child['id']}") == {a["id"]}
    assert ids("tags=red,blue") == {a["id"]}
    assert ids("tags_any=blue,green") == {a["id"], c["id"]}
    assert ids("type=task") == {c["id"]}
    assert ids("due_before=2026-06-01T00:00:00Z") == {c["id"]}
    later = (datetime.now(tz=UTC) + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    assert ids(f"expiring_before={later}") == {b["id"]}
    assert len(ids("type=note,bookmark")) == 3
    titles = [e["title"] for e in api.get("/api/v1/entries/?ordering=title").json()["results"]]
    assert titles == ["A", "B", "C", "D"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("type=diary", "type"), ("status=gone", "status"), ("category=nope", "category"),
     ("created_after=yesterday", "created_after"), ("ordering=colour", "ordering")],
)  # fmt: skip
def test_bad_filters_name_the_field(api: APIClient, query: str, field: str) -> None:
    response = api.get(f"/api/v1/entries/?{query}")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_list_pages_with_a_cursor_and_queries_do_not_grow_with_the_page(
    alice: User, api: APIClient, make_entry: Any, django_assert_max_num_queries: Any
) -> None:
    category = alice.categories.first()
    for n in range(45):
        make_entry(title=f"e{n}", tags=[f"t{n % 3}", "all"], category=str(category.id))
    with django_assert_max_num_queries(4):
        small = api.get("/api/v1/entries/?limit=5").json()
    with django_assert_max_num_queries(4):
        big = api.get("/api/v1/entries/?limit=40").json()
    assert (len(small["results"]), len(big["results"])) == (5, 40)
    rest = api.get(big["next"]).json()
    assert len(rest["results"]) == 5
    assert rest["next"] is None


def test_bulk_operations(alice: User, api: APIClient, make_entry: Any) -> None:
    entries = [make_entry(title=f"n{i}") for i in range(3)]
    ids = [e["id"] for e in entries]
    work = alice.categories.get(name="Work")
    assert api.post(
        "/api/v1/entries/bulk/", {"action": "tag", "ids": ids, "tags": ["batch"]}, format="json"
    ).json() == {"changed_count": 3}
    assert api.post(
        "/api/v1/entries/bulk/", {"action": "tag", "ids": ids, "tags": ["batch"]}, format="json"
    ).json() == {"changed_count": 0}
    assert alice.tags.get(name="batch").usage_count == 3
    api.post("/api/v1/entries/bulk/", {"action": "move", "ids": ids[:2], "category": str(work.id)}, format="json")
    assert Entry.objects.filter(category=work).count() == 2
    api.post("/api/v1/entries/bulk/", {"action": "untag", "ids": ids, "tags": ["batch"]}, format="json")
    assert alice.tags.get(name="batch").usage_count == 0
    api.post("/api/v1/entries/bulk/", {"action": "trash", "ids": ids}, format="json")
    assert set(Entry.objects.values_list("status", flat=True)) == {"deleted"}
    assert sorted(Entry.objects.values_list("version", flat=True)) == [4, 5, 5]  # the one not moved changed once less
    seqs = list(Change.objects.filter(user=alice).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.parametrize(
    ("body", "field"),
    [({"action": "explode", "ids": ["00000000-0000-0000-0000-000000000001"]}, "action"),
     ({"action": "trash", "ids": []}, "ids"),
     ({"action": "tag", "ids": ["00000000-0000-0000-0000-000000000001"]}, "tags")],
)  # fmt: skip
def test_bad_bulk_calls_name_the_field(api: APIClient, body: dict[str, Any], field: str) -> None:
    response = api.post("/api/v1/entries/bulk/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_bulk_refuses_more_than_1000_ids_and_another_users_entries(api: APIClient, make_entry: Any, bob: User) -> None:
    mine = make_entry()
    too_many = [mine["id"]] + [f"00000000-0000-4000-8000-{n:012d}" for n in range(1000)]
    response = api.post("/api/v1/entries/bulk/", {"action": "trash", "ids": too_many}, format="json")
    assert response.status_code == 400
    assert "1000" in response.json()["error"]["fields"]["ids"][0]
    other = APIClient()
    other.force_authenticate(bob)
    bobs = other.post("/api/v1/entries/", {"type": "note", "title": "b"}, format="json").json()
    response = api.post("/api/v1/entries/bulk/", {"action": "trash", "ids": [mine["id"], bobs["id"]]}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["ids"]
    assert Entry.objects.filter(status="deleted").count() == 0


def test_admin_shows_metadata_but_never_content(alice: User, make_entry: Any) -> None:
    from django.test import Client

    entry = make_entry(type="password", title="Bank", content="private words", fields={"secret": "hunter2-secret"})
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(staff)
    listing = browser.get("/admin/entries/entry/")
    detail = browser.get(f"/admin/entries/entry/{entry['id']}/change/")
    assert listing.status_code == detail.status_code == 200
    for page in (listing, detail):
        assert b"hunter2-secret" not in page.content
        assert b"private words" not in page.content
