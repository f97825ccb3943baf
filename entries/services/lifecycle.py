"""An entry's life after its words: archive, trash and restore (set_status), an earlier
version back (restore_version), and deletion for good."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Action, User
from entries.attachments.storage import remove_files_of
from entries.crypto import envelope
from entries.feed import lock_owner
from entries.models import Category, ChangeOp, Entry, EntryVersion, Status
from entries.schemas import parse_timestamp
from entries.services.common import VersionConflict, record
from entries.services.entries import STATUS_CHANGE, refuse_readers, update_entry
from personalpod.http import ClientInfo


def set_status(
    *, actor: User, entry_id: Any, status: Status, expected_version: int | None = None, client: ClientInfo | None = None
) -> Entry:
    op, action = STATUS_CHANGE[status]
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
    try:
        entry = Entry.objects.editable_by(actor).get(id=entry_id)
    except Entry.DoesNotExist:
        refuse_readers(actor, entry_id)
        raise
    kept = EntryVersion.objects.filter(entry=entry, version=version).first()
    if kept is None:
        raise ValidationError({"version": [f"This entry has no version {version} in its history."]})
    old = kept.snapshot
    # The words, not the state: restoring a version never trashes, archives or revives the entry.
    changes = {name: old[name] for name in ("title", "content", "fields", "tags")}
    if old.get("sealed"):
        secrets = envelope.unseal(entry.id, entry.owner_id, envelope.b64(old["sealed"]))
        changes["content"], changes["fields"] = envelope.join(entry.type, old["content"], old["fields"], secrets)
    # Restoring old words never makes an entry less protected than it is now.
    changes["is_sensitive"] = entry.is_sensitive or bool(old.get("is_sensitive"))
    if entry.is_managed_by(actor):  # an editor's restore keeps the trash date
        old_expiry = parse_timestamp(old["expires_at"])
        changes["expires_at"] = old_expiry if old_expiry and old_expiry > timezone.now() else None
    exists = Category.objects.filter(owner_id=entry.owner_id, id=old["category_id"]).exists()
    changes["category"] = old["category_id"] if old["category_id"] and exists else None
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
    *,
    actor: User | None,
    entry_id: Any,
    expected_version: int | None = None,
    client: ClientInfo | None = None,
    trashed_before: datetime | None = None,
    origin_device: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> None:
    """Delete an entry and its history for good: only its owner may. ACTOR None is the system
    (the trash purge, which passes TRASHED_BEFORE: an entry restored meanwhile no longer
    matches, and stays)."""
    with transaction.atomic():
        entries = Entry.objects.filter(owner=actor) if actor else Entry.objects.all()
        if trashed_before is not None:
            entries = entries.filter(status=Status.DELETED, trashed_at__lt=trashed_before)
        try:
            owner_id = entries.filter(id=entry_id).values_list("owner_id", flat=True).get()
        except Entry.DoesNotExist:
            if actor is not None:
                refuse_readers(actor, entry_id, "Only the owner can delete an entry forever.")
            raise
        lock_owner(owner_id)
        entry = entries.select_for_update(of=("self",)).get(id=entry_id)
        if expected_version is not None and entry.version != expected_version:
            raise VersionConflict(entry.version)
        record(
            [entry],
            op=ChangeOp.DELETE,
            action=Action.DELETE,
            actor=actor,
            client=client,
            origin_device=origin_device,
            idempotency_key=idempotency_key,
            metadata={"forever": True},
        )
        remove_files_of([entry])  # after the commit, never before
        entry.delete()
