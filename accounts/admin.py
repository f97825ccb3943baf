from django.contrib import admin

from accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ("email", "username", "external_id", "is_active", "is_staff", "created_at")
    list_filter = ("is_active", "is_staff")
    search_fields = ("email", "username", "external_id")
    ordering = ("-created_at",)
    readonly_fields = ("id", "change_seq", "last_login", "created_at", "updated_at")
    exclude = ("password",)
