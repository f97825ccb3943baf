"""Devices: created or reused when a device signs in; listed, renamed and removed by their owner."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from pynamodb.exceptions import PynamoDBException

from accounts import sessions
from accounts.activity import log_activity
from accounts.dynamo import SessionItem
from accounts.models import Action, User
from entries.feed import lock_owner
from entries.models import Change
from personalpod.http import ClientInfo
from sync import queue
from sync.dynamo import SyncQueueItem
from sync.models import Device


def register_device(*, user: User, device_id: uuid.UUID, name: str, platform: str | None = None) -> Device:
    """Create the device on its first sign-in, or note that it is back."""
    now = timezone.now()
    with transaction.atomic():
        # Under the owner's lock no write is half-way: the device's starting point in the
        # feed is exact, so it gets a queue item for every change after it and none before.
        lock_owner(user.id)
        device = Device.objects.select_for_update().filter(id=device_id, owner=user).first()
        if device is None:
            seq = User.objects.filter(id=user.id).values_list("change_seq", flat=True).get()
            return Device.objects.create(
                id=device_id,
                owner=user,
                name=name[:100],
                platform=(platform or "")[:32],
                last_seen_at=now,
                registered_seq=seq,
                last_pulled_seq=seq,
            )
        device.name, device.last_seen_at = name[:100], now
        updated = ["name", "last_seen_at"]
        if platform:
            device.platform = platform[:32]
            updated.append("platform")
        device.save(update_fields=updated)
    return device


def device_signed_in(user: User, device_id: uuid.UUID, name: str, platform: str | None) -> None:
    register_device(user=user, device_id=device_id, name=name, platform=platform)


def devices_with_backlog(user: User) -> list[Device]:
    """USER's devices, each with `backlog_count`: the changes it has still to pull (two queries)."""
    devices = list(Device.objects.filter(owner=user).order_by("created_at"))
    if not devices:
        return devices
    counts = Change.objects.filter(user=user).aggregate(
        **{
            str(device.id): Count(
                "id",
                filter=Q(seq__gt=max(device.last_pulled_seq, device.registered_seq)) & ~Q(origin_device=device.id),
            )
            for device in devices
        }
    )
    for device in devices:
        device.backlog_count = counts[str(device.id)]  # type: ignore[attr-defined]
    return devices


def rename_device(*, user: User, device_id: Any, name: Any) -> Device:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": ["A name is required."]})
    if len(name.strip()) > 100:
        raise ValidationError({"name": ["At most 100 characters."]})
    device = Device.objects.get(id=device_id, owner=user)
    device.name = name.strip()
    device.save(update_fields=["name"])
    return device


def remove_device(*, user: User, device_id: Any, client: ClientInfo | None = None) -> None:
    """Forget a device: its sessions end, its queue items go, and signing in again starts it afresh."""
    device = Device.objects.get(id=device_id, owner=user)
    try:
        for session in SessionItem.device_sessions.query(sessions.device_key(device.id)):
            if session.sk == sessions.user_key(user.id):
                session.delete()
    except PynamoDBException as exc:
        raise sessions.SessionsUnavailable(str(exc)) from exc
    device.delete()
    # After the row: a publish that read the device list before cannot bring its items back
    # for long (they expire), and a device signed in afresh starts after them anyway.
    stale = SyncQueueItem.query(
        queue.user_key(user.id),
        filter_condition=SyncQueueItem.device_key == queue.device_key(device_id),
        consistent_read=True,
    )
    with SyncQueueItem.batch_write() as batch:
        for item in stale:
            batch.delete(item)
    log_activity(
        action=Action.SESSION_REVOKE,
        actor=user,
        target_type="device",
        target_id=str(device_id),
        client=client,
        metadata={"device_name": device.name, "device_removed": True},
    )
