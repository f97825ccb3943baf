"""An entry's history (what changed, by whom; restore any version) and the trash."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from entries import selectors, services
from entries.forms import TYPES
from entries.history import entry_history
from entries.models import Entry, Status
from entries.services.housekeeping import empty_trash as empty_trash_service
from entries.views.common import actor, client

TRASH_PAGE = 100


@login_required
@require_GET
def history(request: HttpRequest, entry_id: str) -> HttpResponse:
    user = actor(request)
    entry = selectors.entry_for_reader(reader=user, entry_id=entry_id)
    context = {
        "entry": entry,
        "type_info": TYPES[entry.type],
        "versions": entry_history(reader=user, entry=entry),
        "can_edit": selectors.may_change(reader=user, entry=entry),
    }
    return render(request, "entries/history.html", context)


@login_required
@require_POST
def restore_version(request: HttpRequest, entry_id: str, version: int) -> HttpResponse:
    user = actor(request)
    entry = selectors.entry_for_reader(reader=user, entry_id=entry_id)
    try:
        expected = int(request.POST.get("version", entry.version))
    except ValueError:
        expected = entry.version
    try:
        restored = services.restore_version(
            actor=user, entry_id=entry.id, version=version, expected_version=expected, client=client(request)
        )
    except Entry.DoesNotExist:
        raise Http404 from None
    except services.VersionConflict:
        messages.error(request, "The entry changed while you were looking: here is its history as it is now.")
        return redirect("entries:history", entry_id=entry.id)
    except ValidationError as error:
        messages.error(request, " ".join(message for problems in error.message_dict.values() for message in problems))
        return redirect("entries:history", entry_id=entry.id)
    messages.success(request, f"Version {version} is back, as version {restored.version}.")
    return redirect("entries:detail", entry_id=entry.id)


@login_required
@require_GET
def trash(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    entries = (
        selectors.entries_for_reader(reader=user, statuses=[Status.DELETED])
        .filter(owner=user)
        .order_by("-trashed_at", "-id")[: TRASH_PAGE + 1]
    )
    rows = list(entries)
    context = {
        "entries": rows[:TRASH_PAGE],
        "more": len(rows) > TRASH_PAGE,
        "types": TYPES,
        "retention": timedelta(days=settings.TRASH_RETENTION_DAYS),
        "retention_days": settings.TRASH_RETENTION_DAYS,
    }
    return render(request, "entries/trash.html", context)


@login_required
@require_POST
def empty_trash(request: HttpRequest) -> HttpResponse:
    deleted = empty_trash_service(actor=actor(request), client=client(request))
    messages.success(
        request, f"The trash is empty: {deleted} {'entry' if deleted == 1 else 'entries'} deleted for good."
    )
    return redirect("entries:trash")
