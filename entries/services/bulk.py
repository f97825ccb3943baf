"""Changes to many entries at once (up to 1,000): tag, untag, move, archive, trash, restore."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Action, User
from entries.feed import lock_owner
from entries.models import ChangeOp, Entry, EntryTag, Status
from entries.services.common import (
    MAX_TAGS_PER_ENTRY,
    category_for,
    clean_tag_names,
    keep_versions,
    record,
    slugs_for,
    tags_for,
)
from personalpod.http import ClientInfo

MAX_BULK = 1000
UNSET: Any = object()
ACTIONS = ("tag", "untag", "move", "archive", "trash", "restore")


def _entry_ids(ids: Any) -> list[str]:
    if not isinstance(ids, list) or not ids:
        raise ValidationError({"ids": ["Give a non-empty list of entry ids."]})
    if len(ids) > MAX_BULK:
        raise ValidationError({"ids": [f"At most {MAX_BULK} entries at once (got {len(ids)})."]})
    return [str(i) for i in dict.fromkeys(ids)]


def bulk_change(
    *,
    actor: User,
    action: str,
    ids: Any,
    tags: Any = None,
    category: Any = UNSET,
    client: ClientInfo | None = None,
) -> int:
    """Apply ACTION to the entries with IDS (all of which ACTOR may change); return how many changed."""
    if action not in ACTIONS:
        raise ValidationError({"action": [f"Must be one of: {', '.join(ACTIONS)}."]})
    entry_ids = _entry_ids(ids)
    names = clean_tag_names(tags) if action in ("tag", "untag") else []
    if action in ("tag", "untag") and not names:
        raise ValidationError({"tags": ["Name at least one tag."]})
    if action == "move" and category is UNSET:
        raise ValidationError({"category": ["Name the category to move to (null for no category)."]})
    target = category_for(actor, category) if action == "move" else None
    with transaction.atomic():
        lock_owner(actor.id)
        # The actor's own entries only: tags and categories are per owner, and one transaction
        # changes one owner's data (entries shared with them are changed one at a time).
        entries = list(
            Entry.objects.filter(owner=actor)
            .filter(id__in=entry_ids)
            .select_for_update(of=("self",))
            .prefetch_related("tags")
            .order_by("id")
        )
        if len(entries) != len(entry_ids):
            missing = sorted(set(entry_ids) - {str(e.id) for e in entries})
            raise ValidationError({"ids": [f"No such entries: {', '.join(missing[:10])}."]})
        changed = _changed_entries(entries, action, names, target)
        if action == "tag":
            _refuse_too_many_tags(changed, set(_slugs(names)))
        if not changed:
            return 0
        keep_versions(changed, actor)
        ids_changed = [entry.id for entry in changed]
        queryset = Entry.objects.filter(id__in=ids_changed)
        if action == "tag":
            tag_rows = tags_for(actor.id, names)
            EntryTag.objects.bulk_create(
                [EntryTag(entry=entry, tag=tag) for entry in changed for tag in tag_rows], ignore_conflicts=True
            )
        elif action == "untag":
            EntryTag.objects.filter(entry_id__in=ids_changed, tag__slug__in=_slugs(names)).delete()
        elif action == "move":
            queryset.update(category=target)
        else:
            status = {"archive": Status.ARCHIVED, "trash": Status.DELETED, "restore": Status.ACTIVE}[action]
            queryset.update(status=status, trashed_at=timezone.now() if status == Status.DELETED else None)
            if status != Status.DELETED:  # out of the trash after expiring: not straight back in
                queryset.filter(expires_at__lte=timezone.now()).update(expires_at=None)
        queryset.update(version=F("version") + 1)
        for entry in changed:
            entry.version += 1
        op = {"archive": ChangeOp.ARCHIVE, "trash": ChangeOp.TRASH, "restore": ChangeOp.RESTORE}.get(
            action, ChangeOp.UPDATE
        )
        activity = {"trash": Action.DELETE, "restore": Action.RESTORE}.get(action, Action.UPDATE)
        record(changed, op=op, action=activity, actor=actor, client=client, metadata={"bulk": action})
    return len(changed)


def _refuse_too_many_tags(entries: list[Entry], slugs: set[str]) -> None:
    """The per-entry limit holds for bulk tagging too (one edit of the entry would refuse it)."""
    over = [entry for entry in entries if len(slugs | {tag.slug for tag in entry.tags.all()}) > MAX_TAGS_PER_ENTRY]
    if over:
        titles = ", ".join(f"“{entry.title}”" for entry in over[:5])
        raise ValidationError(
            {"tags": [f"An entry has at most {MAX_TAGS_PER_ENTRY} tags; these would have more: {titles}."]}
        )


def _slugs(names: list[str]) -> list[str]:
    return list(slugs_for(names).values())


def _changed_entries(entries: list[Entry], action: str, names: list[str], target: Any) -> list[Entry]:
    """The entries that ACTION would actually change (a no-op leaves an entry's version alone)."""
    if action in ("tag", "untag"):
        slugs = set(_slugs(names))
        has = {entry.id: {tag.slug for tag in entry.tags.all()} for entry in entries}
        if action == "tag":
            return [entry for entry in entries if not slugs <= has[entry.id]]
        return [entry for entry in entries if slugs & has[entry.id]]
    if action == "move":
        return [entry for entry in entries if entry.category_id != (target.id if target else None)]
    status = {"archive": Status.ARCHIVED, "trash": Status.DELETED, "restore": Status.ACTIVE}[action]
    return [entry for entry in entries if entry.status != status]
