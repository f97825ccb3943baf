"""Search snippets: the words around a hit, as a reader sees them (no Markdown, no fake marks)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from entries import services
from entries.markdown import plain_fragment
from entries.tests.test_search import search

pytestmark = pytest.mark.django_db


def test_a_title_hit_shows_the_opening_words_of_the_content(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Loquat jam", content="Simmer slowly for an hour.")
    assert search(api, "loquat")["results"][0]["snippet"].startswith("Simmer slowly")


def test_a_notes_snippet_shows_its_words_not_its_markdown(alice: User, api: APIClient) -> None:
    content = "# Agenda\n- **budget** review\n- hiring [the plan](https://example.com/plan) *soon*\n> `quoted`"
    services.create_entry(actor=alice, type="note", title="Monday", content=content)
    (hit,) = search(api, "budget")["results"]
    assert hit["snippet"] == "Agenda <mark>budget</mark> review hiring the plan soon quoted"


def test_a_texts_own_marker_characters_cannot_fake_a_highlight(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Payload \x02bold\x03", content="payload \x02bold\x03 text")
    (hit,) = search(api, "payload")["results"]
    assert hit["title_html"] == "<mark>Payload</mark> bold"
    assert "<mark>bold</mark>" not in hit["snippet"]


def test_a_snippet_cut_inside_a_links_address_shows_the_links_text() -> None:
    assert plain_fragment("review [plan](https://example.com") == "review plan"


def test_half_a_bold_pair_cut_off_by_the_fragment_is_dropped(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Island", content="A **quokka** in Rottnest")
    (hit,) = search(api, "quokka")["results"]
    assert hit["snippet"] == "<mark>quokka</mark> in Rottnest"  # ts_headline starts at the hit, after the **
    assert plain_fragment("the end of **bold") == "the end of bold"
    assert plain_fragment("cut ~~half") == "cut half"
    assert plain_fragment("foo__bar stays") == "foo__bar stays"  # inside a word it is the word


@pytest.mark.parametrize("typed", ["meeting w", "meeting wi", "meeting wit", "meeting with", "Meeting W"])
def test_typing_a_stop_word_after_other_words_keeps_their_results(alice: User, api: APIClient, typed: str) -> None:
    services.create_entry(actor=alice, type="note", title="Meeting with Kestrel team")
    services.create_entry(actor=alice, type="note", title="Meeting notes", content="agenda and wine")
    body = search(api, typed)
    assert body["approximate"] is False
    assert {hit["title"] for hit in body["results"]} == {"Meeting with Kestrel team", "Meeting notes"}


def test_a_last_word_that_cannot_become_a_stop_word_still_narrows(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Meeting with Kestrel team")
    services.create_entry(actor=alice, type="note", title="Meeting notes")
    assert [hit["title"] for hit in search(api, "meeting kes")["results"]] == ["Meeting with Kestrel team"]
    assert search(api, "meeting zq")["approximate"] is True  # nothing as typed: close titles only


def test_words_in_angle_brackets_are_found_and_shown(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Snippets", content="<script>alert(2)</script> xssword")
    services.create_entry(actor=alice, type="note", title="Vector<int> and <!-- xsq -->")
    (hit,) = search(api, "script")["results"]
    assert hit["snippet"] == "<mark>script</mark> alert(2) /script xssword"  # as text, never as HTML
    assert [hit["title"] for hit in search(api, "xsq")["results"]] == ["Vector<int> and <!-- xsq -->"]
    assert [hit["title"] for hit in search(api, "int")["results"]] == ["Vector<int> and <!-- xsq -->"]
