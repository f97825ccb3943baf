"""The support console for shares: who has what, and a revoke that goes through the service.
Tokens and passphrases are never shown (only their hashes are stored, and those stay hidden too)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import User
from personalpod.admin import ReadOnlyAdmin
from personalpod.http import ClientInfo
from sharing import services
from sharing.models import Share, State
from sharing.selectors import hash_token


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in State.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.in_state(self.value()) if self.value() else queryset  # type: ignore[attr-defined]


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("user", "With a person"), ("link", "Link")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "user":
            return queryset.filter(grantee__isnull=False)
        if self.value() == "link":
            return queryset.filter(grantee__isnull=True)
        return queryset


@admin.register(Share)
class ShareAdmin(ReadOnlyAdmin):
    list_display = ("id", "by_entry", "by_owner", "by_grantee", "kind", "permission", "state", "access_count",
                    "max_access_count", "expires_at", "last_accessed_at", "created_at")  # fmt: skip
    list_filter = (StateFilter, KindFilter, "permission", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=id", "=entry__id", "owner__email", "owner__username", "grantee__email", "grantee__username",
                     "=token_prefix")  # fmt: skip
    list_select_related = ("owner", "grantee")
    fields = ("id", "entry", "owner", "created_by", "grantee", "permission", "token_prefix", "has_passphrase",
              "is_reveal_allowed", "expires_at", "max_access_count", "access_count", "last_accessed_at",
              "revoked_at", "expiry_recorded_at", "created_at", "updated_at")  # fmt: skip
    readonly_fields = fields
    show_full_result_count = False
    actions = ("revoke",)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Share], search_term: str) -> Any:
        """A whole leaked token, or its /s/ address, finds its link (by the token's hash)."""
        token = search_term.strip().rstrip("/").rsplit("/", 1)[-1]
        if token.startswith(services.TOKEN_PREFIX) and len(token) > len(services.TOKEN_PREFIX) + 4:
            return queryset.filter(token_hash=hash_token(token)), False
        return super().get_search_results(request, queryset, search_term)

    # Each links to the shares of the same entry, owner or grantee (?entry=..., ?owner=..., ?grantee=...).
    @admin.display(description="entry")
    def by_entry(self, share: Share) -> str:
        return format_html('<a href="?entry={}">{}</a>', share.entry_id, share.entry_id)

    @admin.display(description="owner")
    def by_owner(self, share: Share) -> str:
        return format_html('<a href="?owner={}">{}</a>', share.owner_id, share.owner)

    @admin.display(description="grantee")
    def by_grantee(self, share: Share) -> str:
        if share.grantee is None:
            return "(link)"
        return format_html('<a href="?grantee={}">{}</a>', share.grantee_id, share.grantee)

    @admin.display(description="kind")
    def kind(self, share: Share) -> str:
        return "link" if share.is_link else "user"

    @admin.display(description="state")
    def state(self, share: Share) -> str:
        return str(share.state_at(timezone.now()))

    @admin.display(boolean=True, description="passphrase")
    def has_passphrase(self, share: Share) -> bool:
        return bool(share.passphrase_hash)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("sharing.change_share"))

    @admin.action(description="Revoke (they stop working at once)", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Share]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        if actor is None:
            return
        client = ClientInfo.from_request(request)
        ids = list(queryset.filter(revoked_at__isnull=True).values_list("id", flat=True))
        for share_id in ids:
            services.revoke_share(actor=actor, share_id=share_id, client=client, by_support=True)
        self.message_user(request, f"Revoked {len(ids)} share(s).", messages.SUCCESS)
