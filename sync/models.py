"""Devices: the places a user's vault is synced to, and how far each has pulled the change feed."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class Device(models.Model):
    """A signed-in device. Its id is the one its sessions carry: uuid5(user, name.casefold()).

    `registered_seq` is the owner's `change_seq` when it first signed in: it starts from a
    full copy of the vault and then needs only the changes after it. `last_pulled_seq` is
    its cursor in the change feed; everything at or below it has been delivered.
    """

    id = models.UUIDField(primary_key=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(max_length=100)
    platform = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    registered_seq = models.BigIntegerField(default=0)
    last_pulled_seq = models.BigIntegerField(default=0)
    # The last seq handed to it: items at or below it that it is handed again were not
    # applied, and each such hand-out counts as a failed delivery.
    last_served_seq = models.BigIntegerField(default=0)

    class Meta:
        ordering = ("owner", "created_at")
        indexes: ClassVar = [models.Index(fields=["owner", "registered_seq"], name="device_owner_registered")]

    def __str__(self) -> str:
        return self.name


class FailedDelivery(models.Model):
    """No table: the admin's handle on the sync queue's failed (dead-letter) items, which
    live in DynamoDB. It gives them a place in the admin and permissions to see and retry."""

    class Meta:
        managed = False
        default_permissions = ("view", "change")
        verbose_name = "failed sync delivery"
        verbose_name_plural = "failed sync deliveries"

    def __str__(self) -> str:
        return "failed sync delivery"


class PushedOperation(models.Model):
    """The outcome of a pushed sync operation, by its client id: a re-sent operation gets the
    first outcome back and changes nothing.

    The user key has no database constraint: inserting this row first in an operation's
    transaction must not lock the user's row (the entries services lock the entry owner's
    row first, and a grantee's own row only in id order after it).
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+")
    op_id = models.UUIDField()
    device_id = models.UUIDField(null=True, blank=True)
    outcome = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint("user", "op_id", name="pushedoperation_unique")]
        indexes: ClassVar = [models.Index(fields=["created_at"], name="pushedoperation_created")]

    def __str__(self) -> str:
        return str(self.op_id)
