"""The search cache: pages in DynamoDB, served only while they show the vault as it is."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from entries import search_cache, services
from entries.dynamo import SearchIndexItem
from entries.tests.test_search import search, titles
from personalpod import dynamo, metrics

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def closed_breaker(settings: Any) -> None:
    dynamo.breaker.succeeded()
    settings.SEARCH_CACHE_MIN_MS = 0  # cache every page here; the threshold has its own test


def test_a_cached_page_is_served_until_a_write(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Tangerine")
    assert search(api, "tangerine")["cached"] is False
    assert search(api, "tangerine")["cached"] is True
    items = list(SearchIndexItem.query(f"USER#{alice.id}"))
    assert items
    assert all("tangerine" not in item.sk for item in items)
    services.create_entry(actor=alice, type="note", title="Tangerine two")
    fresh = search(api, "tangerine")
    assert (fresh["cached"], fresh["count"]) == (False, 2)
    assert metrics.counters().get('personalpod_search_cache_total{outcome="hit"}', 0) >= 1


def test_a_miss_skips_dynamodb_and_a_hit_survives_redis_losing_its_marker(
    alice: User, api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.create_entry(actor=alice, type="note", title="Kumquat")
    reads: list[object] = []
    real_get = SearchIndexItem.get
    monkeypatch.setattr(SearchIndexItem, "get", lambda *a, **k: reads.append(a) or real_get(*a, **k))
    assert search(api, "kumquat")["cached"] is False
    assert reads == []  # no page was ever stored for this version: Redis says so
    assert search(api, "kumquat")["cached"] is True
    assert len(reads) == 1
    monkeypatch.setattr(search_cache.cache, "get", lambda *a, **k: (_ for _ in ()).throw(ConnectionError()))
    assert search(api, "kumquat")["cached"] is True  # Redis away: DynamoDB still answers


def test_search_works_with_dynamodb_down(alice: User, api: APIClient, dynamodb_outage: Any) -> None:
    services.create_entry(actor=alice, type="note", title="Rambutan")
    dynamodb_outage.down(SearchIndexItem)
    body = search(api, "rambutan")
    assert titles(body) == ["Rambutan"]
    assert body["cached"] is False
    assert not dynamo.breaker.allows()  # the next searches skip DynamoDB for a while
    assert titles(search(api, "rambutan")) == ["Rambutan"]
    assert "personalpod_search_cache_total" in APIClient().get("/metrics").content.decode()


def test_a_write_during_a_search_leaves_its_page_labelled_older(
    alice: User, api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entries import search as search_module

    services.create_entry(actor=alice, type="note", title="Persimmon one")
    probe = search_module._probe

    def probe_then_write(*args: Any) -> tuple[bool, int]:
        found = probe(*args)
        monkeypatch.setattr(search_module, "_probe", probe)
        services.create_entry(actor=alice, type="note", title="Persimmon two")  # lands before the page is read
        return found

    monkeypatch.setattr(search_module, "_probe", probe_then_write)
    assert search(api, "persimmon")["count"] == 2  # the page saw the write...
    again = search(api, "persimmon")  # ...but was stored under the change_seq before it
    assert (again["cached"], again["count"]) == (False, 2)
    assert search(api, "persimmon")["cached"] is True


def test_cheap_pages_are_not_cached(alice: User, api: APIClient, settings: Any) -> None:
    settings.SEARCH_CACHE_MIN_MS = 10_000
    services.create_entry(actor=alice, type="note", title="Medlar")
    search(api, "medlar")
    assert search(api, "medlar")["cached"] is False


def test_a_page_cached_in_one_search_language_is_not_served_in_another(alice: User, api: APIClient) -> None:
    services.create_entry(actor=alice, type="note", title="Running shoes")
    search(api, "running")
    assert search(api, "running")["cached"] is True
    assert api.patch("/api/v1/me/", {"search_language": "simple"}, format="json").status_code == 200
    assert search(api, "running")["cached"] is False


def fresh(user: User) -> APIClient:
    """A client signed in with the user's row as a request reads it now (as token and
    session sign-ins do for every request)."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    return client


def test_no_lookup_while_the_readers_row_shows_a_write_since_their_last_stored_page(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.create_entry(actor=alice, type="note", title="Jackfruit")
    markers: list[str] = []
    real_get = search_cache.cache.get
    monkeypatch.setattr(search_cache.cache, "get", lambda key, *a, **k: markers.append(key) or real_get(key, *a, **k))
    assert search(fresh(alice), "jackfruit")["cached"] is False
    assert markers == []  # no page stored yet: not even Redis is asked
    reader = User.objects.get(pk=alice.pk)
    assert reader.search_cache_seq == reader.change_seq  # storing the page told the row
    assert search(fresh(alice), "jackfruit")["cached"] is True
    assert len(markers) == 1
    services.create_entry(actor=alice, type="note", title="Jackfruit two")
    again = search(fresh(alice), "jackfruit")
    assert (again["cached"], again["count"]) == (False, 2)
    assert len(markers) == 1  # a write since: no stored page can be current
    assert search(fresh(alice), "jackfruit")["cached"] is True


def test_a_row_read_before_a_page_was_stored_only_misses_it(alice: User) -> None:
    services.create_entry(actor=alice, type="note", title="Soursop")
    early = fresh(alice)  # this row predates the page below
    search(fresh(alice), "soursop")
    assert search(early, "soursop")["cached"] is False  # it cannot know of the page: a miss, nothing worse
    assert search(fresh(alice), "soursop")["cached"] is True
    services.create_entry(actor=alice, type="note", title="Soursop two")
    late_reader = User.objects.get(pk=alice.pk)
    late_reader.search_cache_seq = late_reader.change_seq  # as if a page were stored at this very version
    client = APIClient()
    client.force_authenticate(late_reader)
    body = search(client, "soursop")
    assert (body["cached"], body["count"]) == (False, 2)  # the marker and DynamoDB still have the last word


@pytest.mark.django_db(transaction=True)
def test_a_search_never_waits_on_a_writer_holding_the_readers_row(
    alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg
    from django.db import connection

    services.create_entry(actor=alice, type="note", title="Durian")
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '3s'")  # were it to wait, it would fail, and say so
    with psycopg.connect(**connection.get_connection_params()) as writer:
        writer.execute("SELECT 1 FROM accounts_user WHERE id = %s FOR NO KEY UPDATE", [alice.id])  # as lock_owner
        body = search(fresh(alice), "durian")
        assert titles(body) == ["Durian"]
        writer.rollback()
    assert "not updated" not in caplog.text  # skipped, not timed out
    reader = User.objects.get(pk=alice.pk)
    assert reader.search_cache_seq < reader.change_seq  # the row was not told...
    assert search(fresh(alice), "durian")["cached"] is False  # ...so no page was stored
    assert search(fresh(alice), "durian")["cached"] is True  # this time it was
