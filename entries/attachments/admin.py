"""Attachments in the support console: name, size, type, checksum status; never the file."""

from __future__ import annotations

from django.contrib import admin
from django.template.defaultfilters import filesizeformat

from entries.attachments.models import Attachment, Integrity
from personalpod.admin import ReadOnlyAdmin


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "content_type", "human_size", "integrity_flag", "thumbnail_status", "created_at")
    list_filter = (
        "integrity",
        "thumbnail_status",
        "backend",
        "content_type",
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("=id", "=entry__id", "=sha256", "owner__email", "owner__username")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    fields = ("id", "name", "entry", "owner", "uploaded_by", "content_type", "size", "sha256", "backend", "integrity",
              "integrity_checked_at", "thumbnail_status", "metadata", "created_at", "updated_at")  # fmt: skip
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="size", ordering="size")
    def human_size(self, attachment: Attachment) -> str:
        return filesizeformat(attachment.size)

    @admin.display(description="checksum", ordering="integrity")
    def integrity_flag(self, attachment: Attachment) -> str:
        if attachment.integrity in (Integrity.MISMATCH, Integrity.MISSING):
            return f"⚠ {attachment.get_integrity_display()}"
        return str(attachment.get_integrity_display())
