"""Creating and changing one entry: the only write path for entries (DESIGN principle 2).

Each function does its whole change in one transaction: the row, its history row, the
change feed (which bumps the user's `change_seq` under a row lock) and the activity log.
"""

from __future__ import annotations

import base64
import calendar
import contextlib
import uuid
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Action, User
from entries.crypto import envelope
from entries.feed import lock_owner
from entries.models import TITLE_MAX_LENGTH, ChangeOp, Entry, EntryType, EntryVersion, Status
from entries.schemas import SECRET_FIELDS, clean_fields, parse_timestamp
from entries.services.common import (
    VersionConflict,
    category_for,
    clean_tag_names,
    keep_versions,
    record,
    set_tags,
    snapshot,
    tags_for,
)
from personalpod.http import ClientInfo

EDITABLE = ("title", "content", "fields", "status", "category", "tags", "expires_at", "is_sensitive")


def _next_due(due: datetime, recurrence: str, time_zone: str) -> datetime | None:
    """The next occurrence, by the owner's wall clock (09:00 stays 09:00 across a DST change)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    local = due.astimezone(zone).replace(tzinfo=None)
    if recurrence == "daily":
        local += timedelta(days=1)
    elif recurrence == "weekly":
        local += timedelta(weeks=1)
    elif recurrence == "monthly":  # the same day next month, or its last day (31 Jan -> 28 Feb)
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        local = local.replace(year=year, month=month, day=min(local.day, calendar.monthrange(year, month)[1]))
    else:
        return None
    return local.replace(tzinfo=zone).astimezone(UTC)


def _clean_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValidationError({"title": ["A title is required."]})
    title = title.strip()
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationError({"title": [f"At most {TITLE_MAX_LENGTH} characters (this one has {len(title)})."]})
    return str(title)


def _clean_expiry(expires_at: Any) -> Any:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["Must be in the future (the entry would go to the trash at once)."]})
    return expires_at


def _clean_status(status: Any, *, creating: bool) -> str:
    allowed = [Status.ACTIVE, Status.ARCHIVED, Status.DRAFT] if creating else Status.values
    if status not in allowed:
        raise ValidationError({"status": [f"Must be one of: {', '.join(allowed)}."]})
    return str(status)


def _task_done_transition(before: dict[str, Any] | None, fields: dict[str, Any]) -> bool:
    """Stamp or clear `done_at`; return True when a task has just been done."""
    was_done = bool(before and before.get("is_done"))
    if fields.get("is_done") and not was_done:
        fields["done_at"] = timezone.now().isoformat()
        return True
    if not fields.get("is_done"):
        fields["done_at"] = None
    elif before:
        fields["done_at"] = before.get("done_at") or fields.get("done_at")
    return False


# The change-feed op and activity a status change is recorded as.
STATUS_CHANGE: dict[str, tuple[ChangeOp, Action]] = {
    Status.ARCHIVED: (ChangeOp.ARCHIVE, Action.UPDATE),
    Status.DELETED: (ChangeOp.TRASH, Action.DELETE),
    Status.ACTIVE: (ChangeOp.RESTORE, Action.RESTORE),
}


def create_entry(
    *,
    actor: User,
    owner: User | None = None,
    type: str,
    title: str,
    content: str = "",
    fields: dict[str, Any] | None = None,
    status: str = Status.ACTIVE,
    category: Any = None,
    tags: list[str] | None = None,
    expires_at: Any = None,
    is_sensitive: bool = False,
    client: ClientInfo | None = None,
    origin_device: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    conflict_of: Entry | None = None,
) -> Entry:
    """A new entry of OWNER's (by default the actor's own; another's when a grantee's change
    creates one, such as a shared recurring task's next occurrence)."""
    owner = owner or actor
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for name, check in (
        ("title", lambda: _clean_title(title)),
        ("fields", lambda: clean_fields(type, fields)),
        ("status", lambda: _clean_status(status, creating=True)),
        ("category", lambda: category_for(owner, category)),
        ("tags", lambda: clean_tag_names(tags)),
        ("expires_at", lambda: _clean_expiry(expires_at)),
    ):
        try:
            cleaned[name] = check()
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    just_done = False
    if type == EntryType.TASK:
        cleaned["fields"]["next_occurrence_id"] = None  # the server's to set
        just_done = _task_done_transition(None, cleaned["fields"])
    with transaction.atomic():
        lock_owner(owner.id)
        if just_done:  # created already done: its next occurrence comes first, to link to it
            cleaned["fields"]["next_occurrence_id"] = _spawn_next_occurrence(
                owner=owner, actor=actor, title=cleaned["title"], content=content or "", fields=cleaned["fields"],
                category=cleaned["category"].id if cleaned["category"] else None, tags=cleaned["tags"],
                is_sensitive=bool(is_sensitive), client=client,
            )  # fmt: skip
        entry = Entry(
            owner=owner,
            type=type,
            title=cleaned["title"],
            status=cleaned["status"],
            category=cleaned["category"],
            expires_at=expires_at,
            is_sensitive=bool(is_sensitive),
            conflict_of=conflict_of,
        )
        # Secrets are sealed before the row is written (the id, already made, binds them to it).
        entry.content, entry.fields, secrets = envelope.split(
            type, entry.is_sensitive, content or "", cleaned["fields"]
        )
        entry.content_encrypted = envelope.seal(entry.id, owner.id, secrets)
        entry.save(force_insert=True)
        set_tags(entry, tags_for(owner.id, cleaned["tags"]))
        record(
            [entry],
            op=ChangeOp.CREATE,
            action=Action.CREATE,
            actor=actor,
            client=client,
            origin_device=origin_device,
            idempotency_key=idempotency_key,
        )
    return entry


