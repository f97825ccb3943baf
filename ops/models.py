"""The history of backups and of their verification: what /metrics and the admin report."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone

from personalpod.models import UUIDModel


class BackupRun(UUIDModel):
    class Kind(models.TextChoices):
        BACKUP = "backup"
        VERIFICATION = "verification"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The dump's file name in its location (personalpod-20260101T030000Z.dump).
    name = models.CharField(max_length=200)
    location = models.CharField(max_length=500)
    # When the backup's snapshot was taken (for a verification: the backup it verified).
    backup_created_at = models.DateTimeField(null=True, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    is_ok = models.BooleanField()
    # What was checked, or what failed: never row data or secrets.
    message = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-finished_at",)
        indexes: ClassVar = [models.Index(fields=["kind", "-finished_at"], name="backuprun_kind_recent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({'ok' if self.is_ok else 'failed'})"
