from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from entries import search_cache, services
from entries.models import Entry, Tag
from personalpod import dynamo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def closed_breaker(settings: Any) -> None:
    dynamo.breaker.succeeded()
    settings.SEARCH_CACHE_MIN_MS = 0  # cache every page here; the threshold has its own test


def search(api: APIClient, q: str, **params: Any) -> Any:
    response = api.get("/api/v1/search/", {"q": q, **params})
    assert response.status_code == 200, response.content
    search_cache.flush()  # cache writes happen after the answer
    return response.json()


def titles(body: Any) -> list[str]:
    return [hit["title"].replace("<mark>", "").replace("</mark>", "") for hit in body["results"]]


def test_a_title_hit_ranks_above_a_tag_hit_above_a_content_hit(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Misc", content="about the harbour at night")
    services.create_entry(actor=alice, type="note", title="Other", tags=["harbour"])
    services.create_entry(actor=alice, type="note", title="Harbour walk")
    assert titles(search(api, "harbour")) == ["Harbour walk", "Other", "Misc"]


def test_words_in_a_tag_and_in_the_category_name_are_found(alice: User, api: APIClient) -> None:
    work = alice.categories.get(name="Work")
    services.create_entry(actor=alice, type="note", title="A", category=work.id)
    services.create_entry(actor=alice, type="note", title="B", tags=["zeppelin"])
    assert titles(search(api, "work")) == ["A"]
    assert titles(search(api, "zeppelin")) == ["B"]


def test_searchable_fields_are_found_and_highlighted(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="bookmark", title="Docs", fields={"url": "https://docs.djangoproject.com/"})
    services.create_entry(actor=alice, type="contact", title="Sam", fields={"organisation": "Umbrella Corp"})
    services.create_entry(actor=alice, type="note", title="Plain", content="the <b>quokka</b> smiles & <script>")
    assert titles(search(api, "djangoproject")) == ["Docs"]
    assert titles(search(api, "umbrella")) == ["Sam"]
    hit = search(api, "quokka")["results"][0]
    assert "<mark>quokka</mark>" in hit["snippet"]
    assert "<b>" not in hit["snippet"]  # the entry's own markup never reaches the page as markup


def test_a_logins_username_site_and_notes_are_found_and_its_secrets_are_not(alice: User, api: APIClient) -> None:
    services.create_entry(
        actor=alice,
        type="password",
        title="Work VPN",
        fields={
            "username": "quendauser",
            "url": "https://vpn.pademelon.example/login",
            "notes": "rotate every marsupial quarter",
            "secret": "wombatsecret",
            "totp_seed": "JBSWY3DPEHPK3PXP",
        },
    )
    for word in ("quendauser", "pademelon", "marsupial"):
        assert titles(search(api, word)) == ["Work VPN"], word
    assert search(api, "wombatsecret")["results"] == []
    assert search(api, "JBSWY3DPEHPK3PXP")["results"] == []


def test_a_contacts_postal_address_and_phone_number_are_found(alice: User, api: APIClient) -> None:
    services.create_entry(
        actor=alice,
        type="contact",
        title="Jo",
        fields={"addresses": ["12 Numbat Street\nPerth"], "phones": ["+61 8 9123 4567"]},
    )
    assert titles(search(api, "numbat perth")) == ["Jo"]
    assert titles(search(api, "9123")) == ["Jo"]


def test_keywords_are_words_not_numbers(alice: User, api: APIClient) -> None:
    entry = services.create_entry(
        actor=alice, type="note", title="Budget 2026-2027", content="budget 2026-2027 v2 -15 q3 2026-2027"
    )
    keywords = api.get(f"/api/v1/entries/{entry.id}/").json()["keywords"]
    assert keywords[0] == "budget"
    assert all(any(c.isalpha() for c in word) for word in keywords), keywords


def test_the_vector_follows_bulk_updates_tag_renames_and_category_renames(alice: User, api: APIClient) -> None:
    entry = services.create_entry(actor=alice, type="note", title="Before", tags=["oldtag"])
    Entry.objects.filter(id=entry.id).update(title="Kumquat")
    assert titles(search(api, "kumquat")) == ["Kumquat"]
    tag = Tag.objects.get(owner=alice, name="oldtag")
    services.update_tag(actor=alice, tag_id=tag.id, name="persimmon")
    assert titles(search(api, "persimmon")) == ["Kumquat"]
    assert search(api, "oldtag")["results"] == [] or search(api, "oldtag")["count"] == 0
    with connection.cursor() as cursor:
        cursor.execute("UPDATE entries_entry SET content = 'durian' WHERE id = %s", [entry.id])
    assert titles(search(api, "durian")) == ["Kumquat"]


def test_keywords_are_the_entrys_top_terms(alice: User, api: APIClient) -> None:
    entry = services.create_entry(actor=alice, type="note", title="Sourdough bread", content="bread flour water bread")
    body = api.get(f"/api/v1/entries/{entry.id}/").json()
    assert body["keywords"][:2] == ["bread", "sourdough"]


def test_a_secret_is_never_found(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="password", title="Bank", fields={"secret": "xylophonic"})
    services.create_entry(actor=alice, type="note", title="Diary", content="zanzibar", is_sensitive=True)
    assert search(api, "xylophonic")["results"] == []
    assert search(api, "zanzibar")["results"] == []
    assert titles(search(api, "diary")) == ["Diary"]


def test_phrase_exclusion_or_and_prefix_queries(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Red apple pie")
    services.create_entry(actor=alice, type="note", title="Apple red tart")
    services.create_entry(actor=alice, type="note", title="Green apple")
    assert titles(search(api, '"red apple"')) == ["Red apple pie"]
    assert sorted(titles(search(api, "apple -red"))) == ["Green apple"]
    assert sorted(titles(search(api, "pie or tart"))) == ["Apple red tart", "Red apple pie"]
    assert sorted(titles(search(api, "gre"))) == ["Green apple"]  # as you type
    assert sorted(titles(search(api, "apple ta"))) == ["Apple red tart"]
    assert sorted(titles(search(api, "gre*"))) == ["Green apple"]  # the wildcard people type
    assert api.get("/api/v1/search/", {"q": " * "}).json()["error"]["fields"]["q"]


@pytest.mark.parametrize(
    ("typed", "found"),
    [("the", {"Theatre tickets", "Lisbon theatre"}), ("me", {"Meeting notes"}), ("to", {"Todo list"})],
)
def test_a_stop_word_being_typed_matches_as_a_prefix(alice: User, api: APIClient, typed: str, found: set[str]) -> None:
    for title in ("Theatre tickets", "Meeting notes", "Todo list", "Lisbon theatre", "Lisbon museum"):
        services.create_entry(actor=alice, type="note", title=title)
    body = search(api, typed)
    assert set(titles(body)) == found
    assert body["approximate"] is False
    # After other words too; the entries with every word come first.
    assert titles(search(api, "lisbon the")) == ["Lisbon theatre", "Lisbon museum"]
    assert "<mark>Theatre</mark> tickets" in [hit["title_html"] for hit in search(api, "the")["results"]]


def test_a_word_finished_before_an_exclusion_is_not_ranked_as_a_prefix(alice: User, api: APIClient) -> None:
    for title in ("Lisbon theatre", "Lisbon tram", "Lisbon museum"):
        services.create_entry(actor=alice, type="note", title=title)
    # "the" was typed in full: it ranks nothing up, and the newest match comes first.
    assert titles(search(api, "lisbon the -museum")) == ["Lisbon tram", "Lisbon theatre"]
    assert titles(search(api, "lisbon -museum the")) == ["Lisbon theatre", "Lisbon tram"]  # still being typed


def test_a_typo_falls_back_to_similar_titles_with_a_suggestion(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Passport renewal")
    body = search(api, "pasport")
    assert titles(body) == ["Passport renewal"]
    assert body["suggestion"] == "passport"
    assert body["approximate"] is True
    assert search(api, "passport")["approximate"] is False


def test_close_matches_without_a_suggestion_still_say_they_are_approximate(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Zebracorn one")
    services.create_entry(actor=alice, type="note", title="Marmalade two")
    body = search(api, "zebracorn marmalade")  # each word is in one entry: no entry has both
    assert sorted(titles(body)) == ["Marmalade two", "Zebracorn one"]
    assert body["approximate"] is True
    assert "suggestion" not in body


def test_the_typo_fallback_keeps_exclusions(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Lisbon travel plans", content="the tram tour")
    services.create_entry(actor=alice, type="note", title="Travel insurance", content="annual cover")
    # Nothing has "travel" without "tram"... except the insurance note; a typo keeps the "-tram".
    assert titles(search(api, "travel -tram")) == ["Travel insurance"]
    body = search(api, "travle -tram")
    assert titles(body) == ["Travel insurance"]
    assert body["suggestion"] == "travel -tram"
    assert search(api, "lisbon -tram")["results"] == []


def test_a_typo_close_to_a_tag_finds_the_tagged_entries(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Receipts", tags=["groceries"])
    services.create_entry(actor=alice, type="note", title="Unrelated", tags=["garden"])
    body = search(api, "grocries")
    assert titles(body) == ["Receipts"]
    assert body["suggestion"] == "groceries"


def test_connections_start_with_the_typo_threshold() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW pg_trgm.word_similarity_threshold")
        assert cursor.fetchone()[0] == "0.4"  # read by %> in the typo fallback, no SET needed


def test_another_users_entries_never_appear(alice: User, bob: User, api: APIClient) -> None:
    services.create_entry(actor=bob, type="note", title="Bob's aubergine")
    assert search(api, "aubergine")["results"] == []
    assert search(api, "aubergne")["results"] == []  # nor through the typo fallback


def test_filters_and_pages(alice: User, api: APIClient) -> None:
    for n in range(25):
        services.create_entry(actor=alice, type="note" if n % 2 else "task", title=f"Lemon {n}")
    first = search(api, "lemon", page_size=10)
    assert (len(first["results"]), first["count"], first["count_display"]) == (10, 25, "25")
    assert first["next"] is not None
    assert len(api.get(first["next"]).json()["results"]) == 10
    assert search(api, "lemon", type="task")["count"] == 13


@pytest.mark.parametrize("q", ["", "   "])
def test_an_empty_query_is_a_400(api: APIClient, q: str) -> None:
    response = api.get("/api/v1/search/", {"q": q})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["q"]


def test_a_query_over_500_characters_is_a_400(api: APIClient) -> None:
    response = api.get("/api/v1/search/", {"q": "a" * 501})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["q"]


@pytest.mark.parametrize(
    "q",
    ["the and of", '"unbalanced', "-", "or", "!!!", "' OR 1=1; DROP TABLE entries_entry; --", "a & b | !c",
     "日本語のメモ", "émoji 🎉", "\\", ":*", "x:* & y", "(((", "a" * 500],
)  # fmt: skip
def test_odd_queries_never_fail(alice: User, api: APIClient, q: str) -> None:
    services.create_entry(actor=alice, type="note", title="Something")
    response = api.get("/api/v1/search/", {"q": q})
    if any(character.isalnum() for character in q):
        assert response.status_code == 200, response.content
    else:  # no word in it at all: said so, about q
        assert response.status_code == 400, response.content
        assert list(response.json()["error"]["fields"]) == ["q"]
    assert Entry.objects.filter(owner=alice).count() == 1


def test_signed_out_is_401() -> None:
    assert APIClient().get("/api/v1/search/", {"q": "x"}).status_code == 401


def test_search_takes_a_bounded_number_of_queries(
    alice: User, api: APIClient, django_assert_max_num_queries: Any, settings: Any
) -> None:
    for n in range(30):
        services.create_entry(actor=alice, type="note", title=f"Olive {n}", tags=["grove"])
    # A first search: the probe (and change_seq), the page; and, as this one is stored, the
    # reader's row learns the change_seq of its page.
    with django_assert_max_num_queries(3):
        search(api, "olive", page_size=30)
    settings.SEARCH_CACHE_MIN_MS = 10_000  # not worth storing: nothing but the search
    with django_assert_max_num_queries(2):
        search(api, "olive grove", page_size=30)


def test_a_typo_fallback_lists_an_entry_once_and_keeps_exclusions(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Groceries list", tags=["groceries"])
    services.create_entry(actor=alice, type="note", title="Market run", content="milk", tags=["groceries"])
    body = search(api, "grocries")
    assert sorted(titles(body)) == ["Groceries list", "Market run"]
    assert body["results"][0]["title"] == "Groceries list"  # its own title is closer than the tag
    assert titles(search(api, "grocries -milk")) == ["Groceries list"]


def test_a_query_with_an_exclusion_still_ranks_by_its_words(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Plain note", content="about lisbon")
    services.create_entry(actor=alice, type="note", title="Lisbon travel insurance")
    services.create_entry(actor=alice, type="note", title="Lisbon tram tour")
    body = search(api, "lisbon -tram")
    assert titles(body) == ["Lisbon travel insurance", "Plain note"]  # the title hit first
    assert all(hit["rank"] > 0 for hit in body["results"])


def test_the_schema_describes_the_answer(client: Any) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    answer = schema["components"]["schemas"]["SearchOut"]["properties"]
    assert {"results", "next", "count", "count_display", "approximate", "suggestion", "cached"} <= set(answer)
    assert set(schema["components"]["schemas"]["SearchHitOut"]["properties"]) == {
        "id", "type", "title", "title_html", "snippet", "rank", "shared"
    }  # fmt: skip


def test_pages_end_with_the_last_result_counted(alice: User, api: APIClient) -> None:
    Entry.objects.bulk_create(Entry(owner=alice, type="note", title=f"Pagword item {n}") for n in range(1005))
    first = search(api, "pagword", page_size=50)
    assert (first["count"], first["count_display"], len(first["results"])) == (1000, "1,000+", 50)
    last = search(api, "pagword", page_size=50, page=20)
    assert len(last["results"]) == 50
    assert last["next"] is None
    beyond = api.get("/api/v1/search/", {"q": "pagword", "page_size": 50, "page": 21})
    assert beyond.status_code == 400
    assert beyond.json()["error"]["fields"]["page"] == [
        "Pages of 50 end at page 20: only the first 1,000 results are ranked."
    ]
    seen = {hit["id"] for page in range(1, 21) for hit in search(api, "pagword", page_size=50, page=page)["results"]}
    assert len(seen) == 1000
    web = Client()
    web.force_login(alice)
    for path in ("/search/", "/search/suggest/"):  # the web says it as the API does
        assert "1,000+" in web.get(path, {"q": "pagword"}).content.decode()


def test_an_unknown_status_lists_the_known_ones(api: APIClient) -> None:
    response = api.get("/api/v1/search/", {"q": "gizmo", "status": "trash"})
    assert response.status_code == 400
    assert "deleted" in response.json()["error"]["fields"]["status"][0]
