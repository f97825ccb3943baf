"""The support console for sync: devices, and the sync queue's failed deliveries with a retry."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from pynamodb.exceptions import PynamoDBException

from personalpod.admin import ReadOnlyAdmin
from sync import delivery, selectors
from sync.models import Device, FailedDelivery


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "platform", "last_seen_at", "registered_seq", "last_pulled_seq", "created_at")
    list_filter = ("platform",)
    search_fields = ("name", "owner__email", "owner__username", "=id")
    list_select_related = ("owner",)
    ordering = ("-last_seen_at",)


@admin.register(FailedDelivery)
class FailedDeliveryAdmin(admin.ModelAdmin[FailedDelivery]):
    """Lists the failed items straight from DynamoDB's StatusIndex; "Retry" puts the chosen
    ones back to pending with a fresh attempt count."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            return self._retry(request)
        try:
            items = selectors.failed_items()
            error = None
        except PynamoDBException as exc:
            items, error = [], f"The sync queue is unreachable: {type(exc).__name__}"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Failed sync deliveries",
            "items": [
                {
                    "key": f"{item.pk}|{item.sk}",
                    "user": item.pk.removeprefix("USER#"),
                    "device": item.device_key.removeprefix("DEVICE#"),
                    "seq": item.seq,
                    "entry_id": item.entry_id,
                    "operation": item.operation,
                    "attempts": item.attempts,
                    "last_error": item.last_error or "",
                }
                for item in items
            ],
            "error": error,
            "can_retry": self.has_change_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/sync/failed_deliveries.html", context)

    def _retry(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        keys = [tuple(value.split("|", 1)) for value in request.POST.getlist("item") if "|" in value]
        if not keys:
            self.message_user(request, "Choose the items to retry.", messages.WARNING)
            return HttpResponseRedirect(request.path)
        try:
            moved = delivery.retry_failed(keys)  # type: ignore[arg-type]
        except PynamoDBException:
            self.message_user(request, "The sync queue is unreachable; nothing was retried.", messages.ERROR)
            return HttpResponseRedirect(request.path)
        self.message_user(request, f"{moved} item(s) back to pending; their devices get them on the next pull.")
        return HttpResponseRedirect(request.path)
