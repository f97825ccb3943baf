"""Pull: a device's changes after its cursor, in feed order, from the sync queue; or, with no
cursor, a snapshot of everything it can see. Pulling acknowledges what the cursor covers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils import timezone

from accounts.models import User
from entries.api.serializers import EntryOut
from entries.models import Change, Entry, Status
from sync.delivery import acknowledge
from sync.models import Device
from sync.selectors import items_for_device, published_through
from sync.state import states_for

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
_SALT = "sync.cursor"


class BadCursor(Exception):
    """Not a cursor this server gave this device."""


@dataclass(frozen=True)
class Cursor:
    """Where a device is: after feed SEQ; while taking a snapshot, also after entry AFTER_ID."""

    device_id: uuid.UUID
    seq: int
    after_id: str | None = None

    def dumps(self) -> str:
        data: dict[str, Any] = {"d": str(self.device_id), "s": self.seq}
        if self.after_id is not None:
            data["e"] = self.after_id
        return signing.dumps(data, salt=_SALT, compress=True)


def load_cursor(token: str, device: Device) -> Cursor:
    try:
        data = signing.loads(token, salt=_SALT)
        cursor = Cursor(uuid.UUID(data["d"]), int(data["s"]), data.get("e"))
    except (signing.BadSignature, KeyError, ValueError, TypeError):
        raise BadCursor("This is not a sync cursor (start again without one).") from None
    if cursor.device_id != device.id:
        raise BadCursor("This cursor belongs to another device.")
    return cursor


def _change(seq: int | None, op: str, entry_id: str, state: dict[str, Any] | None) -> dict[str, Any]:
    # `deleted`: the entry left the device's live set (gone, no longer visible, or in the trash).
    deleted = state is None or state.get("status") == Status.DELETED
    return {"seq": seq, "op": op, "entry_id": entry_id, "deleted": deleted, "entry": state}


def pull(*, user: User, device: Device, cursor: str | None, limit: int) -> dict[str, Any]:
    if cursor is None:
        return _snapshot(user, device, Cursor(device.id, _change_seq(user), ""), limit)
    position = load_cursor(cursor, device)
    if position.after_id is not None:
        return _snapshot(user, device, position, limit)
    if _too_old(device, position.seq):
        return {"changes": [], "cursor": None, "has_more": False, "reset_required": True}
    return _changes(user, device, position, limit)


def _change_seq(user: User) -> int:
    return int(User.objects.filter(id=user.id).values_list("change_seq", flat=True).get())


def _too_old(device: Device, seq: int) -> bool:
    """Whether the queue no longer keeps what comes after SEQ for this device."""
    if seq < device.registered_seq:
        return True  # its queue starts later: the device was removed and signed in afresh
    following = Change.objects.filter(user_id=device.owner_id, seq=seq + 1).values_list("created_at", flat=True)
    created_at = following.first()
    if created_at is None:
        # Nothing after it, or that row is gone (purged): only the first is fine.
        return int(User.objects.filter(id=device.owner_id).values_list("change_seq", flat=True).get()) > seq
    return created_at < timezone.now() - timedelta(days=settings.SYNC_QUEUE_TTL_DAYS)


def _snapshot(user: User, device: Device, position: Cursor, limit: int) -> dict[str, Any]:
    """A page of every entry USER can see, in id order; the last page ends at the feed position
    read before the first, so what changed meanwhile comes again from the queue."""
    entries = Entry.objects.visible_to(user).order_by("id").prefetch_related("tags")
    if position.after_id:
        entries = entries.filter(id__gt=position.after_id)
    page = list(entries[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    changes = [_change(None, "snapshot", str(entry.id), dict(EntryOut(entry).data)) for entry in page]
    # The device acknowledges the feed position when it pulls with the final cursor.
    following = Cursor(device.id, position.seq, str(page[-1].id) if has_more else None)
    return {"changes": changes, "cursor": following.dumps(), "has_more": has_more, "snapshot": True}


def _changes(user: User, device: Device, position: Cursor, limit: int) -> dict[str, Any]:
    seq = _change_seq(user)  # before the bound: a change committed in between is counted as behind
    through = published_through(user.id)
    items = items_for_device(device, after_seq=position.seq, limit=limit + 1) if through > position.seq else []
    has_more = len(items) > limit
    items = items[:limit]
    states = states_for(user, {item.entry_id for item in items if item.entry_id})
    changes = [_change(int(item.seq), item.operation, item.entry_id, states.get(item.entry_id)) for item in items]
    # With nothing more to read, the cursor moves to the published bound: the device's own
    # changes, which it gets no items for, are behind it too.
    reached = int(items[-1].seq) if has_more else max(position.seq, through)
    acknowledge(device, position.seq, served=items)  # items handed out again count as failed deliveries
    answer: dict[str, Any] = {
        "changes": changes,
        "cursor": Cursor(device.id, reached).dumps(),
        "has_more": has_more,
    }
    if not has_more and through < seq:
        answer |= {"behind": True, "reached": reached}
    return answer
