"""The entries read path: every read takes the reader, and a row they may not see does not exist."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from entries.models import Category, Entry, EntryTag, EntryVersion, Status, Tag
from entries.services.common import slugs_for

Whose = Literal["all", "own", "shared"]  # all the entries a reader may read, their own, or shared with them


def entry_for_reader(*, reader: User, entry_id: Any) -> Entry:
    return get_object_or_404(
        Entry.objects.visible_to(reader).select_related("category").prefetch_related("tags"), id=entry_id
    )


def may_change(*, reader: User, entry: Entry) -> bool:
    """Whether READER, who can see ENTRY, may change it: their own, or shared to write."""
    return entry.owner_id == reader.id or Entry.objects.editable_by(reader).filter(id=entry.id).exists()


def descendant_ids(owner: User, category_id: uuid.UUID) -> list[uuid.UUID]:
    """CATEGORY_ID and all its sub-categories (one query)."""
    children: dict[Any, list[uuid.UUID]] = {}
    for cid, parent_id in Category.objects.filter(owner=owner).values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(cid)
    found, stack = [], [category_id]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children.get(node, []))
    return found


def entries_for_reader(
    *,
    reader: User,
    types: Iterable[str] = (),
    statuses: Iterable[str] = (),
    category: uuid.UUID | None = None,
    tags_all: Iterable[str] = (),
    tags_any: Iterable[str] = (),
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
    due_before: datetime | None = None,
    expiring_before: datetime | None = None,
    whose: Whose = "all",
) -> QuerySet[Entry]:
    """The entries READER may read, filtered. WHOSE narrows them to the reader's own
    ("own") or to those shared with them ("shared"); search reads the two apart."""
    if whose == "own":
        entries = Entry.objects.filter(owner=reader)
    elif whose == "shared":
        entries = Entry.objects.shared_with(reader)
    else:
        entries = Entry.objects.visible_to(reader)
    statuses = list(statuses)
    # By default the trash is out of sight, as in every notes app.
    entries = entries.filter(status__in=statuses) if statuses else entries.exclude(status=Status.DELETED)
    if types := list(types):
        entries = entries.filter(type__in=types)
    if category is not None:
        entries = entries.filter(category_id__in=descendant_ids(reader, category))
    for slug in set(slugs_for(list(tags_all)).values()):
        entries = entries.filter(Exists(EntryTag.objects.filter(entry=OuterRef("pk"), tag__slug=slug)))
    if any_slugs := list(slugs_for(list(tags_any)).values()):
        entries = entries.filter(Exists(EntryTag.objects.filter(entry=OuterRef("pk"), tag__slug__in=any_slugs)))
    for lookup, value in (
        ("created_at__gte", created_after),
        ("created_at__lt", created_before),
        ("updated_at__gte", updated_after),
        ("updated_at__lt", updated_before),
        ("expires_at__lt", expiring_before),
    ):
        if value is not None:
            entries = entries.filter(**{lookup: value})
    if due_before is not None:
        # A task without a due date is not due before anything (JSON null sorts below strings).
        entries = entries.filter(type="task", fields__due_at__lt=due_before.astimezone(UTC).isoformat()).exclude(
            fields__due_at=None
        )
    return entries.select_related("category").prefetch_related("tags")


def history_for_reader(*, reader: User, entry_id: Any) -> QuerySet[EntryVersion]:
    entry = entry_for_reader(reader=reader, entry_id=entry_id)
    return EntryVersion.objects.filter(entry=entry).order_by("-version")


def categories_for(owner: User) -> QuerySet[Category]:
    return Category.objects.filter(owner=owner)


def tags_for_owner(owner: User) -> QuerySet[Tag]:
    return Tag.objects.filter(owner=owner)


def tag_names(owner: User, limit: int = 300) -> list[str]:
    """OWNER's tag names in order, for pickers and suggestions (the first LIMIT)."""
    return list(tags_for_owner(owner).order_by("name").values_list("name", flat=True)[:limit])


@dataclass
class CategoryNode:
    id: uuid.UUID
    name: str
    color: str
    icon: str
    is_system: bool
    entry_count: int
    total_count: int = 0
    children: list[CategoryNode] = field(default_factory=list)


def category_tree(owner: User) -> list[CategoryNode]:
    """The whole tree with each category's entry count (own and with sub-categories), in one query."""
    rows = Category.objects.filter(owner=owner).annotate(
        entry_count=Count("entries", filter=~Q(entries__status=Status.DELETED))
    )
    nodes = {row.id: (row.parent_id, CategoryNode(
        id=row.id, name=row.name, color=row.color, icon=row.icon, is_system=row.is_system,
        entry_count=row.entry_count,
    )) for row in rows}  # fmt: skip
    roots: list[CategoryNode] = []
    for parent_id, node in nodes.values():
        (nodes[parent_id][1].children if parent_id in nodes else roots).append(node)

    def total(node: CategoryNode) -> int:
        node.children.sort(key=lambda child: child.name.lower())
        node.total_count = node.entry_count + sum(total(child) for child in node.children)
        return node.total_count

    roots.sort(key=lambda node: node.name.lower())
    for root in roots:
        total(root)
    return roots
