"""The activity log's write path: `log_activity` (called by every write service) and the
one explicit way to remove rows, the retention purge."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pgtrigger
from django.db import transaction

from accounts.models import Action, ActivityLog, User
from personalpod.http import ClientInfo

# Keys whose values are secrets; metadata is for facts about an action, never its secrets.
_SECRET_KEYS = frozenset({"password", "secret", "token", "totp_seed", "passphrase", "content", "new_password"})

Who = User | uuid.UUID | None
_ACTOR: Any = object()  # default owner: the actor's own log


def _id(who: Who) -> uuid.UUID | None:
    return who.id if isinstance(who, User) else who


def log_activity(
    *,
    action: Action,
    actor: Who = None,
    owner: Who = _ACTOR,
    target_type: str = "",
    target_id: object = "",
    client: ClientInfo | None = None,
    metadata: dict[str, Any] | None = None,
) -> ActivityLog:
    metadata = metadata or {}
    leaked = _SECRET_KEYS.intersection(metadata)
    if leaked:
        raise ValueError(f"activity metadata must not hold secrets: {sorted(leaked)}")
    return ActivityLog.objects.create(
        action=action,
        actor_id=_id(actor),
        owner_id=_id(actor if owner is _ACTOR else owner),
        target_type=target_type,
        target_id=str(target_id) if target_id else "",
        ip=client.ip if client else None,
        user_agent=client.user_agent if client else "",
        metadata=metadata,
    )


def log_activities(rows: list[ActivityLog]) -> None:
    """Write many prepared rows at once (bulk changes); the same secret check applies."""
    for row in rows:
        leaked = _SECRET_KEYS.intersection(row.metadata)
        if leaked:
            raise ValueError(f"activity metadata must not hold secrets: {sorted(leaked)}")
    ActivityLog.objects.bulk_create(rows)


@transaction.atomic
def purge_activity(*, before: datetime, actor: Who = None) -> int:
    """Delete log rows created before BEFORE: the one operation the append-only trigger allows."""
    with pgtrigger.ignore("accounts.ActivityLog:append_only"):
        deleted, _ = ActivityLog.objects.filter(created_at__lt=before).delete()
    log_activity(
        action=Action.ACTIVITY_PURGE,
        actor=actor,
        owner=None,
        metadata={"before": before.isoformat(), "deleted_count": deleted},
    )
    return deleted
