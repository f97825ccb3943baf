"""GET /api/v1/search/: full-text search, cached per reader in DynamoDB."""

from __future__ import annotations

import time
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from accounts.models import User, signed_in_user
from entries import search, search_cache, search_query
from entries.api.serializers import EntryFilterIn, selector_filters
from entries.models import Entry


class SearchIn(EntryFilterIn):
    q = serializers.CharField(max_length=search.MAX_QUERY_LENGTH, trim_whitespace=True)
    page = serializers.IntegerField(
        min_value=1, max_value=search.CANDIDATES, default=1, help_text="Pages reach the 1,000th result, no further."
    )
    page_size = serializers.IntegerField(min_value=1, max_value=50, default=20)
    limit = serializers.IntegerField(min_value=1, max_value=50, required=False, help_text="The same as page_size.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "limit" in attrs:
            attrs["page_size"] = attrs.pop("limit")
        last = search.last_page(attrs["page_size"])
        if attrs["page"] > last:
            raise serializers.ValidationError(
                {
                    "page": f"Pages of {attrs['page_size']} end at page {last}: "
                    f"only the first {search.CANDIDATES:,} results are ranked."
                }
            )
        return attrs

    def validate_q(self, value: str) -> str:
        cleaned = search_query.clean_query(value)
        if problem := search_query.query_problem(cleaned):
            raise serializers.ValidationError(problem)
        return cleaned


class SearchHitOut(serializers.Serializer[dict[str, Any]]):
    id = serializers.UUIDField()
    type = serializers.CharField()
    title = serializers.CharField(help_text="Plain text.")
    title_html = serializers.CharField(help_text="HTML-escaped, the matching words in <mark>.")
    snippet = serializers.CharField(help_text="HTML-escaped, the matching words in <mark>.")
    rank = serializers.FloatField()
    shared = serializers.BooleanField(help_text="Someone else's entry, found through a share.")


class SearchOut(serializers.Serializer[dict[str, Any]]):
    """The answer's shape, for the API schema (the view passes its dict through)."""

    results = SearchHitOut(many=True)
    next = serializers.URLField(allow_null=True)
    count = serializers.IntegerField(help_text="At most 1,000 are counted.")
    count_display = serializers.CharField(help_text='"1,000+" when more matched than were counted.')
    approximate = serializers.BooleanField(
        help_text="Nothing matched as typed: one page of entries whose titles or tags are close."
    )
    suggestion = serializers.CharField(required=False, help_text='"Did you mean": the query with close words.')
    cached = serializers.BooleanField(help_text="Served from the search cache.")


class SearchView(APIView):
    @extend_schema(parameters=[SearchIn], responses={200: SearchOut})
    def get(self, request: Request) -> Response:
        params = SearchIn(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        reader = signed_in_user(request)
        filters = selector_filters(data)
        # The search language too: a page found in another language is another page.
        normalised = {"q": data["q"].lower(), "page": data["page"], "size": data["page_size"],
                      "language": reader.search_language, **filters}  # fmt: skip
        page = search_cache.get(reader, normalised)
        cached = page is not None
        if page is not None:
            page = _still_visible(reader, page)
        if page is None:
            started = time.perf_counter()
            found = search.search_entries(
                reader=reader, q=data["q"], page=data["page"], page_size=data["page_size"], **filters
            )
            page = found.as_dict()
            cost_ms = (time.perf_counter() - started) * 1000
            search_cache.put_later(reader, normalised, found.change_seq, page, cost_ms)
        body: dict[str, Any] = {
            "results": page["results"],
            "next": replace_query_param(request.build_absolute_uri(), "page", data["page"] + 1)
            if page["has_next"]
            else None,
            "count": page["count"],
            "count_display": search.display_count(page["count"], page["count_capped"]),
            # Nothing matched as typed: these are close titles and tags (one page of them).
            "approximate": page["fuzzy"],
            "cached": cached,
        }
        if page.get("suggestion"):
            body["suggestion"] = page["suggestion"]
        return Response(body, headers={"Cache-Control": "private, no-store"})


def _still_visible(reader: User, page: dict[str, Any]) -> dict[str, Any]:
    """A cached page without the shared results whose share has ended since (an expiry is no
    write, so it leaves the reader's change_seq, and the page, current)."""
    shared = {hit["id"] for hit in page["results"] if hit["shared"]}
    if not shared:
        return page
    visible = {str(i) for i in Entry.objects.visible_to(reader).filter(id__in=shared).values_list("id", flat=True)}
    gone = shared - visible
    if not gone:
        return page
    results = [hit for hit in page["results"] if hit["id"] not in gone]
    return {**page, "results": results, "count": max(page["count"] - len(gone), len(results))}
