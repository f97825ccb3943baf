"""The Redis cache backend's shared client, and the query-parameter serializer base."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.http import QueryDict
from rest_framework import serializers

from personalpod.redis_cache import RedisCache
from personalpod.serializers import QueryParamsIn


def test_the_cache_hands_out_one_client_and_still_talks_to_redis() -> None:
    assert isinstance(caches["default"], RedisCache)
    backend: Any = cache._cache  # type: ignore[attr-defined]
    assert backend.get_client(write=True) is backend.get_client(write=False) is backend.get_client("any-key")
    key = f"shared-client-{os.getpid()}"
    cache.set(key, 41, timeout=30)
    assert cache.incr(key) == 42
    assert cache.get(key) == 42
    cache.delete(key)
    assert cache.get(key) is None


def test_the_shared_client_serves_threads_at_once() -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                cache.set(f"shared-thread-{os.getpid()}-{n}-{i}", n * 1000 + i, timeout=30)
                assert cache.get(f"shared-thread-{os.getpid()}-{n}-{i}") == n * 1000 + i
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


class _Params(QueryParamsIn):
    q = serializers.CharField(max_length=5)
    page = serializers.IntegerField(min_value=1, default=1)
    since = serializers.DateTimeField(required=False)


def test_query_params_validate_as_a_plain_serializer_would() -> None:
    good = _Params(data=QueryDict("q=abc&page=2"))
    assert good.is_valid(), good.errors
    assert good.validated_data == {"q": "abc", "page": 2}
    bad = _Params(data=QueryDict("q=abcdefgh&page=0&since=yesterday"))
    assert not bad.is_valid()
    assert set(bad.errors) == {"q", "page", "since"}
    missing = _Params(data=QueryDict(""))
    assert not missing.is_valid()
    assert set(missing.errors) == {"q"}


class _Flags(QueryParamsIn):
    q = serializers.CharField()
    archived = serializers.BooleanField(required=False)  # absent from a query string: False
    since = serializers.DateTimeField(required=False)


def test_an_absent_optional_parameter_is_not_built_and_the_schema_still_sees_every_one() -> None:
    given = _Params(data=QueryDict("q=abc"))
    assert set(given.fields) == {"q", "page"}  # page has a default; since has nothing to validate
    assert given.is_valid(), given.errors
    assert given.validated_data == {"q": "abc", "page": 1}
    dated = _Params(data=QueryDict("q=abc&since=2026-01-02T03:04:05Z"))
    assert set(dated.fields) == {"q", "page", "since"}
    assert dated.is_valid(), dated.errors
    assert dated.validated_data["since"].year == 2026
    flags = _Flags(data=QueryDict("q=abc"))
    assert flags.is_valid(), flags.errors
    assert flags.validated_data == {"q": "abc", "archived": False}  # as DRF reads form input
    assert set(_Params().fields) == {"q", "page", "since"}  # no data: the API schema's view


def test_each_serializer_binds_its_own_fields_and_the_declared_ones_stay_unbound() -> None:
    first, second = _Params(data=QueryDict("q=a")), _Params(data=QueryDict("q=b"))
    assert first.fields["q"] is not second.fields["q"]
    assert first.fields["q"].parent is first
    assert second.fields["q"].parent is second
    declared = _Params._declared_fields["q"]
    assert declared.parent is None
    assert declared.field_name is None
    assert first.is_valid()
    assert second.is_valid()
    assert (first.validated_data["q"], second.validated_data["q"]) == ("a", "b")


@pytest.mark.parametrize(
    "field",
    [serializers.ListField(child=serializers.CharField()), serializers.DictField(), _Params(required=False)],
    ids=["list", "dict", "nested"],
)
def test_fields_that_hold_fields_are_refused(field: Any) -> None:
    with pytest.raises(TypeError, match="inner"):
        type("Nested", (QueryParamsIn,), {"inner": field})
