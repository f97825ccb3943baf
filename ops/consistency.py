"""`verify_consistency`: PostgreSQL against itself and against what DynamoDB derives from it.

For each user:

- the change feed has no gaps: seqs 1..change_seq, each once, and nothing unpublished for
  longer than the catch-up should take;
- every entry's latest version has its history (every earlier version kept), its change-feed
  row and its activity row;
- the sync queue holds an item, with the same content, for every published change a device
  has not pulled yet, and nothing PostgreSQL does not explain;
- cache items under the user's current change_seq equal what PostgreSQL computes now; items
  under older versions (or past their TTL) can no longer be served and are not compared.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone
from pynamodb.exceptions import PynamoDBException

from accounts.models import ActivityLog, User
from entries.attachments.selectors import _usage
from entries.dynamo import SearchIndexItem
from entries.models import Change, Entry, EntryVersion
from entries.overview import HOT_CACHES
from personalpod.cache import CacheItem, item_key
from sync import queue
from sync.dynamo import SyncQueueItem
from sync.models import Device

# The cache types that can be recomputed to compare: cache type -> (the key their value is
# kept under now, compute(user id)). Items under another key (a category tree of categories
# since changed) can no longer be served.
RECOMPUTE: dict[str, tuple[Callable[[uuid.UUID], str], Callable[[uuid.UUID], Any]]] = {
    **HOT_CACHES,
    "storage_stats": (lambda user_id: "", lambda user_id: _usage(User(pk=user_id))),
}


@dataclass
class Report:
    users: int = 0
    mismatches: list[str] = field(default_factory=list)

    def add(self, user: User, message: str) -> None:
        self.mismatches.append(f"{user.email}: {message}")


def verify(users: Iterable[User], *, max_lag: timedelta = timedelta(minutes=10)) -> Report:
    report = Report()
    for user in users:
        report.users += 1
        _feed(user, report, max_lag)
        _entries(user, report)
        try:
            _sync_queue(user, report)
            _caches(user, report)
        except PynamoDBException as failure:
            report.add(user, f"DynamoDB could not be read: {failure}")
    return report


def _feed(user: User, report: Report, max_lag: timedelta) -> None:
    rows = Change.objects.filter(user=user)
    summary = rows.aggregate(count=Count("id"), top=Max("seq"))
    count, top, expected = summary["count"], summary["top"] or 0, user.change_seq
    if count != expected or top != expected:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s FROM generate_series(1, %s) AS s WHERE NOT EXISTS "
                "(SELECT 1 FROM entries_change WHERE user_id = %s AND seq = s) ORDER BY s LIMIT 20",
                [expected, user.id],
            )
            missing = [row[0] for row in cursor.fetchall()]
        detail = f"missing seq {', '.join(map(str, missing))}" if missing else f"rows up to seq {top}"
        report.add(user, f"change feed has {count} rows for change_seq {expected}: {detail}")
    stuck = rows.filter(published_at__isnull=True, created_at__lt=timezone.now() - max_lag).count()
    if stuck:
        report.add(user, f"{stuck} change(s) unpublished for more than {max_lag} (is the sync catch-up running?)")


def _entries(user: User, report: Report) -> None:
    entries = dict(Entry.objects.filter(owner=user).values_list("id", "version"))
    history = {
        row["entry_id"]: (row["count"], row["top"])
        for row in EntryVersion.objects.filter(entry__owner=user)
        .values("entry_id")
        .annotate(count=Count("id"), top=Max("version"))
    }
    changed = dict(
        Change.objects.filter(user=user, entry_id__in=list(entries))
        .values("entry_id")
        .annotate(top=Max("entry_version"))
        .values_list("entry_id", "top")
    )
    logged: dict[str, int] = {}
    activity = ActivityLog.objects.filter(owner_id=user.id, target_type="entry").values_list(
        "target_id", "metadata__version"
    )
    for target_id, version in activity.iterator(chunk_size=5000):
        if isinstance(version, int):
            logged[target_id] = max(version, logged.get(target_id, 0))
    for entry_id, version in sorted(entries.items()):
        kept, newest_kept = history.get(entry_id, (0, 0))
        if (kept, newest_kept) != (version - 1, version - 1):
            report.add(user, f"entry {entry_id} is at version {version} but its history holds {kept} earlier "
                       f"version(s) up to {newest_kept or 'none'}")  # fmt: skip
        if changed.get(entry_id) != version:
            report.add(user, f"entry {entry_id} version {version} has no change-feed row")
        if logged.get(str(entry_id)) != version:
            report.add(user, f"entry {entry_id} version {version} has no activity-log row")


def _sync_queue(user: User, report: Report) -> None:
    now = timezone.now()
    devices = {device.id: device for device in Device.objects.filter(owner=user)}
    items = {item.sk: item for item in SyncQueueItem.query(queue.user_key(user.id)) if item.expires_at > now}
    changes = Change.objects.filter(user=user).order_by("seq")
    if devices:
        changes = changes.filter(seq__gt=min(device.registered_seq for device in devices.values()))
    else:
        changes = changes.none()
    explained: set[str] = set()
    for change in changes.iterator(chunk_size=2000):
        for device in queue.targets(change, devices.values()):
            wanted = queue.item_for(change, device)
            # An unpublished change may have its items written already (the publisher commits after).
            explained.add(wanted.sk)
            if wanted.expires_at <= now:
                continue  # past its TTL: no longer served, whether DynamoDB removed it yet or not
            found = items.get(wanted.sk)
            if found is None:
                if change.published_at is not None and device.last_pulled_seq < change.seq:
                    report.add(user, f"sync queue lacks seq {change.seq} for device {device.id} (not pulled yet)")
                continue
            differs = [
                name
                for name in ("seq", "entry_id", "operation", "entry_version", "origin_device", "device_key")
                if getattr(found, name) != getattr(wanted, name)
            ]
            if differs:
                report.add(
                    user, f"sync queue item for seq {change.seq}, device {device.id} differs: {', '.join(differs)}"
                )
    for sk in sorted(set(items) - explained):
        report.add(user, f"sync queue item {sk} matches no change for a device of theirs")


def _normal(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _caches(user: User, report: Report) -> None:
    now = timezone.now()
    for cache_type, (key_for, compute) in RECOMPUTE.items():
        pk, _ = item_key(user.id, cache_type, key_for(user.id), 0)
        for item in CacheItem.query(pk):
            version = int(item.sk.removeprefix("VERSION#"))
            if version > user.change_seq:
                report.add(user, f"cache {cache_type} holds version {version}, newer than change_seq "
                           f"{user.change_seq} (restored database?)")  # fmt: skip
            elif version == user.change_seq and item.expires_at > now:
                value = _normal(compute(user.id))
                current = User.objects.values_list("change_seq", flat=True).get(id=user.id)
                if current == version and value != item.value:
                    report.add(user, f"cache {cache_type} at version {version} differs from PostgreSQL")
    for page in SearchIndexItem.query(queue.user_key(user.id)):
        if page.change_seq > user.change_seq:
            report.add(user, f"search cache page {page.sk} is for change_seq {page.change_seq}, "
                       f"newer than {user.change_seq} (restored database?)")  # fmt: skip
