"""Support console: exports and imports by their metadata only (never titles or secrets).

Staff may start an export for a person who asked for one in writing (the reference is
required and logged, with the staff member as actor); the file goes to that person's
account, to download it themselves. Staff never see or download it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from accounts.models import User
from personalpod.admin import ReadOnlyAdmin
from personalpod.http import ClientInfo
from portability import exports
from portability.models import Export, Import

SHOWN = (
    "id", "owner", "status", "requested_by", "request_reference", "is_encrypted", "counts", "size", "sha256",
    "progress_done", "progress_total", "error", "created_at", "started_at", "finished_at", "expires_at",
    "download_count", "purged_at",
)  # fmt: skip


class StartExportForm(forms.ModelForm[Export]):
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True), help_text="Whose vault: the export goes to their account."
    )
    request_reference = forms.CharField(
        max_length=200, help_text="The person's written request this answers (ticket, letter or e-mail reference)."
    )

    class Meta:
        model = Export
        fields = ("owner", "request_reference")

    def clean_owner(self) -> User:
        owner: User = self.cleaned_data["owner"]
        if Export.objects.filter(owner=owner, status__in=[Export.Status.PENDING, Export.Status.RUNNING]).exists():
            raise forms.ValidationError("An export of this person's vault is being made already.")
        return owner


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin[Export]):
    list_display = ("created_at", "owner", "status", "requested_by", "request_reference", "is_encrypted", "size",
                    "expires_at", "download_count")  # fmt: skip
    list_filter = ("status", "is_encrypted")
    search_fields = ("=id", "owner__email", "request_reference")
    list_select_related = ("owner", "requested_by")

    def get_form(self, request: HttpRequest, obj: Export | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = StartExportForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Export | None = None) -> Any:
        return ("owner", "request_reference") if obj is None else SHOWN

    def get_readonly_fields(self, request: HttpRequest, obj: Export | None = None) -> Any:
        return () if obj is None else SHOWN

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Export, form: Any, change: bool) -> None:
        staff = request.user
        assert isinstance(staff, User)  # noqa: S101 - the admin site lets only signed-in staff here
        started = exports.start_export(
            owner=form.cleaned_data["owner"], actor=staff, request_reference=form.cleaned_data["request_reference"],
            client=ClientInfo.from_request(request),
        )  # fmt: skip
        # The admin's own bookkeeping (its log entry, the redirect) refers to the row made above.
        obj.pk, obj._state.adding = started.pk, False


@admin.register(Import)
class ImportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "owner", "format", "status", "size", "finished_at", "undo_until")
    list_filter = ("format", "status")
    search_fields = ("=id", "owner__email")
    list_select_related = ("owner",)
    fields = ("id", "owner", "format", "status", "size", "sha256", "result", "progress_done", "progress_total",
              "error_code", "created_at", "confirmed_at", "finished_at", "undo_until", "undone_at")  # fmt: skip
    readonly_fields = fields
