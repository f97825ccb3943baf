"""The per-user change feed: every write appends `Change` rows in its own transaction.

Higher apps extend it without entries importing them: sharing adds the grantees who must
hear about an entry (`recipient_hooks`), sync publishes the rows after commit
(`committed_hooks`). Both register in their AppConfig.ready().
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from collections.abc import Callable, Iterable, Sequence

from django.db import connection, transaction
from django.utils import timezone

from entries.models import Change, ChangeOp, Entry

# Given an entry, the ids of users other than its owner whose feeds must carry its changes.
recipient_hooks: list[Callable[[Entry], Iterable[uuid.UUID]]] = []
# Called after commit with the ids of the users whose feeds grew.
committed_hooks: list[Callable[[set[uuid.UUID]], None]] = []


def lock_owner(user_id: uuid.UUID) -> None:
    """Lock the user's row first thing in every write transaction for their data.

    Every writer then takes its locks in one order (user, then entries, tags, categories),
    so two writers for one user queue instead of deadlocking; the change feed takes its
    numbers from the same row later in the transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM accounts_user WHERE id = %s FOR NO KEY UPDATE", [user_id])


def take_seqs(user_id: uuid.UUID, count: int = 1) -> int:
    """Reserve the user's next COUNT change numbers; return the last one.

    The UPDATE locks the user's row until commit: writers for one user queue here, so the
    feed has no gaps and its order is commit order.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET change_seq = change_seq + %s WHERE id = %s RETURNING change_seq",
            [count, user_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"no user {user_id}")
    return int(row[0])


def feed_time(user_id: uuid.UUID) -> datetime:
    """Now, but never earlier than the user's last change: the sync queue sorts by this time,
    so it must not go backwards when a clock does. Called under the user's row lock."""
    now = timezone.now()
    last = Change.objects.filter(user_id=user_id).order_by("-seq").values_list("created_at", flat=True).first()
    return max(now, last) if last else now


def record_changes(
    entries: Sequence[Entry],
    op: ChangeOp,
    *,
    origin_device: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> list[Change]:
    """Append these entries' change to the feeds of their owners and of everyone they are shared with."""
    per_user: dict[uuid.UUID, list[Entry]] = defaultdict(list)
    for entry in entries:
        recipients = {entry.owner_id}
        for hook in recipient_hooks:
            recipients.update(hook(entry))
        for user_id in recipients:
            per_user[user_id].append(entry)
    rows = []
    for user_id in sorted(per_user):  # a fixed lock order, so two writers never deadlock
        items = per_user[user_id]
        first = take_seqs(user_id, len(items)) - len(items) + 1
        at = feed_time(user_id)
        rows += [
            Change(
                user_id=user_id,
                seq=first + offset,
                created_at=at,
                entry_id=entry.id,
                operation=op,
                entry_version=entry.version,
                origin_device=origin_device,
                idempotency_key=idempotency_key or "",
            )
            for offset, entry in enumerate(items)
        ]
    Change.objects.bulk_create(rows)
    users = set(per_user)
    transaction.on_commit(lambda: _committed(users))
    return rows


def _committed(user_ids: set[uuid.UUID]) -> None:
    for hook in committed_hooks:
        hook(user_ids)
