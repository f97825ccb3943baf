"""Home, the entry list (filters, sorting, infinite scroll, bulk changes) and the entry page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from entries import overview, selectors, services
from entries.attachments.selectors import storage_stats
from entries.forms import BULK_ACTIONS, SORTS, STATUS_VIEWS, TYPES, BulkForm, ListFilters, category_choices, tag_list
from entries.models import Entry, EntryType
from entries.related import related_entries
from entries.services.bulk import UNSET
from entries.views.common import actor, back, category_tree, client, find_node

PAGE_SIZE = 40


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "home.html")
    user = actor(request)
    # Statistics, recent entries and storage come through the versioned cache (DynamoDB).
    statistics = overview.statistics(user)
    counts = statistics["by_type"]
    soon = timezone.now() + timedelta(days=7)
    due = (
        selectors.entries_for_reader(reader=user, types=[EntryType.TASK], due_before=soon)
        .exclude(fields__is_done=True)
        .order_by(F("fields__due_at").asc())[:8]
    )
    storage = storage_stats(user)
    quota = storage["quota_bytes"]
    context = {
        "type_counts": [(kind, info, counts.get(kind, 0)) for kind, info in TYPES.items()],
        "total": statistics["entry_count"],
        "recent": overview.recent_entries(user),
        "due": due,
        "storage": {**storage, "percent": round(100 * storage["total_bytes"] / quota, 1) if quota else 0},
        "shared_count": selectors.entries_for_reader(reader=user).exclude(owner=user).count(),
    }
    return render(request, "entries/home.html", context)


def _ordered(entries: QuerySet[Entry], sort: str) -> QuerySet[Entry]:
    if sort == "due":
        return entries.order_by(F("fields__due_at").asc(nulls_last=True), "-updated_at", "id")
    tiebreak = "-id" if sort.startswith("-") else "id"
    return entries.order_by(sort, tiebreak)


@login_required
@require_GET
def entry_list(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    data = ListFilters(request.GET).values()
    status = data.get("status") or ""
    sort = data.get("sort") or "-updated_at"
    entries = selectors.entries_for_reader(
        reader=user,
        types=[data["type"]] if data.get("type") else (),
        statuses=STATUS_VIEWS[status][1],
        category=data.get("category"),
        tags_all=data["tags"],
    )
    page = data.get("page") or 1
    rows = list(_ordered(entries, sort)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    tree = category_tree(user)
    context: dict[str, Any] = {
        "entries": rows[:PAGE_SIZE],
        "next_page": page + 1 if len(rows) > PAGE_SIZE else None,
        "filters": data,
        "type_info": TYPES.get(data.get("type") or ""),
        "category": find_node(tree, data.get("category")) if data.get("category") else None,
        "status_views": [(key, label) for key, (label, _) in STATUS_VIEWS.items()],
        "sorts": SORTS,
        "types": TYPES,
        "category_options": category_choices(tree)[1:],
        "tag_names": selectors.tag_names(user),
        "bulk_actions": BULK_ACTIONS,
        "is_filtered": any(data.get(name) for name in ("type", "category", "status", "tags")),
    }
    if getattr(request, "htmx", False) and page > 1:
        return render(request, "entries/partials/rows.html", context)
    return render(request, "entries/list.html", context)


@login_required
@require_GET
def entry_detail(request: HttpRequest, entry_id: str) -> HttpResponse:
    user = actor(request)
    entry = selectors.entry_for_reader(reader=user, entry_id=entry_id)
    can_edit = selectors.may_change(reader=user, entry=entry)
    is_owner = entry.owner_id == user.id
    can_manage = can_edit and entry.is_managed_by(user)
    context = {
        "entry": entry,
        "type_info": TYPES[entry.type],
        "content": entry.content,
        "fields": entry.fields,
        "can_edit": can_edit,
        "can_manage": can_manage,
        "is_owner": is_owner,
        "now": timezone.now(),
        # The sharing app's pages, by name (entries does not import it).
        "share_url": reverse("share-ui:dialog", args=[entry.id]) if can_manage else "",
        "attachments_url": reverse("entries:files", args=[entry.id]),
        "related": related_entries(reader=user, entry=entry),
    }
    return render(request, "entries/detail.html", context)


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    destination = back(request, reverse("entries:list"))
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(str(problem) for problem in error))
        return redirect(destination)
    action = form.cleaned_data["action"]
    category: Any = UNSET
    if action == "move":
        category = form.cleaned_data.get("category") or None
    try:
        changed = services.bulk_change(
            actor=actor(request),
            action=action,
            ids=form.cleaned_data["ids"],
            tags=tag_list(form.cleaned_data.get("tags") or ""),
            category=category,
            client=client(request),
        )
    except ValidationError as error:
        for problems in error.message_dict.values():
            messages.error(request, " ".join(problems))
        return redirect(destination)
    done = {
        "tag": "tagged", "untag": "untagged", "move": "moved", "archive": "archived",
        "restore": "made active", "trash": "moved to the trash",
    }[action]  # fmt: skip
    count = len(form.cleaned_data["ids"])
    if changed == count:
        messages.success(request, f"{changed} {'entry' if changed == 1 else 'entries'} {done}.")
    else:
        messages.success(request, f"{changed} of {count} entries {done} (the others already were).")
    return redirect(destination)
