"""Devices: created or reused when a device signs in."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from entries.feed import lock_owner
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
