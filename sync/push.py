"""Push: a device's batch of operations, each applied through the entries services in its
own transaction, each recorded by its client id so that a re-send applies nothing twice."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from entries.api.serializers import EntryChangeIn, EntryIn
from entries.feed import lock_owner
from entries.models import Entry, EntryVersion, Status
from entries.services.common import VersionConflict
from entries.services.entries import EDITABLE, create_entry, update_entry
from entries.services.lifecycle import delete_entry_forever
from personalpod.http import ClientInfo
from sync.conflicts import as_changes, comparable_state, conflict_copy, incoming_state, redact
from sync.merge import merge
from sync.models import PushedOperation
from sync.state import entry_state

MAX_OPERATIONS = 500
OPS = ("create", "update", "trash", "restore", "delete")
# An update that loses the race to other writers merges again, this many times in all; the
# last try holds the owner's lock, so it cannot lose.
_ATTEMPTS = 5


class BadBatch(Exception):
    """The batch itself is malformed: nothing in it is applied (400, naming the field)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class Operation:
    op_id: uuid.UUID
    op: str
    entry_id: uuid.UUID | None
    base_version: int | None
    changes: dict[str, Any]


def parse_batch(data: Any) -> list[Operation]:
    """Check the whole batch before anything is applied."""
    raw = data.get("operations") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise BadBatch({"operations": ["Must be a list of operations."]})
    if len(raw) > MAX_OPERATIONS:
        raise BadBatch({"operations": [f"At most {MAX_OPERATIONS} operations a batch (this one has {len(raw)})."]})
    errors: dict[str, list[str]] = {}
    operations: list[Operation] = []
    seen: set[uuid.UUID] = set()
    for n, item in enumerate(raw):
        where = f"operations.{n}"
        if not isinstance(item, dict):
            errors[where] = ["Must be an object."]
            continue
        try:
            op_id = uuid.UUID(str(item.get("op_id")))
        except ValueError:
            errors[f"{where}.op_id"] = ["Must be a UUID."]
            continue
        if op_id in seen:
            errors[f"{where}.op_id"] = ["This operation id appears twice in the batch."]
            continue
        seen.add(op_id)
        op = item.get("op")
        if op not in OPS:
            errors[f"{where}.op"] = [f"Must be one of: {', '.join(OPS)}."]
            continue
        entry_id = None
        if op != "create":
            try:
                entry_id = uuid.UUID(str(item.get("entry")))
            except ValueError:
                errors[f"{where}.entry"] = ["Must be the id of an entry."]
                continue
        base_version = item.get("base_version")
        if base_version is not None and (
            isinstance(base_version, bool) or not isinstance(base_version, int) or base_version < 1
        ):
            errors[f"{where}.base_version"] = ["Must be a version number (1 or more)."]
            continue
        if op == "update" and base_version is None:
            errors[f"{where}.base_version"] = ["An update needs the version it was based on."]
            continue
        changes = item.get("changes", {})
        if not isinstance(changes, dict) or (op in ("create", "update") and not changes):
            errors[f"{where}.changes"] = ["Must be an object with the entry's fields."]
            continue
        operations.append(Operation(op_id, op, entry_id, base_version, changes))
    if errors:
        raise BadBatch(errors)
    return operations


def push(*, user: User, operations: list[Operation], device_id: uuid.UUID | None, client: ClientInfo) -> list[Any]:
    return [push_one(user=user, operation=op, device_id=device_id, client=client) for op in operations]


