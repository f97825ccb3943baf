"""Search: results as you type under the search box, and a results page whose URL keeps the
query and its filters (so a search can be bookmarked)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from entries import search, search_query, selectors
from entries.forms import STATUS_VIEWS, TYPES, SearchFilters, category_choices
from entries.views.common import actor, category_tree, find_node

SUGGESTIONS = 6
PAGE_SIZE = 20


def _filters(data: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        "types": [data["type"]] if data.get("type") else (),
        "statuses": STATUS_VIEWS[status][1],
        "category": data.get("category"),
        "tags_all": data["tags"],
    }


@login_required
@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    q = search_query.clean_query(request.GET.get("q", ""))[: search.MAX_QUERY_LENGTH]
    if "\x00" in q or search_query.query_problem(q):  # the search page says why
        return HttpResponse("")
    page = search.search_entries(reader=actor(request), q=q, page_size=SUGGESTIONS)
    return render(request, "entries/partials/suggest.html", {"page": page, "q": q, "types": TYPES})


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    form = SearchFilters(request.GET)
    data = form.values()
    q = search_query.clean_query(data.get("q") or "")  # the form refused a longer one
    page_number = min(data.get("page") or 1, search.last_page(PAGE_SIZE))
    # Everywhere but the trash unless a status is chosen ("" is the "Active" choice).
    status = (data.get("status") or "") if "status" in request.GET else "all"
    results = None
    if q:
        filters = _filters(data, status)
        results = search.search_entries(reader=user, q=q, page=page_number, page_size=PAGE_SIZE, **filters)
    tree = category_tree(user)
    context = {
        "q": q,
        "search_query": q,
        # Other bad filters are dropped quietly; a query that cannot be searched is said so.
        "q_error": form.errors["q"][0] if "q" in form.errors else None,
        "results": results,
        "page_number": page_number,
        "filters": data,
        "types": TYPES,
        "category_options": category_choices(tree)[1:],
        "category": find_node(tree, data.get("category")) if data.get("category") else None,
        "status_views": [(key, label) for key, (label, _) in STATUS_VIEWS.items()],
        "chosen_status": status,
        # Tags to narrow by, beside the ones already chosen (shown as chips that remove them).
        "tag_options": [name for name in selectors.tag_names(user) if name not in data["tags"]],
    }
    if getattr(request, "htmx", False) and request.headers.get("HX-Target") == "search-results":
        # The tag filter outside the results follows along (out of band): its chips and choices.
        response = render(request, "entries/partials/search_results.html", {**context, "oob": True})
        return push_url(response, request.get_full_path())
    return render(request, "entries/search.html", context)
