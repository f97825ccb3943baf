"""The web search page and the search box's suggestions: cases a client found."""

from __future__ import annotations

import pytest

from accounts.models import User
from entries import services
from entries.models import Status
from entries.tests.test_web_pages import signed_in

pytestmark = pytest.mark.django_db


def test_a_nul_in_the_search_box_suggests_nothing(alice: User) -> None:
    web = signed_in(alice)
    for q in ("\x00", "a\x00b"):
        response = web.get("/search/suggest/", {"q": q})
        assert response.status_code == 200
        assert response.content == b""


def test_the_active_status_choice_leaves_archived_entries_out(alice: User) -> None:
    kept = services.create_entry(actor=alice, type="note", title="Zephyr notes")
    gone = services.create_entry(actor=alice, type="note", title="Zephyr archive")
    services.set_status(actor=alice, entry_id=gone.id, status=Status.ARCHIVED)
    web = signed_in(alice)
    everywhere = web.get("/search/", {"q": "zephyr"}).content.decode()
    assert str(gone.id) in everywhere
    assert '<option value="all" selected>' in everywhere
    active = web.get("/search/", {"q": "zephyr", "status": ""}).content.decode()
    assert str(kept.id) in active
    assert str(gone.id) not in active
    assert '<option value="" selected>' in active
    assert '<option value="all" selected>' not in active


def test_a_search_that_only_leaves_words_out_asks_for_a_word(alice: User) -> None:
    from rest_framework.test import APIClient

    services.create_entry(actor=alice, type="note", title="Budget 2027")
    services.create_entry(actor=alice, type="note", title="Holiday")
    api = APIClient()
    api.force_authenticate(alice)
    refused = api.get("/api/v1/search/", {"q": "-budget"})
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["q"] == ["Add a word to look for: -word only leaves words out."]
    assert [hit["title"] for hit in api.get("/api/v1/search/", {"q": "- budget"}).json()["results"]] == ["Budget 2027"]
    web = signed_in(alice)
    assert "only leaves words out" in web.get("/search/", {"q": "-budget"}).content.decode()
    assert web.get("/search/suggest/", {"q": "-budget"}).content == b""


def test_a_page_past_the_last_says_how_many_results_there_are(alice: User) -> None:
    from rest_framework.test import APIClient

    services.create_entry(actor=alice, type="note", title="Budget")
    api = APIClient()
    api.force_authenticate(alice)
    body = api.get("/api/v1/search/", {"q": "budget", "page_size": 1, "page": 2}).json()
    assert (body["results"], body["count"], body["next"]) == ([], 1, None)
    page = signed_in(alice).get("/search/", {"q": "budget", "page": 9}).content.decode()
    assert "No more results" in page
    assert "Nothing found" not in page
