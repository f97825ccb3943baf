"""Undoing an import within IMPORT_UNDO_DAYS: what it created is removed through the entries
services, except what the person has made their own since (entries they changed, and the
categories that still hold something)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.activity import log_activity
from accounts.models import Action, User
from entries import services as entries
from entries.models import Category, Entry, Tag
from personalpod.celery import enqueue
from portability.models import Import, ImportedObject

PROGRESS_EVERY = 10


def undo_import_request(*, actor: User, import_id: Any) -> Import:
    with transaction.atomic():
        staged = Import.objects.select_for_update().get(id=import_id, owner=actor)
        if staged.status != Import.Status.DONE:
            raise ValidationError({"status": [f"Only a finished import can be undone ({staged.status})."]})
        if staged.undo_until is None or staged.undo_until <= timezone.now():
            raise ValidationError({"status": [f"Imports can be undone for {settings.IMPORT_UNDO_DAYS} days; "
                                              "this one no longer can."]})  # fmt: skip
        staged.status = Import.Status.UNDOING
        staged.save(update_fields=["status"])
        transaction.on_commit(lambda: enqueue("portability.tasks.undo_import_task", str(staged.id)))
    return staged


def undo_import(import_id: Any) -> None:
    """Remove what the import created (the worker's half of an undo); resumable."""
    staged = Import.objects.select_related("owner").filter(id=import_id, status=Import.Status.UNDOING).first()
    if staged is None:
        return
    outcome = remove_imported(staged, staged.owner, keep_edited=True)
    Import.objects.filter(id=staged.id).update(
        status=Import.Status.UNDONE, undone_at=timezone.now(), result={**staged.result, "undo": outcome}
    )
    log_activity(
        action=Action.IMPORT, actor=staged.owner, target_type="import", target_id=staged.id,
        metadata={"stage": "undone", **outcome},
    )  # fmt: skip


def _is_edited(staged: Import, made_version: int | None, version: int, updated_at: datetime) -> bool:
    if made_version is not None:
        return version > made_version
    # Imported before versions were recorded: changed after the import finished.
    return staged.finished_at is not None and updated_at > staged.finished_at


def remove_imported(staged: Import, owner: User, *, keep_edited: bool) -> dict[str, Any]:
    """Remove what the import created, through the services: its entries (with their history
    and attachments), then its categories deepest first, then its tags nobody uses now. With
    KEEP_EDITED (an undo, not a failed import) entries changed since stay, and so do the
    categories still holding something."""
    removed = {"entry": 0, "category": 0, "tag": 0}
    kept_edited = 0
    created = staged.created.all()
    total = created.count()
    Import.objects.filter(id=staged.id).update(progress_total=total, progress_done=0)
    made = list(created.filter(kind=ImportedObject.Kind.ENTRY).values_list("object_id", "version"))
    now = {
        row[0]: row[1:]
        for row in Entry.objects.filter(owner=owner, id__in=[entry_id for entry_id, _ in made]).values_list(
            "id", "version", "updated_at"
        )
    }
    for count, (entry_id, made_version) in enumerate(made, start=1):
        if count % PROGRESS_EVERY == 0:
            Import.objects.filter(id=staged.id).update(progress_done=count)
        if entry_id not in now:
            continue  # deleted by its owner meanwhile
        version, updated_at = now[entry_id]
        if keep_edited and _is_edited(staged, made_version, version, updated_at):
            kept_edited += 1
            continue
        try:
            entries.delete_entry_forever(
                actor=owner, entry_id=entry_id, expected_version=version if keep_edited else None
            )
        except Entry.DoesNotExist:
            continue
        except entries.VersionConflict:
            kept_edited += 1  # changed while this undo ran
            continue
        removed["entry"] += 1
    category_ids = list(created.filter(kind=ImportedObject.Kind.CATEGORY).values_list("object_id", flat=True))
    for category in Category.objects.filter(id__in=category_ids, owner=owner).order_by(F("depth").desc()):
        if keep_edited and (category.entries.exists() or Category.objects.filter(parent=category).exists()):
            continue  # it holds entries kept (or the person's own): removing it would move them
        entries.delete_category(actor=owner, category_id=category.id)
        removed["category"] += 1
    tag_ids = created.filter(kind=ImportedObject.Kind.TAG).values_list("object_id", flat=True)
    for tag in Tag.objects.filter(id__in=list(tag_ids), owner=owner, usage_count=0):
        entries.delete_tag(actor=owner, tag_id=tag.id)
        removed["tag"] += 1
    Import.objects.filter(id=staged.id).update(progress_done=total)
    return {"removed": removed, "kept_edited_count": kept_edited}
