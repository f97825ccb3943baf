"""The pieces of a sync update that was based on an older version: entry states in one
comparable shape (secrets opened, so that merging compares like with like), the conflict
copy that keeps a device's colliding edit, and the conflict payload with secrets left out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from entries.crypto import envelope
from entries.models import Entry, EntryType, Status
from entries.schemas import SECRET_FIELDS, parse_timestamp
from entries.services.entries import create_entry

CONFLICT_TAG = "conflict"


def _iso(value: Any) -> str | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else parse_timestamp(str(value))
    return moment.astimezone(UTC).isoformat() if moment else str(value)


def _tags(names: Any) -> list[str]:
    return sorted(dict.fromkeys(str(n).strip() for n in names or [] if str(n).strip()), key=str.casefold)


def comparable_state(entry: Entry, snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """ENTRY now (SNAPSHOT None), or as a history SNAPSHOT kept it, with its secrets opened."""
    if snapshot is None:
        secrets = envelope.unseal(entry.id, entry.owner_id, entry.content_encrypted)
        content, fields = envelope.join(entry.type, entry.content, entry.fields, secrets)
        return {
            "title": entry.title,
            "content": content,
            "fields": fields,
            "status": entry.status,
            "category": str(entry.category_id) if entry.category_id else None,
            "tags": _tags(tag.name for tag in entry.tags.all()),
            "expires_at": _iso(entry.expires_at),
            "is_sensitive": entry.is_sensitive,
        }
    sealed = envelope.b64(snapshot["sealed"]) if snapshot.get("sealed") else None
    secrets = envelope.unseal(entry.id, entry.owner_id, sealed)
    content, fields = envelope.join(entry.type, snapshot.get("content", ""), snapshot.get("fields", {}), secrets)
    return {
        "title": snapshot.get("title", ""),
        "content": content,
        "fields": fields,
        "status": snapshot.get("status"),
        "category": snapshot.get("category_id"),
        "tags": _tags(snapshot.get("tags")),
        "expires_at": _iso(snapshot.get("expires_at")),
        "is_sensitive": bool(snapshot.get("is_sensitive")),
    }


def incoming_state(entry: Entry, base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The device's changed fields in the comparable shape (its `fields` are the base's plus its edits)."""
    incoming: dict[str, Any] = {}
    for name, value in changes.items():
        if name in ("content", "fields") and value is None:
            continue  # a sensitive entry read as null: "as it was"
        if name == "fields":
            value = {**(base.get("fields") or entry.fields), **value}
        elif name == "category":
            value = str(value) if value else None
        elif name == "tags":
            value = _tags(value)
        elif name == "expires_at":
            value = _iso(value)
        incoming[name] = value
    return incoming


def as_changes(merged: dict[str, Any]) -> dict[str, Any]:
    """Merged comparable values back into what update_entry takes."""
    changes = dict(merged)
    if "expires_at" in changes:
        changes["expires_at"] = parse_timestamp(changes["expires_at"]) if changes["expires_at"] else None
    return changes


def conflict_copy(*, user: User, original: Entry, state: dict[str, Any], common: dict[str, Any]) -> Entry:
    """Keep a device's colliding edit as a new entry of the pusher's, tagged and linked to the original."""
    fields = dict(state.get("fields") or {})
    if original.type == EntryType.TASK:
        fields.pop("next_occurrence_id", None)
    expires_at = parse_timestamp(state["expires_at"]) if state.get("expires_at") else None
    status = state.get("status")
    return create_entry(
        actor=user,
        type=original.type,
        title=state.get("title") or original.title,
        content=state.get("content") or "",
        fields=fields,
        status=status if status in (Status.ACTIVE, Status.ARCHIVED, Status.DRAFT) else Status.ACTIVE,
        # A grantee's copy is theirs: the owner's categories are not.
        category=state.get("category") if user.id == original.owner_id else None,
        tags=[*(state.get("tags") or []), CONFLICT_TAG],
        expires_at=expires_at if expires_at and expires_at > timezone.now() else None,
        is_sensitive=bool(state.get("is_sensitive")),
        client=common.get("client"),
        # No origin device: the device that pushed must receive the copy too.
        idempotency_key=common.get("idempotency_key"),
        conflict_of=original,
    )


def redact(entry: Entry, conflicts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The conflict payload without secret values (a sensitive entry's content and fields, secret fields)."""
    secret_names = SECRET_FIELDS.get(entry.type, ())
    sensitive = entry.is_sensitive or any(conflicts.get("is_sensitive", {}).values())
    result: dict[str, dict[str, Any]] = {}
    for name, sides in conflicts.items():
        if name in ("content", "fields") and sensitive:
            result[name] = dict.fromkeys(sides) | {"redacted": True}
        elif name == "fields" and secret_names:
            result[name] = {
                side: {k: (None if k in secret_names else v) for k, v in (value or {}).items()}
                for side, value in sides.items()
            } | {"redacted": sorted(secret_names)}
        else:
            result[name] = sides
    return result
