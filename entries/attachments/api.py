"""The attachments API: thin views over entries.attachments.services and .selectors."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import signed_in_user
from entries.attachments import selectors, services, sniff, storage
from entries.attachments.models import Attachment, ThumbnailStatus
from entries.attachments.uploads import HashingUploadHandler, UploadParser
from personalpod.errors import error_body
from personalpod.http import ClientInfo
from personalpod.pagination import NewestFirstCursorPagination


class AttachmentIn(serializers.Serializer[dict[str, Any]]):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    sha256 = serializers.CharField(required=False, allow_blank=True, help_text="The file's SHA-256, hex: verified.")

    def validate_sha256(self, value: str) -> str:
        value = value.strip().lower()
        if value and not re.fullmatch(r"[0-9a-f]{64}", value):
            raise serializers.ValidationError("Must be 64 hexadecimal characters (a SHA-256).")
        return value


class AttachmentOut(serializers.ModelSerializer[Attachment]):
    url = serializers.SerializerMethodField(help_text="Download (redirects to a short-lived link; logged).")
    thumbnail = serializers.SerializerMethodField(help_text="A small WebP preview, once made; else null.")

    class Meta:
        model = Attachment
        fields = ("id", "entry", "name", "content_type", "size", "sha256", "thumbnail", "thumbnail_status",
                  "metadata", "url", "uploaded_by", "created_at")  # fmt: skip

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_url(self, attachment: Attachment) -> str:
        return self._absolute(reverse("attachment-download", args=[attachment.entry_id, attachment.id]))

    def get_thumbnail(self, attachment: Attachment) -> str | None:
        if attachment.thumbnail_status != ThumbnailStatus.READY:
            return None
        return self._absolute(reverse("attachment-thumbnail", args=[attachment.entry_id, attachment.id]))


class StorageStatsOut(serializers.Serializer[dict[str, Any]]):
    file_count = serializers.IntegerField()
    total_bytes = serializers.IntegerField()
    by_content_type = serializers.ListField(child=serializers.DictField())
    quota_bytes = serializers.IntegerField()
    quota_left_bytes = serializers.IntegerField()
    max_file_bytes = serializers.IntegerField()


def rejected(error: services.Rejected) -> Response:
    return Response(error_body(error.code, error.message, {error.field: [error.message]}), status=error.status)


class AttachmentPagination(NewestFirstCursorPagination):
    ordering = ("created_at", "id")


class AttachmentsView(APIView):
    parser_classes = [UploadParser]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: the upload is hashed and size-checked as it streams in.
        self.upload_handler = HashingUploadHandler(request, settings.ATTACHMENT_MAX_BYTES)
        if request.method == "POST":
            request.upload_handlers = [self.upload_handler]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(responses={200: AttachmentOut(many=True)})
    def get(self, request: Request, entry_id: str) -> Response:
        attachments = selectors.attachments_for_reader(reader=signed_in_user(request), entry_id=entry_id)
        paginator = AttachmentPagination()
        page = paginator.paginate_queryset(attachments, request, view=self)
        return paginator.get_paginated_response(AttachmentOut(page, many=True, context={"request": request}).data)

    @extend_schema(request={"multipart/form-data": AttachmentIn}, responses={201: AttachmentOut})
    def post(self, request: Request, entry_id: str) -> Response:
        user = signed_in_user(request)
        selectors.attachments_for_reader(reader=user, entry_id=entry_id)  # 404 before reading the body
        request.data  # noqa: B018 - parse now: the handler knows if the file was too large
        if self.upload_handler.too_large:
            return rejected(services.counted(services.too_large()))
        data = AttachmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        if len(request.FILES.getlist("file")) != 1 or len(request.FILES) != 1:
            raise serializers.ValidationError({"file": ["Send exactly one file, in the field 'file'."]})
        upload = data.validated_data["file"]
        try:
            attachment = services.add_attachment(
                actor=user, entry_id=entry_id, file=upload, name=getattr(upload, "client_name", upload.name or ""),
                expected_sha256=data.validated_data.get("sha256") or None, client=ClientInfo.from_request(request),
            )  # fmt: skip
        except services.Rejected as error:
            return rejected(error)
        finally:
            upload.close()
        return Response(AttachmentOut(attachment, context={"request": request}).data, status=status.HTTP_201_CREATED)


class AttachmentView(APIView):
    @extend_schema(responses={200: AttachmentOut})
    def get(self, request: Request, entry_id: str, attachment_id: str) -> Response:
        attachment = selectors.attachment_for_reader(
            reader=signed_in_user(request), entry_id=entry_id, attachment_id=attachment_id
        )
        return Response(AttachmentOut(attachment, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, entry_id: str, attachment_id: str) -> Response:
        user = signed_in_user(request)
        selectors.attachment_for_reader(reader=user, entry_id=entry_id, attachment_id=attachment_id)  # 404 first
        services.delete_attachment(
            actor=user, entry_id=entry_id, attachment_id=attachment_id, client=ClientInfo.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _redirect(url: str, expires_at: Any, request: Request) -> Response:
    url = request.build_absolute_uri(url)
    body = {"url": url, "expires_at": expires_at}
    return Response(body, status=status.HTTP_302_FOUND, headers={"Location": url, "Cache-Control": "no-store"})


class AttachmentDownloadView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("disposition", enum=["attachment", "inline"])],
        responses={302: None},
        description="Redirects to a short-lived link. Inline is honoured for images and PDFs only. Logged.",
    )
    def get(self, request: Request, entry_id: str, attachment_id: str) -> Response:
        reader = signed_in_user(request)
        attachment = selectors.attachment_for_reader(reader=reader, entry_id=entry_id, attachment_id=attachment_id)
        inline = request.query_params.get("disposition") == "inline"
        url, expires_at = services.download_link(
            reader=reader, attachment=attachment, inline=inline, client=ClientInfo.from_request(request)
        )
        return _redirect(url, expires_at, request)


class AttachmentThumbnailView(APIView):
    @extend_schema(responses={302: None})
    def get(self, request: Request, entry_id: str, attachment_id: str) -> Response:
        reader = signed_in_user(request)
        attachment = selectors.attachment_for_reader(reader=reader, entry_id=entry_id, attachment_id=attachment_id)
        try:
            url, expires_at = services.download_link(reader=reader, attachment=attachment, thumbnail=True, client=None)
        except Attachment.DoesNotExist:
            raise Http404 from None
        return _redirect(url, expires_at, request)


class StorageView(APIView):
    @extend_schema(responses={200: StorageStatsOut})
    def get(self, request: Request) -> Response:
        return Response(selectors.storage_stats(signed_in_user(request)))


@never_cache
def attachment_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """Serve a filesystem-stored file for a signed link (the filesystem's presigned URL)."""
    try:
        claims = storage.read_link(token)
        attachment = Attachment.objects.get(id=claims["a"])
    except (signing.BadSignature, Attachment.DoesNotExist, KeyError, ValueError):
        raise Http404("This link is not valid (it may have expired).") from None
    thumbnail = claims.get("k") == "thumbnail"
    name = attachment.thumbnail if thumbnail else attachment.file
    if not name:
        raise Http404
    try:
        stored = storage.storage_for(attachment.backend).open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    inline = bool(claims.get("i")) and (thumbnail or attachment.content_type in sniff.INLINE_TYPES)
    response = FileResponse(
        stored,
        as_attachment=not inline,
        filename=f"{attachment.name}.webp" if thumbnail else attachment.name,
        content_type="image/webp" if thumbnail else attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    if not (inline and attachment.content_type == "application/pdf" and not thumbnail):
        # Nothing served from here may run script on our origin (a browser's PDF viewer needs an exception).
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response
