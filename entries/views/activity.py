"""The activity page: sign-ins, secrets shown, shares and who opened a link, changes."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import Action, User
from accounts.selectors import activity_for_owner
from entries.models import Entry
from entries.views.common import actor

PAGE_SIZE = 50
GROUPS: dict[str, tuple[str, list[str]]] = {
    "": ("Everything", []),
    "signins": ("Sign-ins", [Action.LOGIN, Action.LOGIN_FAILED, Action.LOGIN_THROTTLED, Action.LOGOUT,
                             Action.SESSION_REVOKE, Action.PASSWORD_CHANGE, Action.PASSWORD_RESET_REQUEST,
                             Action.PASSWORD_RESET]),
    "reveals": ("Secrets shown", [Action.VIEW]),
    "sharing": ("Shares and link opens", [Action.SHARE, Action.UNSHARE, Action.SHARE_ACCESS]),
    "changes": ("Changes", [Action.CREATE, Action.UPDATE, Action.DELETE, Action.RESTORE]),
    "account": ("Account", [Action.SIGNUP, Action.PROFILE_UPDATE, Action.TOKEN_CREATE, Action.TOKEN_REVOKE,
                            Action.USER_DEACTIVATE, Action.KEY_ROTATE, Action.EXPORT, Action.IMPORT]),
}  # fmt: skip


@login_required
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    group = request.GET.get("show", "")
    if group not in GROUPS:
        group = ""
    try:
        page = max(1, min(int(request.GET.get("page", "1")), 1000))
    except ValueError:
        page = 1
    fetched = list(
        activity_for_owner(owner=user, actions=GROUPS[group][1] or None)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    shown = fetched[:PAGE_SIZE]
    entry_ids = {_entry_of(row) for row in shown} - {None}
    titles = dict(Entry.objects.visible_to(user).filter(id__in=entry_ids).values_list("id", "title"))
    grantee_ids = {_uuid(str(row.metadata.get("grantee_id") or "")) for row in shown} - {None}
    people = _people({row.actor_id for row in shown if row.actor_id and row.actor_id != user.id} | grantee_ids)
    rows = []
    for row in shown:
        target, grantee = _entry_of(row), _uuid(str(row.metadata.get("grantee_id") or ""))
        rows.append((row, titles.get(target) if target else None, people.get(row.actor_id),
                     people.get(grantee) if grantee else None))  # fmt: skip
    context: dict[str, Any] = {
        "rows": rows,
        "groups": [(key, label) for key, (label, _) in GROUPS.items()],
        "group": group,
        "page": page,
        "has_next": len(fetched) > PAGE_SIZE,
    }
    return render(request, "entries/activity.html", context)


def _entry_of(row: Any) -> uuid.UUID | None:
    """The entry a row is about: its target, or for a file the entry it is on."""
    if row.target_type == "entry":
        return _uuid(row.target_id)
    if row.target_type == "attachment":
        return _uuid(str(row.metadata.get("entry") or ""))
    return None


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _people(ids: set[Any]) -> dict[Any, str]:
    return dict(User.objects.filter(id__in=ids).values_list("id", "username")) if ids else {}
