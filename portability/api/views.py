"""The export and import API: thin views over portability.exports, .imports and .selectors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import signed_in_user
from entries.attachments.models import Backend
from entries.attachments.storage import storage_for
from entries.attachments.uploads import HashingUploadHandler
from personalpod.errors import error_body
from personalpod.http import ClientInfo
from personalpod.pagination import NewestFirstCursorPagination
from portability import exports, imports, selectors, undo
from portability.api.serializers import ConfirmIn, ExportIn, ExportOut, ImportIn, ImportOut
from portability.errors import ImportFailed


def refused(code: str, message: str, field: str | None = None, status_code: int = 400) -> Response:
    return Response(error_body(code, message, {field: [message]} if field else {}), status=status_code)


class ExportsView(APIView):
    @extend_schema(responses={200: ExportOut(many=True)})
    def get(self, request: Request) -> Response:
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(selectors.exports_for(signed_in_user(request)), request, view=self)
        return paginator.get_paginated_response(ExportOut(page, many=True, context={"request": request}).data)

    @extend_schema(request=ExportIn, responses={202: ExportOut})
    def post(self, request: Request) -> Response:
        user = signed_in_user(request)
        data = ExportIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            export = exports.start_export(
                owner=user, actor=user, passphrase=data.validated_data.get("passphrase"),
                client=ClientInfo.from_request(request),
            )  # fmt: skip
        except exports.ExportInProgress:
            return refused("export_in_progress", "An export of yours is being made; wait for it to finish.",
                           status_code=409)  # fmt: skip
        return Response(ExportOut(export, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class ExportView(APIView):
    @extend_schema(responses={200: ExportOut})
    def get(self, request: Request, export_id: str) -> Response:
        export = selectors.export_for(signed_in_user(request), export_id)
        return Response(ExportOut(export, context={"request": request}).data)

    @extend_schema(responses={204: None}, description="Delete the export's file now (it is purged anyway).")
    def delete(self, request: Request, export_id: str) -> Response:
        exports.delete_export(actor=signed_in_user(request), export_id=export_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportDownloadView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("token", required=True, description="From the export's download_url.")],
        responses={200: bytes, 302: None, 410: None},
        description="The export's file, for its owner, through its signed link until it expires. Logged.",
    )
    def get(self, request: Request, export_id: str) -> HttpResponseBase:
        try:
            export = exports.open_download(
                reader=signed_in_user(request), export_id=export_id, token=request.query_params.get("token", ""),
                client=ClientInfo.from_request(request),
            )  # fmt: skip
        except exports.LinkExpired as expired:
            return refused("link_expired", str(expired), status_code=410)
        files = storage_for(export.backend)
        if export.backend == Backend.S3:
            s3: Any = files
            url = s3.url(export.file, parameters={
                "ResponseContentDisposition": f'attachment; filename="{export.file_name}"'}, expire=300)  # fmt: skip
            headers = {"Location": url, "Cache-Control": "no-store"}
            return Response({"url": url}, status=status.HTTP_302_FOUND, headers=headers)
        response = FileResponse(files.open(export.file, "rb"), as_attachment=True, filename=export.file_name,
                                content_type="application/octet-stream")  # fmt: skip
        response["Cache-Control"] = "no-store"
        return response


class ImportsView(APIView):
    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: an upload past IMPORT_MAX_BYTES is stopped as it streams in.
        self.upload_handler = HashingUploadHandler(request, settings.IMPORT_MAX_BYTES)
        if request.method == "POST":
            request.upload_handlers = [self.upload_handler]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(responses={200: ImportOut(many=True)})
    def get(self, request: Request) -> Response:
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(selectors.imports_for(signed_in_user(request)), request, view=self)
        return paginator.get_paginated_response(ImportOut(page, many=True).data)

    @extend_schema(request={"multipart/form-data": ImportIn}, responses={202: ImportOut})
    def post(self, request: Request) -> Response:
        user = signed_in_user(request)
        request.data  # noqa: B018 - parse now: the handler knows if the file was too large
        if self.upload_handler.too_large:
            megabytes = settings.IMPORT_MAX_BYTES // 2**20
            return refused("file_too_large", f"At most {megabytes} MB can be imported at once.", "file", 413)
        data = ImportIn(data=request.data)
        data.is_valid(raise_exception=True)
        if len(request.FILES) != 1:
            raise serializers.ValidationError({"file": ["Send exactly one file, in the field 'file'."]})
        upload = data.validated_data["file"]
        try:
            staged = imports.stage_import(
                owner=user, upload=upload, name=getattr(upload, "client_name", upload.name or "upload"),
                size=upload.size, format=data.validated_data.get("format"),
                passphrase=data.validated_data.get("passphrase") or None, client=ClientInfo.from_request(request),
            )  # fmt: skip
        except ImportFailed as failure:
            return refused(failure.code, failure.message, failure.field)
        finally:
            upload.close()
        return Response(ImportOut(staged).data, status=status.HTTP_202_ACCEPTED)


class ImportView(APIView):
    @extend_schema(responses={200: ImportOut})
    def get(self, request: Request, import_id: str) -> Response:
        return Response(ImportOut(selectors.import_for(signed_in_user(request), import_id)).data)

    @extend_schema(
        responses={204: None},
        description="Cancel an import that was not confirmed (its file is removed); again, nothing changes.",
    )
    def delete(self, request: Request, import_id: str) -> Response:
        imports.cancel_import(actor=signed_in_user(request), import_id=import_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImportConfirmView(APIView):
    @extend_schema(request=ConfirmIn, responses={202: ImportOut})
    def post(self, request: Request, import_id: str) -> Response:
        user = signed_in_user(request)
        selectors.import_for(user, import_id)  # 404 before anything else
        data = ConfirmIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            staged = imports.confirm_import(
                actor=user, import_id=import_id, skip_duplicates=data.validated_data["skip_duplicates"]
            )
        except imports.ImportBusy:
            return refused("import_in_progress", "Another import of yours is being created or undone; wait for it.",
                           status_code=409)  # fmt: skip
        return Response(ImportOut(staged).data, status=status.HTTP_202_ACCEPTED)


class ImportUndoView(APIView):
    @extend_schema(request=None, responses={202: ImportOut})
    def post(self, request: Request, import_id: str) -> Response:
        user = signed_in_user(request)
        selectors.import_for(user, import_id)
        staged = undo.undo_import_request(actor=user, import_id=import_id)
        return Response(ImportOut(staged).data, status=status.HTTP_202_ACCEPTED)
