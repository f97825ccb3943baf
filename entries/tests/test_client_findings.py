"""Found by an independent client exercising the running server."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from entries import search_cache, services
from entries.models import Entry, Tag
from personalpod import dynamo

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("entry_type", "fields"), [("document", {"description": "a\u0000b"}), ("password", {"secret": "a\u0000b"})]
)
def test_a_null_character_in_a_field_is_a_400(api: APIClient, entry_type: str, fields: dict[str, str]) -> None:
    response = api.post("/api/v1/entries/", {"type": entry_type, "title": "t", "fields": fields}, format="json")
    assert response.status_code == 400
    assert next(iter(response.json()["error"]["fields"])).startswith("fields.")


def test_search_applies_date_filters_and_a_category_rename(alice: User, api: APIClient, settings: Any) -> None:
    dynamo.breaker.succeeded()
    settings.SEARCH_CACHE_MIN_MS = 0
    work = alice.categories.get(name="Work")
    services.create_entry(actor=alice, type="note", title="Filler", category=work.id)
    assert api.get("/api/v1/search/", {"q": "filler", "created_after": "2030-01-01T00:00:00Z"}).json()["count"] == 0
    assert api.get("/api/v1/search/", {"q": "orchard"}).json()["count"] == 0
    search_cache.flush()
    api.patch(f"/api/v1/categories/{work.id}/", {"name": "Orchard"}, format="json")
    assert api.get("/api/v1/search/", {"q": "orchard"}).json()["count"] == 1


def test_search_results_have_a_plain_title_and_take_limit(alice: User, api: APIClient) -> None:
    for n in range(3):
        services.create_entry(actor=alice, type="note", title=f"<b>Quince</b> {n}")
    body = api.get("/api/v1/search/", {"q": "quince", "limit": 2}).json()
    assert len(body["results"]) == 2
    assert body["results"][0]["title"].startswith("<b>Quince</b>")
    assert "<mark>Quince</mark>" in body["results"][0]["title_html"]


def test_tags_get_their_slug_at_once_and_symbol_names_do_not_collide(alice: User, api: APIClient) -> None:
    created = api.post("/api/v1/tags/", {"name": "Urgent Stuff"}, format="json").json()
    assert created["slug"] == "urgent-stuff"
    assert api.post("/api/v1/tags/", {"name": "!!!"}, format="json").status_code == 201
    assert api.post("/api/v1/tags/", {"name": "???"}, format="json").status_code == 201
    entry = api.post(
        "/api/v1/entries/", {"type": "note", "title": "t", "tags": ["###", "Foo", "foo"]}, format="json"
    ).json()
    assert entry["tags"] == ["###", "Foo"]
    assert Tag.objects.filter(owner=alice, name="!!!").exists()


def test_if_match_star_cursor_and_limit_errors(api: APIClient, make_entry: Any) -> None:
    entry = make_entry()
    assert (
        api.patch(f"/api/v1/entries/{entry['id']}/", {"title": "x"}, format="json", HTTP_IF_MATCH="*").status_code
        == 200
    )
    bad_cursor = api.get("/api/v1/entries/?cursor=garbage")
    assert (bad_cursor.status_code, list(bad_cursor.json()["error"]["fields"])) == (400, ["cursor"])
    for limit in ("-1", "abc", "0", "99999999999999999999"):
        response = api.get(f"/api/v1/entries/?limit={limit}")
        assert (response.status_code, list(response.json()["error"]["fields"])) == (400, ["limit"])


def test_bulk_move_needs_a_category_and_past_expiries_are_refused(api: APIClient, make_entry: Any) -> None:
    entry = make_entry()
    response = api.post("/api/v1/entries/bulk/", {"action": "move", "ids": [entry["id"]]}, format="json")
    assert (response.status_code, list(response.json()["error"]["fields"])) == (400, ["category"])
    moved = api.post("/api/v1/entries/bulk/", {"action": "move", "ids": [entry["id"]], "category": None}, format="json")
    assert moved.status_code == 200
    past = api.post(
        "/api/v1/entries/", {"type": "note", "title": "x", "expires_at": "2000-01-01T00:00:00Z"}, format="json"
    )
    assert (past.status_code, list(past.json()["error"]["fields"])) == (400, ["expires_at"])
    assert Entry.objects.count() == 1
