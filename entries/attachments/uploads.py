"""Receiving an upload: spooled to a temporary file, hashed and measured while it streams in."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest

from entries.attachments.sniff import HEAD_BYTES

# Room for the multipart boundaries, headers and the sha256 field around the file itself.
ENVELOPE_BYTES = 64 * 1024


class HashedUpload(TemporaryUploadedFile):
    sha256: str
    head: bytes


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
        self.file = self.upload = HashedUpload(
            self.file_name or "", self.content_type or "", 0, self.charset, self.content_type_extra
        )
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
