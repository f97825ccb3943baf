from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from entries import services
from entries.models import Entry
from entries.related import any_of, related_entries
from entries.tests.test_web_pages import signed_in
from sharing.services import create_share, revoke_share

pytestmark = pytest.mark.django_db


def note(owner: User, title: str, content: str = "", **extra: Any) -> Entry:
    return services.create_entry(actor=owner, type="note", title=title, content=content, **extra)


def related_titles(api: APIClient, entry: Entry, **params: Any) -> list[str]:
    response = api.get(f"/api/v1/entries/{entry.id}/related/", params)
    assert response.status_code == 200, response.content
    return [hit["title"] for hit in response.json()["results"]]


@pytest.fixture
def trip(alice: User) -> Entry:
    return note(alice, "Lisbon trip", "Trams, pastries and the castle in Lisbon. Book the castle tickets.")


def test_entries_sharing_the_most_keywords_come_first(alice: User, api: APIClient, trip: Entry) -> None:
    note(alice, "Castle tickets", "Lisbon castle opens at nine")
    note(alice, "Pastries", "the best pastries near the river")
    note(alice, "Groceries", "milk, eggs")
    assert related_titles(api, trip) == ["Castle tickets", "Pastries"]
    body = api.get(f"/api/v1/entries/{trip.id}/related/").json()
    assert body["results"][0]["keywords"][:2] == ["lisbon", "castl"]  # the trip's best words first
    assert body["results"][0]["shared"] is False
    assert related_titles(api, trip, limit=1) == ["Castle tickets"]


def test_related_leaves_out_the_trash_other_vaults_and_finds_shared_entries(
    alice: User, bob: User, api: APIClient, trip: Entry
) -> None:
    services.bulk_change(actor=alice, action="trash", ids=[note(alice, "Old Lisbon castle plan").id])
    note(bob, "Bob's Lisbon castle")
    shared = note(bob, "Bob's Lisbon pastries")
    create_share(actor=bob, entry_id=shared.id, grantee="alice")
    body = api.get(f"/api/v1/entries/{trip.id}/related/").json()
    assert [(hit["title"], hit["shared"]) for hit in body["results"]] == [("Bob's Lisbon pastries", True)]
    revoke_share(actor=bob, share_id=shared.shares.get().id)
    assert related_titles(api, trip) == []


def test_each_result_lists_the_keywords_it_contains_even_once_in_a_long_text(
    alice: User, api: APIClient, trip: Entry
) -> None:
    words = " ".join(f"filler{n} word{n}" for n in range(300))
    note(alice, "Long diary", f"{words} one evening we saw a castle {words}")
    body = api.get(f"/api/v1/entries/{trip.id}/related/").json()
    assert [(hit["title"], hit["keywords"]) for hit in body["results"]] == [("Long diary", ["castl"])]


def test_an_entry_without_keywords_has_none_related(alice: User, api: APIClient) -> None:
    empty = services.create_entry(actor=alice, type="note", title="—")
    assert Entry.objects.get(id=empty.id).keywords == []
    assert related_titles(api, empty) == []


def test_keywords_are_matched_as_the_lexemes_they_are(alice: User) -> None:
    # Quoted, not parsed again: a quote, a backslash and an address stay one lexeme each.
    assert any_of(["o'brien", "a\\b", "example.com/path"]) == "'o''brien' | 'a\\\\b' | 'example.com/path'"
    url = "https://example.com/o'brien\\notes?q=a:b"
    bookmark = services.create_entry(actor=alice, type="bookmark", title="Docs", fields={"url": url})
    other = services.create_entry(actor=alice, type="bookmark", title="More", fields={"url": url})
    bookmark.refresh_from_db()
    assert any("'" in word for word in bookmark.keywords)  # e.g. "example.com/o'brien"
    assert [hit.id for hit in related_entries(reader=alice, entry=bookmark)] == [other.id]


def test_related_api_errors(alice: User, bob: User, api: APIClient, trip: Entry) -> None:
    assert APIClient().get(f"/api/v1/entries/{trip.id}/related/").status_code == 401
    theirs = note(bob, "Bob's Lisbon castle")
    missing = api.get(f"/api/v1/entries/{theirs.id}/related/")
    assert missing.status_code == 404
    for limit in ("0", "21", "many"):
        bad = api.get(f"/api/v1/entries/{trip.id}/related/", {"limit": limit})
        assert bad.status_code == 400
        assert set(bad.json()["error"]["fields"]) == {"limit"}


def test_related_takes_a_bounded_number_of_queries(
    alice: User, api: APIClient, trip: Entry, django_assert_max_num_queries: Any
) -> None:
    for n in range(20):
        note(alice, f"Lisbon castle {n}", "pastries")
    with django_assert_max_num_queries(4):  # the entry (with its tags), the related entries
        assert len(related_titles(api, trip, limit=20)) == 20


def test_the_entry_page_lists_related_entries(alice: User, trip: Entry) -> None:
    note(alice, "Castle tickets", "Lisbon castle opens at nine")
    note(alice, "Groceries", "milk, eggs")
    page = signed_in(alice).get(f"/entries/{trip.id}/").content.decode()
    assert 'aria-labelledby="related-title"' in page
    assert "Castle tickets" in page
    assert "Groceries" not in page
    alone = note(alice, "Zebracorn")
    assert 'aria-labelledby="related-title"' not in signed_in(alice).get(f"/entries/{alone.id}/").content.decode()


def test_the_parts_every_web_address_has_are_no_keywords(alice: User, api: APIClient) -> None:
    bank = services.create_entry(
        actor=alice, type="bookmark", title="Bank", fields={"url": "https://www.bank.example.com/login.html"}
    )
    services.create_entry(actor=alice, type="bookmark", title="Docs", fields={"url": "https://docs.python.org"})
    bank.refresh_from_db()
    assert not {"http", "https", "www", "com", "org", "html"} & set(bank.keywords)
    assert "bank" in bank.keywords
    assert related_titles(api, bank) == []