def refuse_readers(actor: User, entry_id: Any, message: str = "You can read this entry but not change it.") -> None:
    """For an entry ACTOR may not change: PermissionDenied (403) if they can see it; otherwise
    return, and the caller's Entry.DoesNotExist (404) says nothing about whether it exists."""
    if Entry.objects.visible_to(actor).filter(id=entry_id).exists():
        raise PermissionDenied(message)


def locked_entry(actor: User, entry_id: Any) -> Entry:
    """The entry ACTOR may change (their own, or shared with them to write), locked for this
    transaction; Entry.DoesNotExist if they cannot see it, PermissionDenied if they may only read it.

    Its owner's row is locked first: see entries.feed.lock_owner.
    """
    try:
        owner_id = Entry.objects.editable_by(actor).filter(id=entry_id).values_list("owner_id", flat=True).get()
    except Entry.DoesNotExist:
        refuse_readers(actor, entry_id)
        raise
    lock_owner(owner_id)
    return Entry.objects.editable_by(actor).select_for_update(of=("self",)).get(id=entry_id)


def update_entry(
    *,
    actor: User,
    entry_id: Any,
    changes: dict[str, Any],
    expected_version: int | None = None,
    merge_fields: bool = True,
    client: ClientInfo | None = None,
    origin_device: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    action: Action = Action.UPDATE,
    op: ChangeOp = ChangeOp.UPDATE,
) -> Entry:
    """Change an entry. EXPECTED_VERSION is the version the caller read: if the entry has
    moved on since, VersionConflict is raised and nothing is written."""
    if "type" in changes:
        raise ValidationError({"type": ["The type of an entry cannot change; create a new entry."]})
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: ["Not a field you can change."] for name in sorted(unknown)})
    # A sensitive entry is read with content and fields null: null means "as it is".
    changes = {name: value for name, value in changes.items() if not (name in ("content", "fields") and value is None)}
    with transaction.atomic():
        entry = locked_entry(actor, entry_id)
        _refuse_state_change_by_editors(actor, entry, changes)  # before If-Match: a retry cannot help
        if expected_version is not None and entry.version != expected_version:
            raise VersionConflict(entry.version)
        stored = snapshot(entry)  # as stored: secrets sealed
        touches_secrets = bool({"content", "fields", "is_sensitive"} & set(changes)) and bool(
            entry.content_encrypted or changes.get("is_sensitive") or entry.type in SECRET_FIELDS
        )
        if touches_secrets:
            secrets = envelope.unseal(entry.id, entry.owner_id, entry.content_encrypted)
            entry.content, entry.fields = envelope.join(entry.type, entry.content, entry.fields, secrets)
        new = _apply(entry, actor, changes, merge_fields)
        if not new:
            return entry  # nothing actually changed: no new version
        keep_versions([entry], actor, snapshots=[stored])
        just_done = new.pop("_just_done", False)
        tags = new.pop("tags", None)
        for name, value in new.items():
            setattr(entry, name, value)
        updated = [*new, "version", "updated_at"]
        if "status" in new:
            entry.trashed_at = timezone.now() if entry.status == Status.DELETED else None
            updated.append("trashed_at")
            if op == ChangeOp.UPDATE:  # a status change through a plain update is still a trash or restore
                op, action = STATUS_CHANGE.get(str(entry.status), (op, action))
            if entry.status != Status.DELETED and entry.expires_at and entry.expires_at <= timezone.now():
                # Taken out of the trash after expiring: it would go straight back in otherwise.
                entry.expires_at = None
                updated.append("expires_at")
        entry.version += 1
        if just_done:
            following = _spawn_next_occurrence(
                owner=entry.owner, actor=actor, title=entry.title, content=entry.content, fields=entry.fields,
                category=entry.category_id, tags=[tag.name for tag in entry.tags.all()],
                is_sensitive=entry.is_sensitive, client=client,
            )  # fmt: skip
            if following:
                entry.fields = {**entry.fields, "next_occurrence_id": following}
                updated.append("fields")
        if touches_secrets:
            entry.content, entry.fields, secrets = envelope.split(
                entry.type, entry.is_sensitive, entry.content, entry.fields
            )
            entry.content_encrypted = envelope.seal(entry.id, entry.owner_id, secrets)
            updated += ["content", "fields", "content_encrypted"]
            if new.get("is_sensitive"):
                _seal_history(entry)
        entry.save(update_fields=list(dict.fromkeys(updated)))
        if tags is not None:
            set_tags(entry, tags)
        record(
            [entry],
            op=op,
            action=action,
            actor=actor,
            client=client,
            origin_device=origin_device,
            idempotency_key=idempotency_key,
            metadata={"changed": sorted([*new, *(["tags"] if tags is not None else [])])},
        )
    return entry


