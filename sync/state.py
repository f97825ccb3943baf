"""Entry states as devices receive them: the entry API's own shape, read as the device's user."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from accounts.models import User
from entries.api.serializers import EntryOut
from entries.models import Entry


def states_for(user: User, entry_ids: Iterable[uuid.UUID | str]) -> dict[str, dict[str, Any]]:
    """The states of the entries USER can see among ENTRY_IDS, by id (one query, plus tags)."""
    ids = {str(entry_id) for entry_id in entry_ids}
    if not ids:
        return {}
    entries = Entry.objects.visible_to(user).filter(id__in=ids).prefetch_related("tags")
    return {str(entry.id): dict(EntryOut(entry).data) for entry in entries}


def entry_state(user: User, entry_id: uuid.UUID | str) -> dict[str, Any] | None:
    return states_for(user, [entry_id]).get(str(entry_id))
