"""The support console for entries: metadata only. Content, fields and secrets are never shown."""

from __future__ import annotations

from django.contrib import admin

# Registers the attachments' admin (they have their own package).
from entries.attachments import admin as attachments_admin  # noqa: F401
from entries.models import Category, Entry, Tag
from personalpod.admin import ReadOnlyAdmin


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "owner", "type", "status", "version", "has_encrypted_content", "created_at", "updated_at")
    list_filter = (
        "type",
        "status",
        ("created_at", admin.DateFieldListFilter),
        ("updated_at", admin.DateFieldListFilter),
    )
    search_fields = ("=id", "owner__email", "owner__username")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    fields = ("id", "owner", "type", "status", "category", "version", "expires_at", "trashed_at",
              "created_at", "updated_at", "has_encrypted_content")  # fmt: skip
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(boolean=True, description="encrypted content")
    def has_encrypted_content(self, entry: Entry) -> bool:
        return entry.content_encrypted is not None


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "parent", "depth", "is_system", "created_at")
    list_filter = ("is_system",)
    search_fields = ("name", "owner__email")
    list_select_related = ("owner", "parent")


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "owner", "usage_count", "created_at")
    search_fields = ("name", "slug", "owner__email")
    list_select_related = ("owner",)
