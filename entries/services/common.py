"""Pieces every entries service shares: errors, snapshots, versions, tags, the bookkeeping
that goes with each change (version, history row, change feed, activity log)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.activity import log_activities
from accounts.models import Action, ActivityLog, User
from entries.feed import record_changes
from entries.models import Category, ChangeOp, Entry, EntryTag, EntryVersion, Tag
from personalpod.http import ClientInfo

MAX_TAGS_PER_ENTRY = 50
TAG_NAME_MAX = 64


class VersionConflict(Exception):
    """The entry changed since the caller read it; nothing was written."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"the entry is at version {current_version}")
        self.current_version = current_version


# The slug trigger's own function (migration 0015).
SLUG_SQL = "SELECT name, entries_tag_slug(name) FROM unnest(%s::text[]) AS name"


def slugs_for(names: Sequence[str]) -> dict[str, str]:
    """The slugs the database makes from NAMES (asked of PostgreSQL itself: its lower() and
    its idea of a letter are the ones the slug trigger uses)."""
    if not names:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(SLUG_SQL, [list(names)])
        return dict(cursor.fetchall())


def snapshot(entry: Entry) -> dict[str, Any]:
    """The entry as stored: secrets stay sealed (the token binds to this entry, so restore works)."""
    sealed = bytes(entry.content_encrypted) if entry.content_encrypted else None
    return {
        "title": entry.title,
        "content": entry.content,
        "fields": entry.fields,
        "is_sensitive": entry.is_sensitive,
        "sealed": base64.b64encode(sealed).decode() if sealed else None,
        "status": entry.status,
        "category_id": str(entry.category_id) if entry.category_id else None,
        "tags": sorted(tag.name for tag in entry.tags.all()),
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
    }


def category_for(owner: User | uuid.UUID, category_id: Any, field: str = "category") -> Category | None:
    if category_id in (None, ""):
        return None
    owner_id = owner.id if isinstance(owner, User) else owner
    try:
        return Category.objects.get(id=category_id, owner_id=owner_id)
    except (Category.DoesNotExist, ValidationError, ValueError):
        raise ValidationError({field: ["No such category."]}) from None


def clean_tag_names(names: Any, field: str = "tags") -> list[str]:
    if names is None:
        return []
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValidationError({field: ["Must be a list of tag names."]})
    cleaned = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if len(cleaned) > MAX_TAGS_PER_ENTRY:
        raise ValidationError({field: [f"At most {MAX_TAGS_PER_ENTRY} tags."]})
    if any(len(n) > TAG_NAME_MAX for n in cleaned):
        raise ValidationError({field: [f"A tag name has at most {TAG_NAME_MAX} characters."]})
    return cleaned


def tags_for(owner_id: uuid.UUID, names: Sequence[str]) -> list[Tag]:
    """The owner's tags with these names (matched by slug), creating the missing ones."""
    wanted: dict[str, str] = {}
    for name, slug in slugs_for(names).items():
        wanted.setdefault(slug, name)  # "Foo" and "foo" are one tag: the first spelling names it
    found = {tag.slug: tag for tag in Tag.objects.filter(owner_id=owner_id, slug__in=wanted)}
    for slug, name in wanted.items():
        if slug not in found:
            try:
                with transaction.atomic():
                    found[slug] = Tag.objects.create(owner_id=owner_id, name=name)
            except IntegrityError:  # created by a concurrent writer
                found[slug] = Tag.objects.get(owner_id=owner_id, slug=slug)
    return [found[slug] for slug in wanted]


def set_tags(entry: Entry, tags: Iterable[Tag]) -> None:
    wanted = {tag.id for tag in tags}
    current = set(EntryTag.objects.filter(entry=entry).values_list("tag_id", flat=True))
    if current - wanted:
        EntryTag.objects.filter(entry=entry, tag_id__in=current - wanted).delete()
    # In id order: the usage-count triggers lock tag rows, and every writer must lock them alike.
    EntryTag.objects.bulk_create([EntryTag(entry=entry, tag_id=tag_id) for tag_id in sorted(wanted - current)])


def record(
    entries: Sequence[Entry],
    *,
    op: ChangeOp,
    action: Action,
    actor: User | None,
    client: ClientInfo | None = None,
    origin_device: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """The bookkeeping of a change: change-feed rows and one activity row per entry."""
    record_changes(entries, op, origin_device=origin_device, idempotency_key=idempotency_key)
    log_activities(
        [
            ActivityLog(
                action=action,
                actor_id=actor.id if actor else None,
                owner_id=entry.owner_id,
                target_type="entry",
                target_id=str(entry.id),
                ip=client.ip if client else None,
                user_agent=client.user_agent if client else "",
                metadata={"type": entry.type, "version": entry.version, **(metadata or {})},
            )
            for entry in entries
        ]
    )


def keep_versions(
    entries: Sequence[Entry], actor: User | None, snapshots: Sequence[dict[str, Any]] | None = None
) -> None:
    """Keep each entry's state as a history row, before it is changed (SNAPSHOTS if taken earlier)."""
    states = snapshots if snapshots is not None else [snapshot(entry) for entry in entries]
    EntryVersion.objects.bulk_create(
        [
            EntryVersion(entry=entry, version=entry.version, snapshot=state, actor_id=actor.id if actor else None)
            for entry, state in zip(entries, states, strict=True)
        ]
    )