def push_one(*, user: User, operation: Operation, device_id: uuid.UUID | None, client: ClientInfo) -> dict[str, Any]:
    """Apply one operation, or return its first outcome if it was pushed before."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                # First: a concurrent duplicate waits here on the unique index until this commits.
                row = PushedOperation.objects.create(user=user, op_id=operation.op_id, device_id=device_id)
        except IntegrityError:
            row = None
        if row is None:
            stored = PushedOperation.objects.filter(user=user, op_id=operation.op_id).values_list("outcome", flat=True)
            return {**stored.get(), "replayed": True}
        try:
            with transaction.atomic():
                outcome = _apply(user, operation, device_id, client)
        except ValidationError as error:
            outcome = _rejected("invalid", "The operation's fields are not valid.", _messages(error))
        except Entry.DoesNotExist:
            outcome = _rejected("not_found", "No such entry (or it is not yours to see).")
        except PermissionDenied as error:
            outcome = _rejected("forbidden", str(error) or "You cannot change this entry.")
        # As JSON now: a re-send gets exactly these bytes back.
        outcome = dict(json.loads(json.dumps({"op_id": str(operation.op_id), **outcome}, cls=DjangoJSONEncoder)))
        row.outcome = outcome
        row.save(update_fields=["outcome"])
    return outcome


def _messages(error: ValidationError) -> dict[str, Any]:
    return error.message_dict if hasattr(error, "error_dict") else {"changes": error.messages}


def _rejected(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"outcome": "rejected", "error": {"code": code, "message": message, "fields": fields or {}}}


def _done(outcome: str, entry: Entry | None, user: User) -> dict[str, Any]:
    if entry is None:
        return {"outcome": outcome, "entry": None, "version": None}
    state = entry_state(user, entry.id)
    return {"outcome": outcome, "entry": state, "version": entry.version}


def _apply(user: User, operation: Operation, device_id: uuid.UUID | None, client: ClientInfo) -> dict[str, Any]:
    key = str(operation.op_id)
    common: dict[str, Any] = {"actor": user, "client": client, "origin_device": device_id, "idempotency_key": key}
    if operation.op == "create":
        data = EntryIn(data=operation.changes)
        if not data.is_valid():
            return _rejected("invalid", "The new entry's fields are not valid.", dict(data.errors))
        return _done("applied", create_entry(**common, **data.validated_data), user)
    entry = _editable(user, operation.entry_id)
    if operation.base_version is not None and operation.base_version > entry.version:
        return _rejected(
            "version_from_future",
            f"The entry is at version {entry.version}; version {operation.base_version} does not exist yet.",
            {"base_version": [f"At most {entry.version}."]},
        )
    if operation.op == "delete":
        if operation.base_version is not None and operation.base_version < entry.version:
            # Deleting for good what someone changed since would lose their edit silently.
            return {
                "outcome": "conflict",
                "entry": entry_state(user, entry.id),
                "version": entry.version,
                "conflict": {"version": {"base": operation.base_version, "current": entry.version}},
            }
        delete_entry_forever(**common, entry_id=entry.id, expected_version=entry.version)
        return {"outcome": "applied", "entry": None, "version": None}
    if operation.op in ("trash", "restore"):
        status = Status.DELETED if operation.op == "trash" else Status.ACTIVE
        return _done("applied", update_entry(**common, entry_id=entry.id, changes={"status": status}), user)
    return _update(user, operation, entry, common)


def _editable(user: User, entry_id: Any) -> Entry:
    entry = Entry.objects.editable_by(user).filter(id=entry_id).first()
    if entry is None:
        if Entry.objects.visible_to(user).filter(id=entry_id).exists():
            raise PermissionDenied("You can read this entry but not change it.")
        raise Entry.DoesNotExist
    return entry


def _update(user: User, operation: Operation, entry: Entry, common: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(operation.changes) - set(EDITABLE))
    if unknown:
        return _rejected("invalid", "Not fields a sync update can change.", {n: ["Unknown field."] for n in unknown})
    data = EntryChangeIn(data=operation.changes, partial=True)
    if not data.is_valid():
        return _rejected("invalid", "The changed fields are not valid.", dict(data.errors))
    if "type" in data.validated_data:
        return _rejected("invalid", "The type of an entry cannot change.", {"type": ["Cannot change."]})
    operation = Operation(
        operation.op_id, operation.op, operation.entry_id, operation.base_version, data.validated_data
    )
    base_version = operation.base_version or entry.version
    for attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                if attempt == _ATTEMPTS - 1:
                    # Still racing: hold the owner's lock, which every write takes first, so
                    # nothing changes the entry between reading it and writing the merge.
                    lock_owner(entry.owner_id)
                    entry = _editable(user, entry.id)
                return _update_once(user, operation, entry, base_version, common)
        except VersionConflict:
            entry = _editable(user, entry.id)  # someone wrote in between: merge with theirs
    raise AssertionError("unreachable: the last attempt holds the owner's lock")


def _update_once(
    user: User, operation: Operation, entry: Entry, base_version: int, common: dict[str, Any]
) -> dict[str, Any]:
    changes = operation.changes
    if base_version == entry.version:
        updated = update_entry(**common, entry_id=entry.id, changes=changes, expected_version=entry.version)
        return _done("applied", updated, user)
    kept = EntryVersion.objects.filter(entry=entry, version=base_version).first()
    base = comparable_state(entry, kept.snapshot if kept else None)
    current = comparable_state(entry, None)
    incoming = incoming_state(entry, base, changes)
    result = merge(entry_type=entry.type, base=base, current=current, incoming=incoming)
    if not result.conflicts:
        updated = update_entry(
            **common,
            entry_id=entry.id,
            changes=as_changes(result.changes),
            expected_version=entry.version,
            merge_fields=False,
        )
        return _done("merged", updated, user)
    copy = conflict_copy(user=user, original=entry, state={**base, **incoming}, common=common)
    return {
        "outcome": "conflict",
        "entry": entry_state(user, entry.id),
        "version": entry.version,
        "conflict": redact(entry, result.conflicts),
        "copy": entry_state(user, copy.id),
    }


def forget_old_operations() -> int:
    """Forget pushed operations older than SYNC_PUSH_MEMORY_DAYS (beat, daily); how many.

    That is well past the sync queue's own horizon: a device away that long must take a
    fresh snapshot (reset_required) before its cursor means anything again.
    """
    cutoff = timezone.now() - timedelta(days=settings.SYNC_PUSH_MEMORY_DAYS)
    deleted, _ = PushedOperation.objects.filter(created_at__lt=cutoff).delete()
    return deleted
