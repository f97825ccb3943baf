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
from django.db.models import Count

from accounts.models import User
from entries.models import Entry, EntryTag, Status
from entries.selectors import category_tree
from personalpod import cache

RECENT_COUNT = 10
TOP_TAGS = 100


def _compute_statistics(owner_id: uuid.UUID) -> dict[str, Any]:
    with connection.cursor() as cursor:
        # One pass over the owner's entries for both groupings.
        cursor.execute(
            "SELECT type, status, COUNT(*) FROM entries_entry WHERE owner_id = %s "
            "GROUP BY GROUPING SETS ((type), (status))",
            [owner_id],
        )
        rows = cursor.fetchall()
    by_status = {status: count for type_, status, count in rows if type_ is None}
    live = Entry.objects.filter(owner_id=owner_id).exclude(status=Status.DELETED)
    by_type = dict(live.order_by().values_list("type").annotate(count=Count("id")))
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


def category_tree_counts(owner: User) -> list[dict[str, Any]]:
    """The category tree with each category's entry count (own and with sub-categories)."""
    return _compute_category_tree(owner.pk)


def _compute_recent(owner_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (
        Entry.objects.filter(owner_id=owner_id)
        .exclude(status=Status.DELETED)
        .order_by("-updated_at")
        .values("id", "type", "title", "status", "category__name", "updated_at")[:RECENT_COUNT]
    )
    return [
        {
            "id": str(row["id"]),
            "type": row["type"],
            "title": row["title"],
            "status": row["status"],
            "category": row["category__name"],
            "updated_at": row["updated_at"].isoformat(),
        }
        for row in rows
    ]


def recent_entries(owner: User) -> list[dict[str, Any]]:
    """The owner's most recently changed entries (not the trash), newest first."""
    return _compute_recent(owner.pk)


# The cached reads, refreshed by the sync publisher under each new version.
HOT_CACHES: dict[str, Callable[[uuid.UUID], Any]] = {"statistics": _compute_statistics}


def refresh_hot_caches(owner_id: uuid.UUID | str) -> None:
    owner_id = uuid.UUID(str(owner_id))
    for cache_type, compute in HOT_CACHES.items():
        cache.refresh(owner_id, cache_type, "", functools.partial(compute, owner_id))
