"""The per-user change feed: every write appends `Change` rows in its own transaction.

Higher apps extend it without entries importing them: sharing adds the grantees who must
hear about an entry (`recipient_hooks`) and whose rows a write must lock (`peer_hooks`),
sync publishes the rows after commit (`committed_hooks`). They register in their
AppConfig.ready().
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from entries.models import Change, ChangeOp, Entry

# Given entries, for each entry id the ids of users other than its owner whose feeds must
# carry its changes (one call per write, however many entries it touches).
recipient_hooks: list[Callable[[Sequence[Entry]], Mapping[uuid.UUID, Iterable[uuid.UUID]]]] = []
# Given an owner's id, the ids of the other users whose feeds the owner's writes may reach
# (a superset of what recipient_hooks answers for any of the owner's entries).
peer_hooks: list[Callable[[uuid.UUID], Iterable[uuid.UUID]]] = []
# Called after commit with the ids of the users whose feeds grew.
committed_hooks: list[Callable[[set[uuid.UUID]], None]] = []


def lock_owner(user_id: uuid.UUID, *, also: Iterable[uuid.UUID] = ()) -> None:
    """Lock the user's row first thing in every write transaction for their data, with the
    rows of everyone whose feed the write may reach (the grantees of their shares, and ALSO).

    Every writer then takes its locks in one order (users in id order, then entries, tags,
    categories), so two writers queue instead of deadlocking, even when Alice's write reaches
    Bob's feed while Bob's reaches hers; the change feed takes its numbers from these rows
    later in the transaction.
    """
    user_ids = {user_id, *also}
    for hook in peer_hooks:
        user_ids.update(hook(user_id))
    with connection.cursor() as cursor:
        if len(user_ids) == 1:
            cursor.execute("SELECT 1 FROM accounts_user WHERE id = %s FOR NO KEY UPDATE", [user_id])
        else:
            # ORDER BY comes before the locking clause: the rows are locked in id order.
            cursor.execute(
                "SELECT 1 FROM accounts_user WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", [sorted(user_ids)]
            )


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
    only_users: Iterable[uuid.UUID] | None = None,
) -> list[Change]:
    """Append these entries' change to the feeds of their owners and of everyone they are
    shared with; or, given ONLY_USERS, to those users' feeds alone (sharing an entry changes
    what its grantee sees, not the entry). The rows must be locked (lock_owner)."""
    per_user: dict[uuid.UUID, list[Entry]] = defaultdict(list)
    if only_users is not None:
        for user_id in only_users:
            per_user[user_id] = list(entries)
    else:
        others: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for hook in recipient_hooks:
            for entry_id, user_ids in hook(entries).items():
                others[entry_id].update(user_ids)
        for entry in entries:
            for user_id in {entry.owner_id, *others[entry.id]}:
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
