"""Creating and editing entries; a lost version race is shown, never silently overwritten."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from entries import selectors, services
from entries.crypto import envelope
from entries.forms import FORMS, TYPES, EntryForm
from entries.history import compare, state_of_changes, state_of_entry
from entries.models import Entry, EntryType, Status
from entries.services.secrets import reveal_secrets
from entries.views.common import actor, back, category_tree, client, find_node, go, no_store

# Inputs that carry the form itself, not the entry.
_NOT_ENTRY = {"csrfmiddlewaretoken", "version", "choice"}


@login_required
@require_GET
def new_entry(request: HttpRequest) -> HttpResponse:
    return render(request, "entries/new.html", {"types": TYPES})


def _form_context(form: EntryForm, entry_type: str, **extra: Any) -> dict[str, Any]:
    return {"form": form, "type": entry_type, "type_info": TYPES[entry_type], **extra}


def _tag_names(request: HttpRequest) -> list[str]:
    return selectors.tag_names(actor(request))


@login_required
@require_http_methods(["GET", "POST"])
def create_entry(request: HttpRequest, entry_type: str) -> HttpResponse:
    if entry_type not in FORMS:
        raise Http404
    user = actor(request)
    initial = {"category": request.GET.get("category", "")}
    form = FORMS[entry_type](request.POST or None, tree=category_tree(user), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.create_entry(actor=user, type=entry_type, client=client(request), **form.changes())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"{TYPES[entry_type].label} saved.")
            return redirect("entries:detail", entry_id=entry.id)
    status = 400 if request.method == "POST" else 200
    context = _form_context(form, entry_type, tag_names=_tag_names(request))
    return render(request, "entries/form.html", context, status=status)


def _readable(entry: Entry, request: HttpRequest) -> tuple[str, dict[str, Any]]:
    """ENTRY's content and fields for a form: a sensitive entry's are revealed (and logged)."""
    if not entry.is_sensitive:
        return entry.content, dict(entry.fields)
    revealed = reveal_secrets(actor=actor(request), entry_id=entry.id, client=client(request))
    return revealed.get("content", ""), dict(revealed.get("fields") or {})


@login_required
@require_http_methods(["GET", "POST"])
def edit_entry(request: HttpRequest, entry_id: str) -> HttpResponse:
    user = actor(request)
    entry = selectors.entry_for_reader(reader=user, entry_id=entry_id)
    if not selectors.may_change(reader=user, entry=entry):
        raise Http404
    form_class = FORMS[entry.type]
    tree = category_tree(user)
    is_owner = entry.owner_id == user.id
    roles = {"is_owner": is_owner, "can_manage": entry.is_managed_by(user)}
    if request.method == "GET":
        content, fields = _readable(entry, request)
        form = form_class(
            initial=form_class.initial_for(entry, content=content, fields=fields),
            tree=tree,
            editing=True,
            **roles,
        )
        # A sensitive entry's words are on this page: keep it out of caches.
        return no_store(
            render(
                request,
                "entries/form.html",
                _form_context(form, entry.type, entry=entry, tag_names=_tag_names(request)),
            )
        )
    form = form_class(request.POST, tree=tree, editing=True, **roles)
    if form.is_valid():
        if request.POST.get("choice") == "review":
            # "Edit mine again": back to the form with the other version's number, nothing saved.
            form = form_class(_with_version(request.POST, entry.version), tree=tree, editing=True, **roles)
            messages.info(request, "Your changes are in the form again, on top of the saved version. Save when ready.")
            context = _form_context(form, entry.type, entry=entry, tag_names=_tag_names(request))
            return no_store(render(request, "entries/form.html", context))
        try:
            updated = services.update_entry(
                actor=user,
                entry_id=entry.id,
                changes=form.changes(),
                expected_version=form.cleaned_data["version"],
                client=client(request),
            )
        except services.VersionConflict:
            return _conflict(request, entry.id, form)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "Saved." if updated.version != entry.version else "Nothing to save: no changes.")
            return redirect("entries:detail", entry_id=entry.id)
    context = _form_context(form, entry.type, entry=entry, tag_names=_tag_names(request))
    return no_store(render(request, "entries/form.html", context, status=400))


def _with_version(data: QueryDict, version: int) -> QueryDict:
    copy = data.copy()
    copy["version"] = str(version)
    copy.pop("choice", None)
    return copy


def _conflict(request: HttpRequest, entry_id: Any, form: EntryForm) -> HttpResponse:
    """The entry changed while it was being edited: show both, and let the person choose."""
    user = actor(request)
    theirs = selectors.entry_for_reader(reader=user, entry_id=entry_id)
    content, fields = _readable(theirs, request)
    saved = state_of_entry(theirs)
    # Compare what a person reads: sealed text as revealed for the form, secrets left out.
    saved.values.update({"content": content, **{k: v for k, v in fields.items() if k not in form.SECRETS}})
    saved.secrets, saved.sealed_failed = {}, False
    mine = form.changes()
    node = find_node(category_tree(user), mine["category"]) if mine.get("category") else None
    category = node.name if node else ("" if "category" in mine else str(saved.values.get("category", "")))
    yours = state_of_changes(saved, mine, category=category, hide=form.SECRETS)
    context = {
        "entry": theirs,
        "type_info": TYPES[theirs.type],
        "differences": compare(saved, yours),
        "their_version": theirs.version,
        # Everything the person typed goes back in hidden inputs, for "keep mine" and "edit again".
        "kept": [
            (name, value) for name in request.POST for value in request.POST.getlist(name) if name not in _NOT_ENTRY
        ],
    }
    return no_store(render(request, "entries/conflict.html", context, status=409))


@login_required
@require_POST
def change_status(request: HttpRequest, entry_id: str) -> HttpResponse:
    wanted = request.POST.get("status", "")
    if wanted not in (Status.ACTIVE, Status.ARCHIVED, Status.DELETED):
        raise Http404
    user = actor(request)
    try:
        entry = services.set_status(actor=user, entry_id=entry_id, status=Status(wanted), client=client(request))
    except Entry.DoesNotExist:
        raise Http404 from None
    text = {Status.ACTIVE: "is active again", Status.ARCHIVED: "is archived", Status.DELETED: "is in the trash"}
    messages.success(request, f"“{entry.title}” {text[Status(wanted)]}.")
    default = reverse("entries:list") if wanted == Status.DELETED else reverse("entries:detail", args=[entry.id])
    return go(request, back(request, default))


@login_required
@require_POST
def set_done(request: HttpRequest, entry_id: str) -> HttpResponse:
    """Tick a task done (or not), from the list or its page."""
    user = actor(request)
    is_done = request.POST.get("is_done") in ("1", "true", "on")
    try:
        before = selectors.entry_for_reader(reader=user, entry_id=entry_id).fields.get("next_occurrence_id")
        entry = services.update_entry(
            actor=user, entry_id=entry_id, changes={"fields": {"is_done": is_done}}, client=client(request)
        )
    except Entry.DoesNotExist:
        raise Http404 from None
    if entry.type != EntryType.TASK:
        raise Http404
    if getattr(request, "htmx", False):
        compact = request.POST.get("compact") == "1"
        context = {"types": TYPES, "selectable": not compact, "compact": compact}
        rows = [selectors.entry_for_reader(reader=user, entry_id=entry.id)]
        following = entry.fields.get("next_occurrence_id")
        if following and following != before:  # a repeating task's next one, made just now: under it
            # (if the reader sees it: the next one of a task shared with them is its owner's alone)
            rows += list(selectors.entries_for_reader(reader=user).filter(id=following))
        return HttpResponse("".join(render_to_string("entries/partials/row.html", {**context, "entry": row}, request)
                                    for row in rows))  # fmt: skip
    return redirect(back(request, reverse("entries:detail", args=[entry.id])))


@login_required
@require_POST
def delete_forever(request: HttpRequest, entry_id: str) -> HttpResponse:
    try:
        services.delete_entry_forever(actor=actor(request), entry_id=entry_id, client=client(request))
    except Entry.DoesNotExist:
        raise Http404 from None
    messages.success(request, "Deleted for good.")
    return go(request, back(request, reverse("entries:trash")))


@login_required
@require_POST
def reveal(request: HttpRequest, entry_id: str) -> HttpResponse:
    """Show a secret (a password, or a sensitive entry's sealed details); every reveal is logged."""
    user = actor(request)
    entry = selectors.entry_for_reader(reader=user, entry_id=entry_id)
    what = request.POST.get("what", "secret")
    try:
        revealed = reveal_secrets(actor=user, entry_id=entry.id, client=client(request))
    except envelope.DecryptionFailed:
        return render(request, "entries/partials/reveal_failed.html", status=422)
    if what == "body":
        context = {"entry": entry, "content": revealed.get("content", ""), "fields": revealed.get("fields") or {},
                   "type_info": TYPES[entry.type], "revealed": True}  # fmt: skip
        return no_store(render(request, "entries/partials/details.html", context))
    fields = revealed.get("fields") if entry.is_sensitive else revealed
    value = (fields or {}).get("secret", "")
    context = {"entry": entry, "value": value, "copy": request.POST.get("copy") == "1"}
    return no_store(render(request, "entries/partials/secret_shown.html", context))


@login_required
@require_GET
def secret_hidden(request: HttpRequest, entry_id: str) -> HttpResponse:
    entry = selectors.entry_for_reader(reader=actor(request), entry_id=entry_id)
    return render(request, "entries/partials/secret_hidden.html", {"entry": entry})
