"""Files and helpers for the attachment tests (not a test module)."""

from __future__ import annotations

import hashlib
import io
import struct
import urllib.request
import zlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from entries.attachments.models import Attachment
from entries.attachments.storage import storage_for

# The start of a real Linux program (an ELF header), with padding.
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png(width: int = 800, height: int = 600, color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def png_bomb(side: int = 100_000) -> bytes:
    """A tiny PNG whose header claims SIDE x SIDE pixels (ten billion by default)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def pdf(pages: int = 3) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def upload(client: APIClient, entry_id: str, data: bytes, name: str = "notes.txt", **extra: Any) -> Any:
    body = {"file": SimpleUploadedFile(name, data, content_type=extra.pop("content_type", "text/plain")), **extra}
    return client.post(f"/api/v1/entries/{entry_id}/attachments/", body, format="multipart")


def raw_upload(client: APIClient, entry_id: str, data: bytes, filename: str) -> Any:
    """A multipart upload whose file name is sent exactly as given (test clients strip paths)."""
    boundary = "----personalpod-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    url = f"/api/v1/entries/{entry_id}/attachments/"
    return client.generic("POST", url, body, content_type=f"multipart/form-data; boundary={boundary}")


def stored(attachment: Attachment, thumbnail: bool = False) -> bytes:
    with storage_for(attachment.backend).open(attachment.thumbnail if thumbnail else attachment.file, "rb") as file:
        return bytes(file.read())


def exists(attachment: Attachment, name: str | None = None) -> bool:
    return bool(storage_for(attachment.backend).exists(name or attachment.file))


def fetch(link: str) -> tuple[bytes, dict[str, str]]:
    """GET a download link as a browser would, with no credentials: S3's over HTTP, ours through Django."""
    if link.startswith("http://testserver/"):
        response = Client().get(link.removeprefix("http://testserver"))
        if response.status_code != 200:
            return b"", {"status": str(response.status_code)}
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        return body, {key.lower(): value for key, value in response.headers.items()} | {"status": "200"}
    try:
        with urllib.request.urlopen(link, timeout=10) as answer:  # noqa: S310 - moto on 127.0.0.1
            return answer.read(), {key.lower(): value for key, value in answer.headers.items()} | {"status": "200"}
    except urllib.error.HTTPError as error:
        return b"", {"status": str(error.code)}
