"""The web search page and the search box's suggestions: cases a client found."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import User
from entries import services
from entries.models import Status
from entries.tests.test_web_pages import note, signed_in

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


def test_search_page_and_suggestions(web: Client, alice: User) -> None:
    note(alice, "Lisbon travel plans", content="tram")
    note(alice, "Groceries")
    suggest = web.get("/search/suggest/", {"q": "lisb"}).content.decode()
    assert "<mark>Lisb" in suggest
    assert "Groceries" not in suggest
    page = web.get("/search/", {"q": "lisbon", "type": "note"}).content.decode()
    assert "<mark>Lisbon</mark>" in page
    assert "-word to leave one out, and <code>or</code> between two words to allow either." in page
    assert 'value="note" selected' in page
    typo = web.get("/search/", {"q": "lisbn"}).content.decode()
    assert "Did you mean" in typo
    assert web.get("/search/suggest/", {"q": ""}).content == b""
    partial = web.get("/search/", {"q": "lisbon"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-results")
    assert partial["HX-Push-Url"] == "/search/?q=lisbon"


def test_search_page_narrows_by_tags_and_each_chip_removes_its_tag(web: Client, alice: User, bob: User) -> None:
    note(alice, "Lisbon trams", tags=["travel", "family"])
    note(alice, "Lisbon taxes", tags=["money"])
    note(bob, "Lisbon bob", tags=["bobs-tag"])
    page = web.get("/search/", {"q": "lisbon"}).content.decode()
    options = re.findall(r'<select id="search-tag" name="tag">(.*?)</select>', page, re.S)[0]
    assert re.findall(r'<option value="([^"]*)"', options) == ["", "family", "money", "travel"]  # alice's own
    narrowed = web.get("/search/?q=lisbon&tag=travel").content.decode()
    assert "<mark>Lisbon</mark> trams" in narrowed
    assert "taxes" not in narrowed
    assert '<input type="hidden" name="tag" value="travel">' in narrowed
    chip = re.findall(r'<a class="chip active" href="([^"]*)"[^>]*>#travel', narrowed)
    assert chip == ["?q=lisbon"]
    options = re.findall(r'<select id="search-tag" name="tag">(.*?)</select>', narrowed, re.S)[0]
    assert "Also tagged" in options
    assert 'value="travel"' not in options
    # Picking a tag as you type: the results and, out of band, the tag filter follow.
    partial = web.get(
        "/search/?q=lisbon&tag=travel&tag=family&tag=", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-results"
    ).content.decode()
    assert "<mark>Lisbon</mark> trams" in partial
    tags = re.findall(r'<div id="search-tags" class="chips" hx-swap-oob="true">(.*?)</div>', partial, re.S)[0]
    assert re.findall(r'name="tag" value="([^"]*)">', tags) == ["travel", "family"]
    assert re.findall(r'<option value="([^"]*)"', tags) == ["", "money"]
    assert "Remove the tag filter family" in tags
    both = web.get("/search/?q=lisbon&tag=travel&tag=money").content.decode()
    assert "Nothing found" in both
    assert "with these filters" in both


def test_search_page_says_when_results_are_approximate_and_when_a_query_cannot_run(web: Client, alice: User) -> None:
    note(alice, "Zebracorn one")
    note(alice, "Marmalade two")
    close = web.get("/search/", {"q": "zebracorn marmalade"}).content.decode()
    assert "No exact matches for “zebracorn marmalade”. Close matches:" in close
    assert "Zebracorn one" in close
    too_long = web.get("/search/", {"q": "word " * 120}).content.decode()
    assert "A search can be at most 500 characters; this one has 599." in too_long
    assert "Search everything" not in too_long
    assert "Null characters are not allowed" in web.get("/search/", {"q": "a\x00b"}).content.decode()


def test_small_pages_reach_every_counted_result_and_next_never_points_past_them(alice: User) -> None:
    from rest_framework.test import APIClient

    for n in range(53):
        services.create_entry(actor=alice, type="note", title=f"Zebra item {n}")
    api = APIClient()
    api.force_authenticate(alice)
    fiftieth = api.get("/api/v1/search/", {"q": "zebra", "page_size": 1, "page": 50}).json()
    assert (fiftieth["count"], len(fiftieth["results"])) == (53, 1)
    assert "page=51" in fiftieth["next"]
    fifty_first = api.get(fiftieth["next"])
    assert fifty_first.status_code == 200
    assert len(fifty_first.json()["results"]) == 1
    last = api.get("/api/v1/search/", {"q": "zebra", "page_size": 1, "page": 53}).json()
    assert (len(last["results"]), last["next"]) == (1, None)


def test_a_query_without_a_word_is_refused_with_a_message_that_fits(alice: User) -> None:
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(alice)
    for q, message in [
        ('"', "Type a word to search for: this has no letters or digits."),
        ("& | !", "Type a word to search for: this has no letters or digits."),
        ("-budget", "Add a word to look for: -word only leaves words out."),
        ("*", "Type something to search for."),
    ]:
        response = api.get("/api/v1/search/", {"q": q})
        assert response.status_code == 400, q
        assert response.json()["error"]["fields"]["q"] == [message], q
    assert api.get("/api/v1/search/", {"q": "the and"}).status_code == 200  # stop words are searched
    page = signed_in(alice).get("/search/", {"q": '"'}).content.decode()
    assert "Type a word to search for" in page


def test_a_page_after_close_matches_still_says_they_were_close(alice: User) -> None:
    from rest_framework.test import APIClient

    services.create_entry(actor=alice, type="note", title="Gecko sightings")
    api = APIClient()
    api.force_authenticate(alice)
    first = api.get("/api/v1/search/", {"q": "geckko"}).json()
    assert (first["approximate"], first["suggestion"]) == (True, "gecko")
    second = api.get("/api/v1/search/", {"q": "geckko", "page": 2}).json()
    assert (second["results"], second["approximate"], second["suggestion"], second["next"]) == ([], True, "gecko", None)
