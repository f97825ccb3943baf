"""Edge cases of the entries API found by a client exercising the running server: each was a
500, a silent loss, or a wrong status."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from entries.models import Entry, EntryVersion
from sharing import services as sharing

pytestmark = pytest.mark.django_db


def _error_fields(response: Any) -> dict[str, Any]:
    return response.json()["error"]["fields"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("entry_type", "extra", "field"),
    [
        ("password", {"fields": {"secret": "ab\ud800"}}, "fields.secret"),
        ("contact", {"fields": {"name": "N", "addresses": ["\udc00"]}}, "fields.addresses"),
        ("document", {"is_sensitive": True, "fields": {"description": "\ud800"}}, "fields.description"),
        ("document", {"fields": {"\ud800": "x"}}, "fields.\ufffd"),
    ],
)
def test_a_lone_surrogate_in_fields_is_a_400_naming_the_field(
    alice: User, api: APIClient, entry_type: str, extra: dict[str, Any], field: str
) -> None:
    body = json.dumps({"type": entry_type, "title": "t", **extra})  # "\ud800": what a client sends
    response = api.post("/api/v1/entries/", body, content_type="application/json")
    assert response.status_code == 400
    assert field in _error_fields(response)
    assert not Entry.objects.filter(owner=alice).exclude(type="note").exists()


def test_a_due_date_past_the_calendar_in_utc_is_a_400(api: APIClient) -> None:
    for moment in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"):
        body = {"type": "task", "title": "t", "fields": {"due_at": moment}}
        response = api.post("/api/v1/entries/", body, format="json")
        assert response.status_code == 400
        assert "fields.due_at" in _error_fields(response)


def test_json_nested_too_deeply_is_a_parse_error(api: APIClient) -> None:
    response = api.post("/api/v1/categories/", "[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_null_secret_keeps_the_saved_one_and_an_empty_one_clears_it(api: APIClient, make_entry: Any) -> None:
    entry = make_entry(type="password", title="Bank", fields={"username": "me", "secret": "KEEPME123"})
    url = f"/api/v1/entries/{entry['id']}/"
    patched = api.patch(url, {"fields": {"username": "me2", "secret": None}}, format="json", HTTP_IF_MATCH="*")
    assert patched.status_code == 200
    assert patched.json()["has_secret"] is True
    assert api.post(f"{url}reveal/").json()["secrets"]["secret"] == "KEEPME123"
    api.patch(url, {"fields": {"secret": ""}}, format="json", HTTP_IF_MATCH="*")
    assert api.post(f"{url}reveal/").json()["secrets"]["secret"] == ""


def test_bulk_tagging_keeps_to_the_tags_per_entry_limit(api: APIClient, make_entry: Any) -> None:
    entry = make_entry(tags=[f"t{n}" for n in range(50)])
    response = api.post("/api/v1/entries/bulk/", {"action": "tag", "ids": [entry["id"]], "tags": ["x1"]}, format="json")
    assert response.status_code == 400
    assert "tags" in _error_fields(response)
    assert len(api.get(f"/api/v1/entries/{entry['id']}/").json()["tags"]) == 50


def test_restoring_a_version_brings_back_its_words_not_its_status(api: APIClient, make_entry: Any) -> None:
    entry = make_entry(title="First")
    url = f"/api/v1/entries/{entry['id']}/"
    api.delete(url)  # v2: in the trash
    api.post(f"{url}restore/", {}, format="json")  # v3: back
    api.patch(url, {"title": "Second"}, format="json", HTTP_IF_MATCH="*")
    restored = api.post(f"{url}restore/", {"version": 2}, format="json")
    assert restored.status_code == 200
    assert (restored.json()["title"], restored.json()["status"]) == ("First", "active")


def test_history_leaves_sealed_secrets_out_and_says_a_version_has_some(api: APIClient, make_entry: Any) -> None:
    entry = make_entry(type="password", title="Bank", fields={"secret": "s3cret-value"})
    api.patch(f"/api/v1/entries/{entry['id']}/", {"fields": {"secret": "other"}}, format="json", HTTP_IF_MATCH="*")
    assert EntryVersion.objects.get(entry_id=entry["id"]).snapshot["sealed"]
    (version,) = api.get(f"/api/v1/entries/{entry['id']}/history/").json()["results"]
    assert "sealed" not in version["snapshot"]
    assert version["has_secrets"] is True


def test_a_malformed_id_of_uuid_length_is_not_found(api: APIClient) -> None:
    for bad in ("a" * 36, "-" * 36):
        assert api.get(f"/api/v1/entries/{bad}/").status_code == 404


def test_delete_forever_takes_a_boolean_and_refuses_anything_else(api: APIClient, make_entry: Any) -> None:
    kept, gone = make_entry(), make_entry()
    response = api.delete(f"/api/v1/entries/{kept['id']}/?forever=maybe")
    assert response.status_code == 400
    assert "forever" in _error_fields(response)
    assert Entry.objects.get(id=kept["id"]).status == "active"
    assert api.delete(f"/api/v1/entries/{gone['id']}/?forever=yes").status_code == 204
    assert not Entry.objects.filter(id=gone["id"]).exists()


def test_etag_lists_and_weak_etags(api: APIClient, make_entry: Any) -> None:
    entry = make_entry()
    url = f"/api/v1/entries/{entry['id']}/"
    assert api.get(url, HTTP_IF_NONE_MATCH='W/"1"').status_code == 304
    assert api.get(url, HTTP_IF_NONE_MATCH='"7", "1"').status_code == 304
    assert api.get(url, HTTP_IF_NONE_MATCH='"7"').status_code == 200
    assert api.patch(url, {"title": "a"}, format="json", HTTP_IF_MATCH='"1", W/"1"').status_code == 200
    response = api.patch(url, {"title": "b"}, format="json", HTTP_IF_MATCH='"1", "2"')
    assert response.status_code == 400
    assert "If-Match" in _error_fields(response)


def test_a_read_only_grantee_is_told_why_a_change_is_refused(alice: User, bob: User, make_entry: Any) -> None:
    entry = make_entry(title="Shared")
    sharing.create_share(actor=alice, entry_id=entry["id"], grantee=bob.email)
    client = APIClient()
    client.force_authenticate(bob)
    for response in (
        client.post(f"/api/v1/entries/{entry['id']}/archive/"),
        client.delete(f"/api/v1/entries/{entry['id']}/"),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "You can read this entry but not change it."


def test_tags_that_differ_by_plus_or_sharp_stay_apart(api: APIClient, make_entry: Any) -> None:
    entry = make_entry(tags=["C++", "C#", "C", "#C"])
    assert sorted(entry["tags"]) == ["C", "C#", "C++"]  # "#C" is "C", as "#urgent" is "urgent"
    assert [e["title"] for e in api.get("/api/v1/entries/", {"tags": "C#"}).json()["results"]] == [entry["title"]]
    other = make_entry(title="Plain C", tags=["C"])
    assert [e["id"] for e in api.get("/api/v1/entries/", {"tags": "C++"}).json()["results"]] == [entry["id"]]
    assert {e["id"] for e in api.get("/api/v1/entries/", {"tags": "c"}).json()["results"]} == {entry["id"], other["id"]}


def test_a_filter_given_twice_adds_its_values(alice: User, api: APIClient) -> None:
    from entries import services

    services.create_entry(actor=alice, type="note", title="Walrus note", tags=["sea"])
    services.create_entry(actor=alice, type="task", title="Walrus task", tags=["ice"])
    services.create_entry(actor=alice, type="bookmark", title="Walrus link", fields={"url": "https://walrus.example"})
    both = api.get("/api/v1/search/?q=walrus&type=note&type=task").json()
    assert sorted(hit["title"] for hit in both["results"]) == ["Walrus note", "Walrus task"]
    listed = api.get("/api/v1/entries/?type=note&type=task").json()["results"]
    assert sorted(entry["title"] for entry in listed) == ["Walrus note", "Walrus task"]
    any_tag = api.get("/api/v1/search/?q=walrus&tags_any=sea&tags_any=ice").json()
    assert len(any_tag["results"]) == 2
    bad = api.get("/api/v1/search/?q=walrus&type=note&type=bogus")
    assert bad.status_code == 400
    assert "bogus" in bad.json()["error"]["fields"]["type"][0]
