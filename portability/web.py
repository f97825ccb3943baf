"""The export and import pages of the web UI: thin views over portability.exports, .imports
and .selectors (the API is portability.api)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from accounts.models import signed_in_user
from entries.attachments.uploads import HashingUploadHandler
from entries.forms import TYPES
from personalpod.http import ClientInfo
from portability import exports, imports, selectors, undo
from portability.errors import ImportFailed
from portability.formats import Format
from portability.models import Export, Import

BUSY_EXPORT = (Export.Status.PENDING, Export.Status.RUNNING)
BUSY_IMPORT = (Import.Status.PARSING, Import.Status.IMPORTING, Import.Status.UNDOING)


class ExportForm(forms.Form):
    passphrase = forms.CharField(
        required=False, strip=False, max_length=1024, label="Passphrase (recommended)",
        help_text=f"Encrypts the file (at least {settings.EXPORT_PASSPHRASE_MIN_LENGTH} characters). "
        "Without one, the ZIP holds your passwords in plain text.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip


class ImportForm(forms.Form):
    file = forms.FileField(label="File")
    format = forms.ChoiceField(
        required=False, choices=[("", "Recognise it from the file"), *Format.CHOICES], label="What it is"
    )
    passphrase = forms.CharField(
        required=False, strip=False, max_length=1024, label="Passphrase",
        help_text="Only for an encrypted PersonalPod export.",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )  # fmt: skip


def _show_errors(request: HttpRequest, error: ValidationError) -> None:
    for problems in error.message_dict.values():
        messages.error(request, " ".join(problems))


@login_required
@require_GET
def export_page(request: HttpRequest) -> HttpResponse:
    return _export_page(request, ExportForm())


def _export_page(request: HttpRequest, form: ExportForm, status: int = 200) -> HttpResponse:
    rows = list(selectors.exports_for(signed_in_user(request))[:20])
    context = {
        "form": form,
        "exports": [
            (export, exports.download_url(export) if export.status == Export.Status.READY else "") for export in rows
        ],
        "busy": any(export.status in BUSY_EXPORT for export in rows),
        "link_hours": settings.EXPORT_LINK_HOURS,
    }
    template = "portability/exports_list.html" if getattr(request, "htmx", False) else "portability/export.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def start_export(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = ExportForm(request.POST)
    if form.is_valid():
        try:
            exports.start_export(
                owner=user, actor=user, passphrase=form.cleaned_data.get("passphrase") or None,
                client=ClientInfo.from_request(request),
            )  # fmt: skip
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
            return _export_page(request, form, status=400)
        except exports.ExportInProgress:
            messages.error(request, "An export of yours is being made; wait for it to finish.")
        else:
            messages.success(request, "Your export is being made. It appears below when it is ready.")
    return redirect("portability-ui:export")


@login_required
@require_POST
def delete_export(request: HttpRequest, export_id: str) -> HttpResponse:
    try:
        exports.delete_export(actor=signed_in_user(request), export_id=export_id)
    except Export.DoesNotExist:
        raise Http404 from None
    messages.success(request, "The export's file is deleted.")
    return redirect("portability-ui:export")


@login_required
@require_GET
def import_page(request: HttpRequest) -> HttpResponse:
    return _import_page(request, ImportForm())


def _import_page(request: HttpRequest, form: ImportForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "imports": selectors.imports_for(signed_in_user(request))[:20],
        "max_megabytes": settings.IMPORT_MAX_BYTES // 2**20,
        "formats": Format.CHOICES,
    }
    return render(request, "portability/import.html", context, status=status)


@csrf_exempt  # checked in _upload, once the upload handler is in place (Django's documented way)
@login_required
@require_POST
def upload_import(request: HttpRequest) -> HttpResponse:
    # Before anything reads the body: an upload past IMPORT_MAX_BYTES is stopped as it streams in.
    handler = HashingUploadHandler(request, settings.IMPORT_MAX_BYTES)
    request.upload_handlers = [handler]
    return _upload(request, handler)


@csrf_protect
def _upload(request: HttpRequest, handler: HashingUploadHandler) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    if handler.too_large:
        form.add_error(None, f"At most {settings.IMPORT_MAX_BYTES // 2**20} MB can be imported at once.")
        return _import_page(request, form, status=413)
    if not form.is_valid():
        return _import_page(request, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        staged = imports.stage_import(
            owner=signed_in_user(request), upload=upload, name=upload.name or "upload", size=upload.size,
            format=form.cleaned_data.get("format") or None, passphrase=form.cleaned_data.get("passphrase") or None,
            client=ClientInfo.from_request(request),
        )  # fmt: skip
    except ImportFailed as failure:
        form.add_error(failure.field if failure.field in form.fields else None, failure.message)
        return _import_page(request, form, status=400)
    finally:
        upload.close()
    return redirect("portability-ui:import-detail", import_id=staged.id)


def _staged(request: HttpRequest, import_id: Any) -> Import:
    try:
        return selectors.import_for(signed_in_user(request), import_id)
    except Import.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def import_detail(request: HttpRequest, import_id: str) -> HttpResponse:
    staged = _staged(request, import_id)
    context = {"staged": staged, "busy": staged.status in BUSY_IMPORT, "types": TYPES, "preview": staged.preview}
    template = "portability/import_status.html" if getattr(request, "htmx", False) else "portability/import_detail.html"
    return render(request, template, context)


@login_required
@require_POST
def import_action(request: HttpRequest, import_id: str, action: str) -> HttpResponse:
    """Confirm (create what the preview shows), cancel (before confirming) or undo (after)."""
    user = signed_in_user(request)
    staged = _staged(request, import_id)
    try:
        # Confirming and undoing say nothing here: the page shows where the import is, and a
        # message saying "importing" would outlive the import (a small one is done at once).
        if action == "confirm":
            imports.confirm_import(actor=user, import_id=staged.id, skip_duplicates="skip_duplicates" in request.POST)
        elif action == "cancel":
            imports.cancel_import(actor=user, import_id=staged.id)
            messages.success(request, "Cancelled: nothing was imported, and the uploaded file is deleted.")
        elif action == "undo":
            undo.undo_import_request(actor=user, import_id=staged.id)
        else:
            raise Http404
    except ValidationError as error:
        _show_errors(request, error)
    except imports.ImportBusy:
        messages.error(request, "Another import of yours is being created or undone; wait for it.")
    return redirect("portability-ui:import-detail", import_id=staged.id)


app_name = "portability-ui"
urlpatterns = [
    path("export/", export_page, name="export"),
    path("export/start/", start_export, name="export-start"),
    path("export/<uuid:export_id>/delete/", delete_export, name="export-delete"),
    path("import/", import_page, name="import"),
    path("import/upload/", upload_import, name="import-upload"),
    path("import/<uuid:import_id>/", import_detail, name="import-detail"),
    path("import/<uuid:import_id>/<str:action>/", import_action, name="import-action"),
]
