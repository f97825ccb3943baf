"""What changed between two states of an entry, for people: the history page's diffs and the
edit-conflict choice. Secrets are compared (to say that they changed) but never shown."""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from entries.crypto import envelope
from entries.models import Category, Entry, EntryVersion
from entries.selectors import history_for_reader

LABELS = {
    "title": "Title", "content": "Text", "category": "Category", "tags": "Tags", "status": "Status",
    "expires_at": "Goes to the trash on", "is_sensitive": "Sensitive", "username": "Username", "url": "Address",
    "secret": "Password", "totp_seed": "Authenticator secret", "notes": "Notes", "description": "Description",
    "due_at": "Due", "priority": "Priority", "recurrence": "Repeats", "is_done": "Done", "name": "Full name",
    "emails": "E-mail addresses", "phones": "Phone numbers", "organisation": "Organisation",
    "addresses": "Postal addresses", "birthday": "Birthday",
}  # fmt: skip
# Kept by the server, not typed by a person: not worth a line in a diff.
SKIPPED = {"done_at", "next_occurrence_id"}
LONG_TEXT = {"content", "notes", "description"}


@dataclass
class FieldChange:
    name: str
    label: str
    before: str = ""
    after: str = ""
    lines: list[tuple[str, str]] | None = None  # ("add" | "del" | "same" | "gap", text)
    hidden: bool = False  # a secret: it changed, and that is all a page says


@dataclass
class State:
    """An entry at one version, as a person reads it."""

    values: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)
    sealed_failed: bool = False


def _show(value: Any) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, str) and (moment := _timestamp(value)):
        return str(formats.date_format(timezone.localtime(moment), "j M Y, H:i"))
    return str(value)


def _timestamp(value: str) -> datetime | None:
    if len(value) < 16 or value[4] != "-" or "T" not in value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def line_diff(before: str, after: str) -> list[tuple[str, str]]:
    """A compact line diff: changed lines with two lines of context, gaps marked."""
    rows: list[tuple[str, str]] = []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            if rows:
                rows.append(("gap", "…"))
            continue
        kind = {"+": "add", "-": "del"}.get(line[:1], "same")
        rows.append((kind, line[1:]))
    return rows


def compare(before: State, after: State) -> list[FieldChange]:
    changes = []
    names = list(dict.fromkeys([*before.values, *after.values]))
    for name in names:
        if name in SKIPPED:
            continue
        old, new = before.values.get(name), after.values.get(name)
        if old == new or (old in (None, "", [], False) and new in (None, "", [], False)):
            continue
        label = LABELS.get(name, name.replace("_", " ").capitalize())
        if name in LONG_TEXT and isinstance(old, str | None) and isinstance(new, str | None):
            changes.append(FieldChange(name, label, lines=line_diff(old or "", new or "")))
        else:
            changes.append(FieldChange(name, label, _show(old), _show(new)))
    for name in sorted(set(before.secrets) | set(after.secrets)):
        if before.secrets.get(name, "") != after.secrets.get(name, ""):
            label = "Sealed text" if not name.startswith("fields.") else LABELS.get(name[7:], name[7:])
            changes.append(FieldChange(name, label, hidden=True))
    if before.sealed_failed or after.sealed_failed:
        changes.append(FieldChange("sealed", "Secrets", "could not be compared", "could not be compared"))
    return changes


def _unsealed(entry: Entry, sealed: Any) -> tuple[dict[str, str], bool]:
    if not sealed:
        return {}, False
    try:
        return envelope.unseal(entry.id, entry.owner_id, sealed), False
    except envelope.DecryptionFailed:
        return {}, True


def _state(
    entry: Entry,
    *,
    title: str,
    content: str,
    fields: dict[str, Any],
    category: str,
    tags: list[str],
    status: str,
    expires_at: Any,
    sealed: Any,
) -> State:
    secrets, failed = _unsealed(entry, sealed)
    expires = expires_at.isoformat() if isinstance(expires_at, datetime) else expires_at
    values = {"title": title, "content": content, "category": category, "tags": sorted(tags, key=str.lower),
              "status": status, "expires_at": expires}  # fmt: skip
    values.update({name: value for name, value in (fields or {}).items() if name not in SKIPPED})
    return State(values, secrets, failed)


def state_of_entry(entry: Entry) -> State:
    return _state(
        entry, title=entry.title, content=entry.content, fields=entry.fields,
        category=entry.category.name if entry.category else "", tags=[tag.name for tag in entry.tags.all()],
        status=entry.status, expires_at=entry.expires_at, sealed=entry.content_encrypted,
    )  # fmt: skip


def state_of_snapshot(entry: Entry, snapshot: dict[str, Any], categories: dict[str, str]) -> State:
    category_id = snapshot.get("category_id") or ""
    return _state(
        entry, title=snapshot.get("title", ""), content=snapshot.get("content", ""), fields=snapshot.get("fields", {}),
        category=categories.get(category_id, "(a deleted category)" if category_id else ""),
        tags=snapshot.get("tags", []), status=snapshot.get("status", ""), expires_at=snapshot.get("expires_at"),
        sealed=envelope.b64(snapshot["sealed"]) if snapshot.get("sealed") else None,
    )  # fmt: skip


def state_of_changes(base: State, changes: dict[str, Any], *, category: str, hide: tuple[str, ...] = ()) -> State:
    """BASE with an edit form's CHANGES applied: what saving them would make (HIDE: secrets)."""
    values = dict(base.values)
    values.update({name: changes[name] for name in ("title", "content", "status") if name in changes})
    expires = changes.get("expires_at")
    values["expires_at"] = expires.isoformat() if isinstance(expires, datetime) else expires
    values["tags"] = sorted(changes.get("tags", []), key=str.lower)
    values["category"] = category
    values.update({name: value for name, value in changes.get("fields", {}).items() if name not in hide})
    return State(values)


@dataclass
class VersionView:
    version: int
    created_at: datetime | None
    author: str
    changes: list[FieldChange]
    is_current: bool = False


def entry_history(*, reader: User, entry: Entry, limit: int = 50) -> list[VersionView]:
    """ENTRY's versions, newest first, each with what changed to make it (what READER may see)."""
    versions: list[EntryVersion] = list(history_for_reader(reader=reader, entry_id=entry.id)[:limit])
    versions.reverse()
    categories = {
        str(cid): name for cid, name in Category.objects.filter(owner_id=entry.owner_id).values_list("id", "name")
    }
    authors = _names({version.actor_id for version in versions if version.actor_id})
    states = [state_of_snapshot(entry, version.snapshot, categories) for version in versions] + [state_of_entry(entry)]
    views: list[VersionView] = []
    for index, version in enumerate(versions):
        # Version N's row holds the entry as it was before it became N + 1, changed by actor_id.
        later = versions[index + 1].version if index + 1 < len(versions) else entry.version
        views.append(
            VersionView(
                version=later,
                created_at=version.created_at,
                author=authors.get(version.actor_id, "") if version.actor_id else "PersonalPod",
                changes=compare(states[index], states[index + 1]),
                is_current=later == entry.version,
            )
        )
    first = versions[0].version if versions else entry.version
    views.insert(
        0, VersionView(version=first, created_at=entry.created_at if first == 1 else None, author="", changes=[])
    )
    views.reverse()
    return views


def _names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    return dict(User.objects.filter(id__in=ids).values_list("id", "username")) if ids else {}
