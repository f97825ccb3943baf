"""Reading secrets back (reveal) and rotating the keys that protect them."""

from __future__ import annotations

import base64
import logging
import uuid
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.db import transaction
from django.db.models import Q

from accounts.activity import log_activity
from accounts.models import Action, User
from entries.crypto import envelope
from entries.crypto.keyring import keyring
from entries.feed import lock_owner
from entries.models import DataKey, Entry, EntryVersion
from entries.schemas import SECRET_FIELDS
from personalpod.http import ClientInfo

logger = logging.getLogger(__name__)
BATCH = 200


def reveal_secrets(*, actor: User, entry_id: Any, client: ClientInfo | None = None) -> dict[str, Any]:
    """An entry's secrets, for a reader allowed to see the entry (its owner or a grantee);
    every reveal is logged with the names of what was shown, never the values."""
    entry = Entry.objects.visible_to(actor).get(id=entry_id)
    return reveal_entry_secrets(entry, actor=actor, client=client)


def reveal_entry_secrets(
    entry: Entry, *, actor: User | None, client: ClientInfo | None = None, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The secrets of ENTRY, which the caller has already found the reader may see (ACTOR
    None: through a share link); logged in the owner's activity with METADATA."""
    try:
        secrets = envelope.unseal(entry.id, entry.owner_id, entry.content_encrypted)
    except envelope.DecryptionFailed as failure:
        logger.error("decryption failed for entry %s: %s", entry.id, failure)
        log_activity(
            action=Action.VIEW,
            actor=actor,
            owner=entry.owner_id,
            target_type="entry",
            target_id=entry.id,
            client=client,
            metadata={"revealed": [], "decryption_failed": True, **(metadata or {})},
        )
        raise
    if entry.is_sensitive:
        content, fields = envelope.join(entry.type, entry.content, entry.fields, secrets)
        revealed: dict[str, Any] = {"content": content, "fields": fields}
    else:
        revealed = {name: secrets.get(f"fields.{name}", "") for name in SECRET_FIELDS.get(entry.type, ())}
    log_activity(
        action=Action.VIEW,
        actor=actor,
        owner=entry.owner_id,
        target_type="entry",
        target_id=entry.id,
        client=client,
        metadata={"revealed": sorted(secrets), **(metadata or {})},
    )
    return revealed


def rewrap_data_keys() -> int:
    """Re-wrap every data key under the newest key-encryption key; entries are not touched."""
    current = keyring()
    newest = (current.provider, *current.newest())
    rewrapped = 0
    for row in DataKey.objects.order_by("id").iterator():
        if (row.kek_provider, row.kek_id, row.kek_version) == newest:
            continue
        wrapped = current.wrap(str(row.user_id), envelope.plaintext_key(row))
        DataKey.objects.filter(id=row.id).update(
            wrapped_key=wrapped.blob, kek_provider=wrapped.provider, kek_id=wrapped.key_id, kek_version=wrapped.version
        )
        rewrapped += 1
    log_activity(
        action=Action.KEY_ROTATE, owner=None, metadata={"rewrapped_count": rewrapped, "kek_version": newest[2]}
    )
    return rewrapped


@dataclass
class RotationReport:
    resealed_count: int = 0
    failed_ids: list[str] = dc_field(default_factory=list)


def rotate_data_keys(user_id: uuid.UUID) -> RotationReport:
    """Move everything a user has sealed onto a new data key, in batches.

    Online: readers keep using the old keys (they stay, retired, until nothing names them).
    Resumable: while retired keys are still named, a run carries on with the current key
    instead of making another, from wherever the last run stopped. A ciphertext that does
    not open is reported and skipped, and its key is kept.
    """
    with transaction.atomic():
        lock_owner(user_id)
        in_progress = DataKey.objects.filter(user_id=user_id, retired_at__isnull=False).exists()
        current = DataKey.objects.filter(user_id=user_id, retired_at__isnull=True).order_by("-created_at").first()
        if not (in_progress and current):
            current, _ = envelope.new_key(user_id)
            envelope.retire_other_keys(user_id, keep=current.id)
    report = RotationReport()
    still_named: set[uuid.UUID] = set()
    _reseal_entries(user_id, current.id, report, still_named)
    _reseal_versions(user_id, current.id, report, still_named)
    with transaction.atomic():
        lock_owner(user_id)
        # Only keys that no ciphertext names any more (a failed row keeps its key).
        DataKey.objects.filter(user_id=user_id, retired_at__isnull=False).exclude(id__in=still_named).delete()
        log_activity(
            action=Action.KEY_ROTATE,
            owner=user_id,
            metadata={"resealed_count": report.resealed_count, "failed_count": len(report.failed_ids)},
        )
    return report


def _reseal_entries(user_id: uuid.UUID, key_id: uuid.UUID, report: RotationReport, still_named: set[uuid.UUID]) -> None:
    entries = Entry.objects.filter(owner_id=user_id, content_encrypted__isnull=False).order_by("id")
    after = None
    while True:
        page = entries.filter(id__gt=after) if after else entries
        ids = list(page.values_list("id", flat=True)[:BATCH])
        if not ids:
            return
        after = ids[-1]
        with transaction.atomic():
            lock_owner(user_id)  # short transactions: writers wait a batch at most
            for entry in Entry.objects.filter(id__in=ids).select_for_update(of=("self",)):
                try:
                    if envelope.key_ids(entry.content_encrypted) <= {key_id}:
                        continue
                    secrets = envelope.unseal(entry.id, entry.owner_id, entry.content_encrypted)
                except envelope.DecryptionFailed:
                    report.failed_ids.append(str(entry.id))
                    still_named.update(_names_safely(entry.content_encrypted))
                    continue
                entry.content_encrypted = envelope.seal(entry.id, entry.owner_id, secrets)
                entry.save(update_fields=["content_encrypted"])
                report.resealed_count += 1


def _reseal_versions(
    user_id: uuid.UUID, key_id: uuid.UUID, report: RotationReport, still_named: set[uuid.UUID]
) -> None:
    versions = EntryVersion.objects.filter(entry__owner_id=user_id).filter(~Q(snapshot__sealed=None)).order_by("id")
    for version in versions.iterator():
        try:
            sealed = envelope.b64(version.snapshot["sealed"])
            if envelope.key_ids(sealed) <= {key_id}:
                continue
            secrets = envelope.unseal(version.entry_id, user_id, sealed)
        except envelope.DecryptionFailed:
            report.failed_ids.append(f"{version.entry_id}@{version.version}")
            continue
        resealed = envelope.seal(version.entry_id, user_id, secrets) or b""
        EntryVersion.objects.filter(id=version.id).update(
            snapshot={**version.snapshot, "sealed": base64.b64encode(resealed).decode()}
        )
        report.resealed_count += 1


def _names_safely(sealed: Any) -> set[uuid.UUID]:
    try:
        return envelope.key_ids(sealed)
    except envelope.DecryptionFailed:
        return set()
