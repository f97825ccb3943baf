"""The vault at a glance, for the home page and the API: statistics, the category tree with
counts, the recently changed entries.

The reads that cost enough go through the versioned cache (personalpod.cache): a hit is a
DynamoDB GetItem instead of aggregates over every entry, and any write makes the cached
value stale at once because it bumps the owner's change_seq. The sync publisher refreshes
them after each batch of changes (`refresh_hot_caches`), so the next read is a hit.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.db import connection
from django.db.models import Count, Max

from accounts.models import User
from entries.models import Category, Entry, EntryTag, Status
from entries.selectors import category_tree
from personalpod import cache

RECENT_COUNT = 10
TOP_TAGS = 100


def _compute_statistics(owner_id: uuid.UUID) -> dict[str, Any]:
    # One pass over the owner's entries gives both groupings (at most 6 x 4 rows).
    pairs = Entry.objects.filter(owner_id=owner_id).order_by().values_list("type", "status").annotate(n=Count("id"))
    by_type: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for type_, status, count in pairs:
        by_status[status] = by_status.get(status, 0) + count
        if status != Status.DELETED:
            by_type[type_] = by_type.get(type_, 0) + count
    tags = (
        EntryTag.objects.filter(entry__owner_id=owner_id)
        .exclude(entry__status=Status.DELETED)
        .values("tag__name", "tag__slug")
        .annotate(entry_count=Count("id"))
        .order_by("-entry_count", "tag__slug")[:TOP_TAGS]
    )
    return {
        "entry_count": sum(by_type.values()),
        "by_type": by_type,
        "by_status": by_status,
        "by_tag": [{"name": t["tag__name"], "slug": t["tag__slug"], "entry_count": t["entry_count"]} for t in tags],
    }


def statistics(owner: User) -> dict[str, Any]:
    """Counts by type (the trash left out), by status and by tag (the most used)."""
    value: dict[str, Any] = cache.cached(owner, "statistics", "", lambda: _compute_statistics(owner.pk))
    return value


def _compute_category_tree(owner_id: uuid.UUID) -> list[dict[str, Any]]:
    nodes = [asdict(node) for node in category_tree(User(pk=owner_id))]
    return json.loads(json.dumps(nodes, default=str))  # type: ignore[no-any-return] # ids as strings


def _categories_version(owner_id: uuid.UUID) -> str:
    """Part of the tree's cache key: making, renaming, recolouring, moving or deleting an
    empty category touches no entry and so does not move change_seq, but it changes this."""
    row = Category.objects.filter(owner_id=owner_id).aggregate(n=Count("id"), last=Max("updated_at"))
    return f"{row['n']}:{row['last'].timestamp() if row['last'] else 0}"


def category_tree_counts(owner: User) -> list[dict[str, Any]]:
    """The category tree with each category's entry count (own and with sub-categories)."""
    key = _categories_version(owner.pk)
    value: list[dict[str, Any]] = cache.cached(owner, "category_tree", key, lambda: _compute_category_tree(owner.pk))
    return value


# The newest of each status outside the trash, each from the (owner, status, updated_at)
# index, then the newest of those: a few index rows however big the vault.
_RECENT = f"""
    SELECT e.id, e.type, e.title, e.status, c.name, e.updated_at FROM (
        {
    " UNION ALL ".join(
        f"(SELECT id, type, title, status, category_id, updated_at FROM entries_entry"
        f" WHERE owner_id = %(owner)s AND status = '{status}' ORDER BY updated_at DESC LIMIT %(limit)s)"
        for status in (Status.ACTIVE, Status.ARCHIVED, Status.DRAFT)
    )
}
    ) e LEFT JOIN entries_category c ON c.id = e.category_id
    ORDER BY e.updated_at DESC, e.id LIMIT %(limit)s
"""  # noqa: S608 - the statuses are this module's constants


def _compute_recent(owner_id: uuid.UUID) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(_RECENT, {"owner": owner_id, "limit": RECENT_COUNT})
        rows = cursor.fetchall()
    return [
        {
            "id": str(id_),
            "type": type_,
            "title": title,
            "status": status,
            "category": category,
            "updated_at": updated_at.isoformat(),
        }
        for id_, type_, title, status, category, updated_at in rows
    ]


def recent_entries(owner: User) -> list[dict[str, Any]]:
    """The owner's most recently changed entries (not the trash), newest first."""
    return _compute_recent(owner.pk)


# The cached reads, each with its cache key and its computation, refreshed by the sync
# publisher under each new version for the owners whose values were worth caching. The
# recent entries are not here: their query reads a few index rows at any size, less than
# a hit would cost (docs/benchmarks/mirror.md).
HOT_CACHES: dict[str, tuple[Callable[[uuid.UUID], str], Callable[[uuid.UUID], Any]]] = {
    "statistics": (lambda owner_id: "", _compute_statistics),
    "category_tree": (_categories_version, _compute_category_tree),
}


def refresh_hot_caches(owner_id: uuid.UUID | str) -> None:
    owner_id = uuid.UUID(str(owner_id))
    cache.refresh(
        owner_id,
        {
            cache_type: (functools.partial(key_for, owner_id), functools.partial(compute, owner_id))
            for cache_type, (key_for, compute) in HOT_CACHES.items()
        },
    )
