"""Versioned cache-aside against the real DynamoDB Local cache table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from entries.services.entries import create_entry
from personalpod import cache, dynamo, metrics
from personalpod.cache import CacheItem, cached

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def closed_breaker() -> None:
    dynamo.breaker.succeeded()


class Counter:
    """A compute function that says how often it ran."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.value


def outcome_count(cache_type: str, outcome: str) -> int:
    return metrics.counters().get(f'personalpod_cache_total{{cache_type="{cache_type}",outcome="{outcome}"}}', 0)


def test_second_read_is_served_from_dynamodb(alice: User) -> None:
    compute = Counter({"notes": 3})
    assert cached(alice, "stats", "", compute) == {"notes": 3}
    assert cached(alice, "stats", "", compute) == {"notes": 3}
    assert compute.calls == 1
    assert outcome_count("stats", "miss") == 1
    assert outcome_count("stats", "hit") == 1
    pk, sk = cache.item_key(alice.pk, "stats", "", alice.change_seq)
    assert CacheItem.get(pk, sk).value == {"notes": 3}


def test_a_write_makes_the_cached_value_stale(alice: User) -> None:
    assert cached(alice, "stats", "", Counter(1)) == 1
    User.objects.filter(pk=alice.pk).update(change_seq=F("change_seq") + 1)
    # The stale object in hand does not matter: the version is read from PostgreSQL.
    assert cached(alice, "stats", "", Counter(2)) == 2


def test_items_are_per_user_type_and_key(alice: User, bob: User) -> None:
    cached(alice, "stats", "", Counter("alice"))
    assert cached(bob, "stats", "", Counter("bob")) == "bob"
    assert cached(alice, "tree", "", Counter("tree")) == "tree"
    assert cached(alice, "stats", "page=2", Counter("page 2")) == "page 2"
    assert cached(alice, "stats", "", Counter("again")) == "alice"


def test_an_expired_item_is_not_served(alice: User) -> None:
    cache.store(alice.pk, "stats", "", alice.change_seq, "old")
    pk, sk = cache.item_key(alice.pk, "stats", "", alice.change_seq)
    CacheItem(pk, sk, value="old", expires_at=timezone.now() - timedelta(seconds=1)).save()
    assert cached(alice, "stats", "", Counter("fresh")) == "fresh"
    assert CacheItem.get(pk, sk).value == "fresh"


def test_dynamodb_down_computes_from_postgres_and_counts_the_error(alice: User, dynamodb_outage: Any) -> None:
    dynamodb_outage.down(CacheItem)
    compute = Counter([1, 2])
    assert cached(alice, "recent", "", compute) == [1, 2]
    assert compute.calls == 1
    assert outcome_count("recent", "error") == 1
    assert not dynamo.breaker.allows()  # later reads skip DynamoDB for a while instead of waiting on it
    assert cached(alice, "recent", "", compute) == [1, 2]
    assert outcome_count("recent", "error") == 2


def test_values_computed_inside_an_uncommitted_write_are_not_stored(alice: User) -> None:
    with transaction.atomic():
        create_entry(actor=alice, type="note", title="Not committed yet")
        version = cache.current_version(alice.pk)
        assert cached(alice, "stats", "", Counter("inside")) == "inside"
    pk, sk = cache.item_key(alice.pk, "stats", "", version)
    with pytest.raises(CacheItem.DoesNotExist):
        CacheItem.get(pk, sk)


def test_refresh_stores_under_the_current_version(alice: User) -> None:
    cached(alice, "stats", "", Counter("first"))  # computed and found worth caching
    User.objects.filter(pk=alice.pk).update(change_seq=7)
    assert cache.refresh(
        alice.pk, {"stats": (lambda: "", Counter("warm")), "tree": (lambda: "", Counter("not read yet"))}
    ) == ["stats"]
    compute = Counter("cold")
    assert cached(alice, "stats", "", compute) == "warm"
    assert compute.calls == 0


def test_cheap_values_are_not_stored_and_cost_no_dynamodb_round_trip(
    alice: User, settings: Any, dynamodb_outage: Any
) -> None:
    settings.CACHE_MIN_COMPUTE_MS = 1000  # nothing here takes a second
    assert cached(alice, "stats", "", Counter(1)) == 1
    pk, sk = cache.item_key(alice.pk, "stats", "", alice.change_seq)
    with pytest.raises(CacheItem.DoesNotExist):
        CacheItem.get(pk, sk)
    dynamodb_outage.down(CacheItem)  # a lookup would now fail loudly: there is none
    assert cached(alice, "stats", "", Counter(2)) == 2
    assert outcome_count("stats", "miss") == 2
    assert outcome_count("stats", "error") == 0
    assert cache.refresh(alice.pk, {"stats": (lambda: "", Counter(3))}) == []  # the publisher does not warm it either


def test_an_item_without_its_marker_is_not_looked_up(alice: User) -> None:
    from django.core.cache import cache as redis_cache

    cached(alice, "stats", "", Counter("stored"))
    # Redis lost the marker (a restart): the item is not looked up, the value is computed again.
    redis_cache.delete(cache._redis_key("item", alice.pk, "stats", "", alice.change_seq))
    assert cached(alice, "stats", "", Counter("computed")) == "computed"


def test_reading_costs_one_query(alice: User, django_assert_num_queries: Any) -> None:
    cached(alice, "stats", "", Counter(1))
    with django_assert_num_queries(1):
        assert cached(alice, "stats", "", Counter(2)) == 1


def test_the_bar_is_three_hits_as_they_cost_here(settings: Any, monkeypatch: Any) -> None:
    settings.CACHE_MIN_COMPUTE_MS = 10
    monkeypatch.setattr(cache, "hit_cost", cache._HitCost())
    assert cache.worth_caching(10)
    assert not cache.worth_caching(9)
    cache.hit_cost.add(20)  # hits cost 20 ms here: only what takes 60 ms is worth an item
    assert not cache.worth_caching(59)
    assert cache.worth_caching(60)
    settings.CACHE_MIN_COMPUTE_MS = 0  # tests: everything
    assert cache.worth_caching(0.1)
