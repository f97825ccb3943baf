from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from accounts import services
from accounts.activity import log_activity
from accounts.models import Action, ActivityLog, ApiToken, User
from personalpod.admin import ReadOnlyAdmin
from personalpod.http import ClientInfo


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ("email", "username", "external_id", "is_active", "is_staff", "last_login", "created_at")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "username", "external_id")
    ordering = ("-created_at",)
    readonly_fields = ("id", "change_seq", "last_login", "created_at", "updated_at", "is_active")
    fields = (
        "id", "email", "username", "external_id", "search_language", "timezone", "metadata",
        "is_active", "is_staff", "is_superuser", "groups", "user_permissions",
        "change_seq", "last_login", "created_at", "updated_at",
    )  # fmt: skip
    actions = ("deactivate",)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        obj.email = obj.email.strip().lower()
        super().save_model(request, obj, form, change)
        actor = request.user if isinstance(request.user, User) else None
        log_activity(
            action=Action.PROFILE_UPDATE,
            actor=actor,
            owner=obj,
            target_type="user",
            target_id=obj.id,
            client=ClientInfo.from_request(request),
            metadata={"via": "admin", "fields": sorted(form.changed_data)},
        )

    @admin.action(description="Deactivate (and sign out everywhere)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        ended = sum(
            services.deactivate_user(user=user, actor=actor, client=ClientInfo.from_request(request))
            for user in queryset.filter(is_active=True)
        )
        ended_text = ngettext("%(count)d session ended.", "%(count)d sessions ended.", ended) % {"count": ended}
        self.message_user(request, f"Deactivated; {ended_text}", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at", "created_at")
    search_fields = ("name", "user__email", "prefix")
    list_select_related = ("user",)
    # Only the hash is stored, and even that is not shown.
    exclude = ("token_hash",)
    readonly_fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ActivityLog)
class ActivityLogAdmin(ReadOnlyAdmin):
    """Read-only: the log is append-only, in the database and here."""

    list_display = ("created_at", "action", "actor_id", "owner_id", "target_type", "target_id", "ip")
    list_filter = ("action", "target_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=actor_id", "=owner_id", "=target_id", "=ip")
    search_help_text = "A person's e-mail address, or an id (person, target) or IP address."

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[ActivityLog], search_term: str) -> Any:
        """An e-mail address finds what that person did and what was done to their data."""
        term = search_term.strip()
        if "@" in term:
            ids = list(User.objects.filter(email__iexact=term).values_list("id", flat=True))
            return queryset.filter(Q(actor_id__in=ids) | Q(owner_id__in=ids)), False
        return super().get_search_results(request, queryset, search_term)

    date_hierarchy = "created_at"
    show_full_result_count = False
