"""Creating and changing one entry: the only write path for entries (DESIGN principle 2).

Each function does its whole change in one transaction: the row, its history row, the
change feed (which bumps the user's `change_seq` under a row lock) and the activity log.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Action, User
from entries.models import TITLE_MAX_LENGTH, Category, ChangeOp, Entry, EntryType, EntryVersion, Status
from entries.schemas import clean_fields, parse_timestamp
from entries.services.common import (
    VersionConflict,
    category_for,
    clean_tag_names,
    keep_versions,
    record,
    set_tags,
    tags_for,
)
from personalpod.http import ClientInfo

EDITABLE = ("title", "content", "fields", "status", "category", "tags", "expires_at")


def _next_due(due: datetime, recurrence: str) -> datetime | None:
    if recurrence == "daily":
        return due + timedelta(days=1)
    if recurrence == "weekly":
        return due + timedelta(weeks=1)
    if recurrence == "monthly":  # the same day next month, or its last day (31 Jan -> 28 Feb)
        year, month = (due.year + 1, 1) if due.month == 12 else (due.year, due.month + 1)
        return due.replace(year=year, month=month, day=min(due.day, calendar.monthrange(year, month)[1]))
    return None


def _clean_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValidationError({"title": ["A title is required."]})
    title = title.strip()
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationError({"title": [f"At most {TITLE_MAX_LENGTH} characters (this one has {len(title)})."]})
    return str(title)


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


def create_entry(
    *,
    actor: User,
    type: str,
    title: str,
    content: str = "",
    fields: dict[str, Any] | None = None,
    status: str = Status.ACTIVE,
    category: Any = None,
    tags: list[str] | None = None,
    expires_at: Any = None,
    client: ClientInfo | None = None,
    origin_device: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> Entry:
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for name, check in (
        ("title", lambda: _clean_title(title)),
        ("fields", lambda: clean_fields(type, fields)),
        ("status", lambda: _clean_status(status, creating=True)),
        ("category", lambda: category_for(actor, category)),
        ("tags", lambda: clean_tag_names(tags)),
    ):
        try:
            cleaned[name] = check()
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if type == EntryType.TASK:
        _task_done_transition(None, cleaned["fields"])
    with transaction.atomic():
        entry = Entry.objects.create(
            owner=actor,
            type=type,
            title=cleaned["title"],
            content=content or "",
            fields=cleaned["fields"],
            status=cleaned["status"],
            category=cleaned["category"],
            expires_at=expires_at,
        )
        set_tags(entry, tags_for(actor.id, cleaned["tags"]))
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


def locked_entry(actor: User, entry_id: Any) -> Entry:
    """The entry ACTOR may change, locked for this transaction (Entry.DoesNotExist otherwise)."""
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
    with transaction.atomic():
        entry = locked_entry(actor, entry_id)
        if expected_version is not None and entry.version != expected_version:
            raise VersionConflict(entry.version)
        new = _apply(entry, actor, changes, merge_fields)
        if not new:
            return entry  # nothing actually changed: no new version
        keep_versions([entry], actor)
        just_done = new.pop("_just_done", False)
        tags = new.pop("tags", None)
        for name, value in new.items():
            setattr(entry, name, value)
        updated = [*new, "version", "updated_at"]
        if "status" in new:
            entry.trashed_at = timezone.now() if entry.status == Status.DELETED else None
            updated.append("trashed_at")
        entry.version += 1
        entry.save(update_fields=updated)
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
        if just_done:
            _create_next_occurrence(entry, actor, client)
    return entry


def _apply(entry: Entry, actor: User, changes: dict[str, Any], merge_fields: bool) -> dict[str, Any]:
    """Validate CHANGES against ENTRY; return only what differs (attribute -> new value)."""
    errors: dict[str, Any] = {}
    new: dict[str, Any] = {}
    checks: dict[str, Callable[[Any], Any]] = {
        "title": _clean_title,
        "content": lambda v: v or "",
        "status": lambda v: _clean_status(v, creating=False),
        "category": lambda v: category_for(entry.owner_id, v),
        "expires_at": lambda v: v,
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
        proposed = {**entry.fields, **(changes["fields"] or {})} if merge_fields else changes["fields"]
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


def _create_next_occurrence(task: Entry, actor: User, client: ClientInfo | None) -> Entry | None:
    due = _next_due(parse_timestamp(task.fields.get("due_at")) or timezone.now(), task.fields.get("recurrence") or "")
    if due is None:
        return None
    fields = {**task.fields, "is_done": False, "done_at": None, "due_at": due.isoformat()}
    return create_entry(
        actor=actor,
        type=EntryType.TASK,
        title=task.title,
        content=task.content,
        fields=fields,
        category=task.category_id,
        tags=[tag.name for tag in task.tags.all()],
        client=client,
    )


def set_status(
    *, actor: User, entry_id: Any, status: Status, expected_version: int | None = None, client: ClientInfo | None = None
) -> Entry:
    op, action = {
        Status.ARCHIVED: (ChangeOp.ARCHIVE, Action.UPDATE),
        Status.DELETED: (ChangeOp.TRASH, Action.DELETE),
        Status.ACTIVE: (ChangeOp.RESTORE, Action.RESTORE),
    }[status]
    return update_entry(
        actor=actor,
        entry_id=entry_id,
        changes={"status": status},
        expected_version=expected_version,
        client=client,
        op=op,
        action=action,
    )


def restore_version(
    *, actor: User, entry_id: Any, version: int, expected_version: int | None = None, client: ClientInfo | None = None
) -> Entry:
    """Bring back an earlier version's content as a new version (history is never rewritten)."""
    entry = Entry.objects.editable_by(actor).get(id=entry_id)
    kept = EntryVersion.objects.filter(entry=entry, version=version).first()
    if kept is None:
        raise ValidationError({"version": [f"This entry has no version {version} in its history."]})
    old = kept.snapshot
    changes = {name: old[name] for name in ("title", "content", "fields", "status", "tags")}
    changes["expires_at"] = parse_timestamp(old["expires_at"])
    if old["category_id"] and Category.objects.filter(owner_id=entry.owner_id, id=old["category_id"]).exists():
        changes["category"] = old["category_id"]
    return update_entry(
        actor=actor,
        entry_id=entry_id,
        changes=changes,
        expected_version=expected_version,
        merge_fields=False,
        client=client,
        op=ChangeOp.UPDATE,
        action=Action.RESTORE,
    )


def delete_entry_forever(
    *, actor: User | None, entry_id: Any, expected_version: int | None = None, client: ClientInfo | None = None
) -> None:
    """Delete an entry and its history for good. ACTOR None is the system (trash purge)."""
    with transaction.atomic():
        entries = Entry.objects.filter(owner=actor) if actor else Entry.objects.all()
        entry = entries.select_for_update(of=("self",)).get(id=entry_id)
        if expected_version is not None and entry.version != expected_version:
            raise VersionConflict(entry.version)
        record(
            [entry], op=ChangeOp.DELETE, action=Action.DELETE, actor=actor, client=client, metadata={"forever": True}
        )
        entry.delete()