def _seal_history(entry: Entry) -> None:
    """An entry just marked sensitive: its earlier versions' words are sealed too."""
    for version in EntryVersion.objects.filter(entry=entry).select_for_update():
        old = version.snapshot
        secrets = envelope.unseal(entry.id, entry.owner_id, envelope.b64(old["sealed"])) if old.get("sealed") else {}
        content, fields = envelope.join(entry.type, old.get("content", ""), old.get("fields", {}), secrets)
        _, _, sealed_secrets = envelope.split(entry.type, True, content, fields)
        sealed = envelope.seal(entry.id, entry.owner_id, sealed_secrets) or b""
        version.snapshot = {
            **old,
            "content": "",
            "fields": {},
            "is_sensitive": True,
            "sealed": base64.b64encode(sealed).decode(),
        }
        version.save(update_fields=["snapshot"])


def _refuse_state_change_by_editors(actor: User, entry: Entry, changes: dict[str, Any]) -> None:
    """The entry's state (archived, in the trash, when it goes there) is its owner's and
    administrators': an editor's trash would take the entry out of their own sight, with no
    way back. A state sent back as it is passes; a bad value is _apply's to name (400)."""
    status = changes.get("status")
    moves = status in Status.values and status != entry.status
    if "expires_at" in changes and not moves:
        with contextlib.suppress(ValidationError):  # a past date: _apply says so
            moves = _clean_expiry(changes["expires_at"]) != entry.expires_at
    if moves and not entry.is_managed_by(actor):
        raise PermissionDenied("Only the entry's owner and its administrators archive, trash or restore it.")


def _apply(entry: Entry, actor: User, changes: dict[str, Any], merge_fields: bool) -> dict[str, Any]:
    """Validate CHANGES against ENTRY; return only what differs (attribute -> new value)."""
    errors: dict[str, Any] = {}
    new: dict[str, Any] = {}
    checks: dict[str, Callable[[Any], Any]] = {
        "title": _clean_title,
        "content": lambda v: v or "",
        "status": lambda v: _clean_status(v, creating=False),
        "category": lambda v: category_for(entry.owner_id, v),
        "expires_at": _clean_expiry,
        "is_sensitive": bool,
    }
    for name, value in changes.items():
        if name in checks:
            try:
                cleaned = checks[name](value)
            except ValidationError as error:
                errors.update(error.message_dict)
                continue
            if getattr(entry, name) != cleaned:
                new[name] = cleaned
    if "fields" in changes:
        proposed = {**entry.fields, **(changes["fields"] or {})} if merge_fields else dict(changes["fields"] or {})
        for name in SECRET_FIELDS.get(entry.type, ()):
            # Reads never show secrets, so a PUT of what was read (the secret left out, or
            # null) leaves them as they are; "" clears one.
            if proposed.get(name) is None:
                proposed[name] = entry.fields.get(name, "")
        if entry.type == EntryType.TASK:
            proposed["next_occurrence_id"] = entry.fields.get("next_occurrence_id")
        try:
            fields = clean_fields(entry.type, proposed)
        except ValidationError as error:
            errors.update(error.message_dict)
        else:
            if entry.type == EntryType.TASK:
                new["_just_done"] = _task_done_transition(entry.fields, fields)
            if fields != entry.fields:
                new["fields"] = fields
    if "tags" in changes:
        try:
            names = clean_tag_names(changes["tags"])
        except ValidationError as error:
            errors.update(error.message_dict)
        else:
            if sorted(names, key=str.lower) != sorted((t.name for t in entry.tags.all()), key=str.lower):
                new["tags"] = tags_for(entry.owner_id, names)
    if errors:
        raise ValidationError(errors)
    if set(new) <= {"_just_done"}:
        return {}
    return new


def _spawn_next_occurrence(
    *,
    owner: User,
    actor: User,
    title: str,
    content: str,
    fields: dict[str, Any],
    category: Any,
    tags: list[str],
    is_sensitive: bool,
    client: ClientInfo | None,
) -> str | None:
    """When a recurring task is done, create its next occurrence; return its id.

    FIELDS are the task's whole fields (decrypted for a sensitive task, whose next
    occurrence is sensitive too).
    """
    if fields.get("next_occurrence_id"):
        return None  # done, undone and done again: the next one already exists
    due = parse_timestamp(fields.get("due_at")) or timezone.now()
    next_due = _next_due(due, fields.get("recurrence") or "", owner.timezone)
    if next_due is None:
        return None
    following = create_entry(
        actor=actor,
        owner=owner,
        type=EntryType.TASK,
        title=title,
        content=content,
        fields={**fields, "is_done": False, "done_at": None, "due_at": next_due.isoformat()},
        category=category,
        tags=tags,
        is_sensitive=is_sensitive,
        client=client,
    )
    return str(following.id)
