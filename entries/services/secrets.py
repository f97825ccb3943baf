"""Reading secrets back (reveal) and rotating the keys that protect them."""

from __future__ import annotations

import logging
import uuid
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
    """An entry's secrets, for a reader allowed to see the entry; every reveal is logged
    with the names of what was shown, never the values."""
    entry = Entry.objects.visible_to(actor).get(id=entry_id)
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
            metadata={"revealed": [], "decryption_failed": True},
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
        metadata={"revealed": sorted(secrets)},
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


def rotate_data_keys(user_id: uuid.UUID) -> int:
    """Give a user a new data key and re-encrypt everything sealed under older ones, in
    batches: readers keep working (old keys stay until nothing names them), and a run that
    stops part-way is finished by running it again."""
    with transaction.atomic():
        lock_owner(user_id)
        key, _ = envelope.new_key(user_id)
        envelope.retire_other_keys(user_id, keep=key.id)
    moved = _reseal(Entry.objects.filter(owner_id=user_id, content_encrypted__isnull=False), key.id, user_id)
    moved += _reseal_versions(user_id, key.id)
    still_used = {key.id}
    with transaction.atomic():
        lock_owner(user_id)
        DataKey.objects.filter(user_id=user_id, retired_at__isnull=False).exclude(id__in=still_used).delete()
        log_activity(action=Action.KEY_ROTATE, owner=user_id, metadata={"resealed_count": moved})
    return moved


def _reseal(entries: Any, key_id: uuid.UUID, user_id: uuid.UUID) -> int:
    moved, after = 0, None
    while True:
        page = entries.order_by("id")
        if after is not None:
            page = page.filter(id__gt=after)
        ids = list(page.values_list("id", flat=True)[:BATCH])
        if not ids:
            return moved
        after = ids[-1]
        with transaction.atomic():
            lock_owner(user_id)
            for entry in Entry.objects.filter(id__in=ids).select_for_update(of=("self",)):
                if envelope.key_ids(entry.content_encrypted) <= {key_id}:
                    continue
                secrets = envelope.unseal(entry.id, entry.owner_id, entry.content_encrypted)
                entry.content_encrypted = envelope.seal(entry.id, entry.owner_id, secrets)
                entry.save(update_fields=["content_encrypted"])
                moved += 1


def _reseal_versions(user_id: uuid.UUID, key_id: uuid.UUID) -> int:
    import base64

    moved = 0
    versions = EntryVersion.objects.filter(entry__owner_id=user_id).filter(~Q(snapshot__sealed=None))
    for version in versions.select_related("entry").iterator():
        sealed = base64.b64decode(version.snapshot["sealed"])
        if envelope.key_ids(sealed) <= {key_id}:
            continue
        secrets = envelope.unseal(version.entry_id, user_id, sealed)
        resealed = envelope.seal(version.entry_id, user_id, secrets) or b""
        EntryVersion.objects.filter(id=version.id).update(
            snapshot={**version.snapshot, "sealed": base64.b64encode(resealed).decode()}
        )
        moved += 1
    return moved
