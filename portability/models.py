"""Exports and imports, with what each import created (so that it can be undone as a whole)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from personalpod.models import UUIDModel
from portability.formats import Format


class Export(UUIDModel):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        READY = "ready"
        FAILED = "failed"
        EXPIRED = "expired"  # its file is gone (purged after expires_at, or deleted by its owner)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    # The owner, or the staff member who started it on the owner's written request.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request_reference = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    is_encrypted = models.BooleanField(default=False)
    # The passphrase, sealed under a one-off wrapped key until the export has used it.
    passphrase_sealed = models.JSONField(null=True, blank=True, editable=False)
    # Which storage holds the file ("s3" or "filesystem", as attachments), and its name there.
    backend = models.CharField(max_length=16, blank=True, default="")
    file = models.CharField(max_length=500, blank=True, default="")
    file_name = models.CharField(max_length=200, blank=True, default="")  # what the download is called
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    counts = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    download_count = models.PositiveIntegerField(default=0)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes: ClassVar = [
            models.Index(fields=["owner", "-created_at"], name="export_owner_recent"),
            models.Index(fields=["expires_at"], name="export_to_purge", condition=Q(purged_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"export {self.id} ({self.status})"


class Import(UUIDModel):
    class Status(models.TextChoices):
        PARSING = "parsing"  # uploaded; the worker is reading it
        READY = "ready"  # the preview is ready: confirm or cancel
        IMPORTING = "importing"
        DONE = "done"
        FAILED = "failed"  # nothing was imported; `error_*` say why
        UNDOING = "undoing"
        UNDONE = "undone"
        CANCELLED = "cancelled"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imports")
    format = models.CharField(max_length=16, choices=Format.CHOICES)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PARSING)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # The uploaded file, encrypted under a one-off key (wrapped, in `file_key`) until it is
    # imported or cancelled: it may hold another tool's passwords in the clear.
    backend = models.CharField(max_length=16, blank=True, default="")
    file = models.CharField(max_length=500, blank=True, default="")
    file_key = models.JSONField(null=True, blank=True, editable=False)
    passphrase_sealed = models.JSONField(null=True, blank=True, editable=False)
    # What will be (or was) created: counts, new categories, the items with duplicates
    # marked, warnings. Titles and names only, never secrets.
    preview = models.JSONField(default=dict, blank=True)
    skip_duplicates = models.BooleanField(default=True)
    result = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    error_field = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undo_until = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes: ClassVar = [
            models.Index(fields=["owner", "-created_at"], name="import_owner_recent"),
            models.Index(fields=["status", "created_at"], name="import_status_age"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(format__in=Format.VALUES), name="import_format_known"),
        ]

    def __str__(self) -> str:
        return f"import {self.id} ({self.format}, {self.status})"


class ImportedObject(models.Model):
    """Something an import created: what its undo removes (through the services)."""

    class Kind(models.TextChoices):
        ENTRY = "entry"
        CATEGORY = "category"
        TAG = "tag"

    id = models.BigAutoField(primary_key=True)
    source = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="created")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.UUIDField()
    # Where it came from in the file: a resumed import skips what it already made.
    source_key = models.CharField(max_length=300)
    # An entry's version once the import had made it: an undo keeps an entry whose version is
    # higher now (the person changed it). None for categories, tags and older imports.
    version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint("source", "kind", "source_key", name="importedobject_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
