"""The Attachment table. Imported by entries.models, so it belongs to the entries app."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from personalpod.models import TimestampedModel

NAME_MAX_LENGTH = 255


class Backend(models.TextChoices):
    FILESYSTEM = "filesystem"
    S3 = "s3"


class ThumbnailStatus(models.TextChoices):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    NONE = "none"  # not an image: nothing to make


class Integrity(models.TextChoices):
    UNCHECKED = "unchecked"
    OK = "ok"
    MISMATCH = "mismatch"  # the stored bytes no longer hash to `sha256`
    MISSING = "missing"  # the stored object is gone


class Attachment(TimestampedModel):
    entry = models.ForeignKey("entries.Entry", on_delete=models.CASCADE, related_name="attachments")
    # The entry's owner (entries never change hands): whose quota and statistics the file counts in.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Which storage holds the file, and its name there (users/{owner}/attachments/{id}/...),
    # never the client's file name.
    backend = models.CharField(max_length=16, choices=Backend.choices)
    file = models.CharField(max_length=500)
    name = models.CharField(max_length=NAME_MAX_LENGTH)  # the original name, sanitised
    content_type = models.CharField(max_length=127)  # sniffed from the bytes, not the client's
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    thumbnail = models.CharField(max_length=500, blank=True, default="")
    thumbnail_status = models.CharField(max_length=16, choices=ThumbnailStatus.choices)
    # Image width and height, a PDF's page count, why a thumbnail failed.
    metadata = models.JSONField(default=dict, blank=True)
    integrity = models.CharField(max_length=16, choices=Integrity.choices, default=Integrity.UNCHECKED)
    integrity_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes: ClassVar = [
            models.Index(fields=["entry", "created_at"], name="attachment_entry"),
            models.Index(fields=["owner", "content_type"], name="attachment_owner_type"),
            models.Index(fields=["backend", "file"], name="attachment_stored_file"),
            models.Index(
                fields=["backend", "thumbnail"], name="attachment_stored_thumbnail", condition=~Q(thumbnail="")
            ),
            models.Index(fields=["integrity_checked_at"], name="attachment_integrity_checked"),
            models.Index(
                fields=["integrity"],
                name="attachment_flagged",
                condition=Q(integrity__in=["mismatch", "missing"]),
            ),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint("backend", "file", name="attachment_unique_file"),
            models.CheckConstraint(condition=Q(size__gt=0), name="attachment_not_empty"),
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="attachment_sha256_hex"),
        ]

    def __str__(self) -> str:
        return self.name
