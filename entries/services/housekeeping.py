"""Scheduled upkeep, run by Celery beat through the same services as everything else."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Action, User
from entries.feed import lock_owner
from entries.models import ChangeOp, Entry, Status
from entries.services.common import keep_versions, record
from entries.services.lifecycle import delete_entry_forever
from personalpod.http import ClientInfo

BATCH = 500


def trash_expired_entries(now: datetime | None = None) -> int:
    """Move entries whose `expires_at` has passed to the trash; safe to run any number of times."""
    now = now or timezone.now()
    moved = 0
    expired = Entry.objects.filter(expires_at__lte=now).exclude(status=Status.DELETED)
    while True:
        owner_id = expired.values_list("owner_id", flat=True).first()
        if owner_id is None:
            return moved
        with transaction.atomic():
            lock_owner(owner_id)  # one owner per transaction, their row first (entries.feed.lock_owner)
            batch = list(
                expired.filter(owner_id=owner_id)
                .select_for_update(of=("self",))
                .prefetch_related("tags")
                .order_by("id")[:BATCH]
            )
            if not batch:
                continue  # changed by someone else meanwhile: look again
            keep_versions(batch, None)
            ids = [entry.id for entry in batch]
            Entry.objects.filter(id__in=ids).update(status=Status.DELETED, trashed_at=now, version=F("version") + 1)
            for entry in batch:
                entry.version += 1
            record(batch, op=ChangeOp.TRASH, action=Action.DELETE, actor=None, metadata={"reason": "expired"})
            moved += len(batch)


def purge_trash(now: datetime | None = None) -> int:
    """Delete forever what has been in the trash longer than TRASH_RETENTION_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.TRASH_RETENTION_DAYS)
    ids = list(
        Entry.objects.filter(status=Status.DELETED, trashed_at__lt=cutoff).values_list("id", flat=True)[: BATCH * 10]
    )
    for entry_id in ids:
        try:
            delete_entry_forever(actor=None, entry_id=entry_id, trashed_before=cutoff)
        except Entry.DoesNotExist:
            continue  # restored or deleted meanwhile
    return len(ids)


def empty_trash(*, actor: User, client: ClientInfo | None = None) -> int:
    """Delete forever everything in ACTOR's trash now; return how many entries went."""
    ids = list(Entry.objects.filter(owner=actor, status=Status.DELETED).values_list("id", flat=True))
    deleted = 0
    for entry_id in ids:
        try:
            # Still in the trash: an entry restored meanwhile no longer matches, and stays.
            delete_entry_forever(actor=actor, entry_id=entry_id, client=client, trashed_before=timezone.now())
        except Entry.DoesNotExist:
            continue
        deleted += 1
    return deleted
