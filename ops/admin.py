from django.contrib import admin

from ops.models import BackupRun
from personalpod.admin import ReadOnlyAdmin


@admin.register(BackupRun)
class BackupRunAdmin(ReadOnlyAdmin):
    list_display = ("finished_at", "kind", "name", "is_ok", "size", "location")
    list_filter = ("kind", "is_ok")
    search_fields = ("name",)
    readonly_fields = (
        "kind", "name", "location", "backup_created_at", "size", "sha256", "is_ok", "message", "details",
        "started_at", "finished_at",
    )  # fmt: skip
