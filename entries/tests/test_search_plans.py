"""How search finds its candidates: the probe's choice of way, the reader's scope compiled
once per filter set, and statements psycopg can keep parsed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from entries import services
from entries.tests.test_search import search

pytestmark = pytest.mark.django_db


def test_the_probe_reads_rows_for_common_words_and_the_index_for_rare_ones(
    alice: User, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entries import search as search_module
    from sharing.services import create_share

    monkeypatch.setattr(search_module, "PROBE_ROWS", 10)
    for n in range(30):
        services.create_entry(actor=alice, type="note", title=f"Quince {n}", content="rare" if n == 3 else "")
    theirs = services.create_entry(actor=bob, type="note", title="Bob's quince", content="rare")
    create_share(actor=bob, entry_id=theirs.id, grantee="alice")
    chosen: list[bool] = []
    probe = search_module._probe

    def recorded(*args: Any) -> Any:
        probed = probe(*args)
        chosen.append(probed.dense)
        return probed

    monkeypatch.setattr(search_module, "_probe", recorded)

    def found(q: str, **filters: Any) -> tuple[set[str], int]:
        page = search_module.search_entries(reader=alice, q=q, page_size=50, **filters)
        return {hit.title for hit in page.results}, page.count

    assert found("quince") == ({*(f"Quince {n}" for n in range(30)), "Bob's quince"}, 31)
    assert found("rare") == ({"Quince 3", "Bob's quince"}, 2)
    assert chosen == [True, False]  # the newest ten all match; none of them has "rare"
    # Both ways find the same entries, the shared one included, with the same filters.
    for way in (True, False):
        monkeypatch.setattr(search_module, "_probe", lambda *args, way=way: replace(probe(*args), dense=way))
        assert found("rare") == ({"Quince 3", "Bob's quince"}, 2)
        assert found("quince", types=["task"]) == (set(), 0)
        assert found("quince -rare", types=["note"])[1] == 29
        assert found("quince 1")[0] == {"Quince 1"} | {f"Quince 1{n}" for n in range(10)}


@pytest.mark.parametrize("whose", ["all", "own", "shared"])
@pytest.mark.parametrize(
    "filters",
    [{}, {"types": ["note", "task"], "statuses": ["archived"], "tags_all": ["Lisbon"], "tags_any": ["a", "b"]},
     {"created_after": datetime(2026, 1, 1, tzinfo=UTC), "due_before": datetime(2026, 2, 1, tzinfo=UTC)}],
)  # fmt: skip
def test_a_scope_compiled_once_for_anyone_is_the_readers_own(
    alice: User, bob: User, whose: Any, filters: dict[str, Any]
) -> None:
    from entries import search as search_module
    from entries.selectors import entries_for_reader

    def as_text(scope: tuple[str, Any]) -> str:
        return connection.ops.compose_sql(*scope)  # type: ignore[no-any-return]

    for reader in (alice, bob):
        fresh = as_text(search_module._compile(entries_for_reader(reader=reader, whose=whose, **filters)))
        assert as_text(search_module._scope(reader, whose, filters)) == fresh
        assert reader.id.hex in fresh


def test_a_scope_that_depends_on_the_reader_beyond_their_id_is_not_cached(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entries import search as search_module
    from entries.selectors import entries_for_reader

    search_module._scope_for_anyone.cache_clear()
    monkeypatch.setattr(
        search_module,
        "entries_for_reader",
        lambda *, reader, **filters: entries_for_reader(reader=reader, **filters).exclude(title=str(reader.id)),
    )
    assert search_module._scope_for_anyone("own", ()) is None  # the id as text: a swap would miss it
    _, params = search_module._scope(alice, "own", {})
    assert str(alice.id) in params
    search_module._scope_for_anyone.cache_clear()


def test_the_web_search_pages_scope_is_cached(alice: User) -> None:
    from entries import search as search_module

    search_module._scope_for_anyone.cache_clear()
    for _ in range(2):
        search_module.search_entries(reader=alice, q="anything", category=None)
    assert search_module._scope_for_anyone.cache_info().hits >= 1


def test_a_category_scope_is_compiled_for_the_reader(alice: User, bob: User) -> None:
    from entries import search as search_module

    work = alice.categories.get(name="Work")
    _, params = search_module._scope(alice, "all", {"category": work.id})
    assert work.id in params
    assert alice.id in params


def test_search_statements_stay_within_what_psycopg_caches(alice: User, bob: User, api: APIClient) -> None:
    """psycopg re-parses, on every call, a statement with more than 50 parameters or over 4 KB
    (`MAX_CACHED_STATEMENT_PARAMS`, `MAX_CACHED_STATEMENT_LENGTH`): the page statement takes
    each tsquery once, as text from the probe, not the expressions that built it. (Each tag
    filtered by adds parameters to both; a search with a few stays within the limits.)"""
    from psycopg import _queries

    from sharing.services import create_share

    services.create_entry(actor=alice, type="note", title="Lisbon travel", tags=["trips", "family"])
    theirs = services.create_entry(actor=bob, type="note", title="Lisbon trams")
    create_share(actor=bob, entry_id=theirs.id, grantee="alice")
    sizes: dict[str, tuple[int, int]] = {}

    def measured(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        for name, marker in (("probe", "FILTER (WHERE"), ("page", "ts_headline")):
            if marker in sql:
                sizes[name] = (len(sql.encode()), len(params or ()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(measured):
        body = search(api, "lisbon -museum tra", tags="trips,family", type="note,task", status="active")
    assert [hit["title"] for hit in body["results"]] == ["Lisbon travel"]
    assert set(sizes) == {"probe", "page"}
    for length, params in sizes.values():
        assert length <= _queries.MAX_CACHED_STATEMENT_LENGTH
        assert params <= _queries.MAX_CACHED_STATEMENT_PARAMS
