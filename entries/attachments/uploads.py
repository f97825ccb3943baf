"""Receiving an upload: spooled to a temporary file, hashed and measured while it streams in."""

from __future__ import annotations

import hashlib
import html
import os
from typing import Any

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser

from entries.attachments.sniff import HEAD_BYTES

# Room for the multipart boundaries, headers and the sha256 field around the file itself.
ENVELOPE_BYTES = 64 * 1024


class HashedUpload(TemporaryUploadedFile):
    sha256: str
    head: bytes
    client_name: str  # as sent: Django's `name` is already cut to its last path part


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Write each file to a temporary file, computing its SHA-256 and size on the way.

    A file past MAX_BYTES stops the upload at once (`too_large`); a request whose length
    already says so is not read at all. Nothing reaches storage from here.
    """

    def __init__(self, request: HttpRequest, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self._hash = hashlib.sha256()
        self._head = b""
        self.upload: HashedUpload

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],  # noqa: N803 - Django's name
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> tuple[Any, Any] | None:
        if content_length > self.max_bytes + ENVELOPE_BYTES:
            from django.http import QueryDict
            from django.utils.datastructures import MultiValueDict

            self.too_large = True
            return QueryDict(), MultiValueDict()
        return None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        FileUploadHandler.new_file(self, *args, **kwargs)
        # Django refuses to even hold a file called ".." (its name is cut to the last path
        # part); the service judges the name as sent, `client_name`.
        local_name = os.path.basename(self.file_name or "")
        self.file = self.upload = HashedUpload(
            local_name if local_name not in {"", ".", ".."} else "upload",
            self.content_type or "",
            0,
            self.charset,
            self.content_type_extra,
        )
        self.upload.client_name = self.file_name or ""
        self._hash = hashlib.sha256()
        self._head = b""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) > self.max_bytes:
            self.too_large = True
            # Read and drop the rest of the request (the client then sees our 413, not a reset).
            raise StopUpload(connection_reset=False)
        self._hash.update(raw_data)
        if len(self._head) < HEAD_BYTES:
            self._head += raw_data[: HEAD_BYTES - len(self._head)]
        super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> HashedUpload:
        upload = self.upload
        upload.flush()
        upload.seek(0)
        upload.size = file_size
        upload.sha256 = self._hash.hexdigest()
        upload.head = self._head
        return upload


class NameKeepingMultiPartParser(DjangoMultiPartParser):
    """Keep a file's name as the client sent it (only unescaped and printable), so the
    service can refuse a name with a path in it (`../../x`) rather than quietly store `x`.
    Storage keys never contain the client's name, so nothing here reaches the disk."""

    def sanitize_file_name(self, file_name: str) -> str | None:
        name = "".join(char for char in html.unescape(file_name) if char.isprintable())
        return name or None


class UploadParser(MultiPartParser):
    """DRF's multipart parser, with the name-keeping Django parser underneath."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> DataAndFiles[Any, Any]:
        request = (parser_context or {})["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = NameKeepingMultiPartParser(meta, stream, request.upload_handlers, request.encoding or "utf-8")
            data, files = parser.parse()
        except MultiPartParserError as error:
            raise ParseError(f"Multipart form parse error - {error}") from error
        return DataAndFiles(data, files)
