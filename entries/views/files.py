"""Files on an entry: the gallery (thumbnails, inline previews of images and PDFs, downloads),
uploads with progress (sent by app.js, hashed and size-checked as they stream in), deletion."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from entries import selectors
from entries.attachments import selectors as files
from entries.attachments import services as file_services
from entries.attachments.models import Attachment, ThumbnailStatus
from entries.attachments.sniff import IMAGE_TYPES, INLINE_TYPES
from entries.attachments.uploads import HashingUploadHandler
from entries.models import Entry
from entries.views.common import actor, client

MAX_POLLS = 40  # thumbnails are made by the worker; the gallery looks again for about a minute


@login_required
@require_GET
def gallery(request: HttpRequest, entry_id: str) -> HttpResponse:
    return _gallery(request, entry_id)


def _gallery(request: HttpRequest, entry_id: str) -> HttpResponse:
    user = actor(request)
    entry = selectors.entry_for_reader(reader=user, entry_id=entry_id)
    attachments = list(files.attachments_for_reader(reader=user, entry_id=entry.id))
    try:
        polls = int(request.GET.get("poll", "0"))
    except ValueError:
        polls = 0
    pending = any(item.thumbnail_status == ThumbnailStatus.PENDING for item in attachments)
    context = {
        "entry": entry,
        "attachments": attachments,
        "can_edit": selectors.may_change(reader=user, entry=entry) and entry.status != "deleted",
        "poll": polls + 1 if pending and polls < MAX_POLLS else None,
        "inline_types": INLINE_TYPES,
        "image_types": IMAGE_TYPES,
        "max_bytes": settings.ATTACHMENT_MAX_BYTES,
    }
    return render(request, "entries/partials/files.html", context)


@csrf_exempt  # checked in _upload, once the upload handler is in place (Django's documented way)
@login_required
@require_POST
def upload(request: HttpRequest, entry_id: str) -> HttpResponse:
    # Before anything reads the body: the file is hashed and size-checked as it streams in.
    handler = HashingUploadHandler(request, settings.ATTACHMENT_MAX_BYTES)
    request.upload_handlers = [handler]
    return _upload(request, entry_id, handler)


@csrf_protect
def _upload(request: HttpRequest, entry_id: str, handler: HashingUploadHandler) -> HttpResponse:
    user = actor(request)
    from_script = request.headers.get("HX-Request") == "true"
    try:
        uploads = request.FILES.getlist("file")
        if handler.too_large:
            raise file_services.counted(file_services.too_large())
        if len(uploads) != 1:
            raise file_services.Rejected("no_file", "Choose one file to upload.")
        upload_file = uploads[0]
        try:
            attachment = file_services.add_attachment(
                actor=user, entry_id=entry_id, file=upload_file, name=upload_file.name or "", client=client(request)
            )
        finally:
            upload_file.close()
    except file_services.Rejected as rejected:
        if from_script:
            return HttpResponse(rejected.message, status=rejected.status, content_type="text/plain; charset=utf-8")
        messages.error(request, rejected.message)
    except Entry.DoesNotExist:
        raise Http404 from None
    else:
        if from_script:
            return HttpResponse(f"Uploaded {attachment.name}.", status=201, content_type="text/plain; charset=utf-8")
        messages.success(request, f"Uploaded {attachment.name}.")
    return redirect(reverse("entries:detail", args=[entry_id]) + "#files")


def _attachment(request: HttpRequest, entry_id: str, attachment_id: str) -> Attachment:
    return files.attachment_for_reader(reader=actor(request), entry_id=entry_id, attachment_id=attachment_id)


@login_required
@require_GET
def download(request: HttpRequest, entry_id: str, attachment_id: str) -> HttpResponse:
    """To the file, through a short-lived link (logged); inline for images and PDFs on request."""
    attachment = _attachment(request, entry_id, attachment_id)
    url, _ = file_services.download_link(
        reader=actor(request), attachment=attachment, inline=request.GET.get("inline") == "1", client=client(request)
    )
    response = redirect(url)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def thumbnail(request: HttpRequest, entry_id: str, attachment_id: str) -> HttpResponse:
    attachment = _attachment(request, entry_id, attachment_id)
    try:
        url, _ = file_services.download_link(reader=actor(request), attachment=attachment, thumbnail=True, client=None)
    except Attachment.DoesNotExist:
        raise Http404 from None
    response = redirect(url)
    response["Cache-Control"] = "private, max-age=60"
    return response


@login_required
@require_GET
def preview(request: HttpRequest, entry_id: str, attachment_id: str) -> HttpResponse:
    attachment = _attachment(request, entry_id, attachment_id)
    context: dict[str, Any] = {"attachment": attachment, "entry_id": entry_id, "image_types": IMAGE_TYPES}
    return render(request, "entries/partials/file_preview.html", context)


@login_required
@require_POST
def delete(request: HttpRequest, entry_id: str, attachment_id: str) -> HttpResponse:
    attachment = _attachment(request, entry_id, attachment_id)
    try:
        file_services.delete_attachment(
            actor=actor(request), entry_id=entry_id, attachment_id=attachment.id, client=client(request)
        )
    except (Attachment.DoesNotExist, Entry.DoesNotExist):
        raise Http404 from None
    except PermissionDenied:
        messages.error(request, "You can look at this entry's files, not delete them.")
    if getattr(request, "htmx", False):
        return _gallery(request, entry_id)
    messages.success(request, f"Deleted {attachment.name}.")
    return redirect(reverse("entries:detail", args=[entry_id]) + "#files")
