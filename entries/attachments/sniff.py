"""What a file is, from its bytes: never from the client's name or Content-Type."""

from __future__ import annotations

import unicodedata
import warnings
from pathlib import PurePosixPath
from typing import IO, Any

import filetype
from PIL import Image

from entries.attachments.models import NAME_MAX_LENGTH

HEAD_BYTES = 8192
OCTET_STREAM = "application/octet-stream"
# Shown inline when asked (images the browser renders itself, and PDFs); everything else
# is always a download, so an uploaded page or script never runs on our origin.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})
# Images the thumbnailer opens (Pillow decodes these; the decompression-bomb guard applies).
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"})
EXECUTABLE = "application/x-executable"
# Programs whatever their name says: ELF, Windows PE, Mach-O, Java classes and fat binaries.
_EXECUTABLE_MAGIC = (b"\x7fELF", b"MZ", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                     b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")  # fmt: skip
# Plain text keeps a more precise type by its extension, but only types no browser executes.
_TEXT_BY_EXTENSION = {".csv": "text/csv", ".md": "text/markdown", ".json": "application/json", ".txt": "text/plain"}


def sniff_content_type(head: bytes, name: str) -> str:
    """The media type of a file starting with HEAD (its first HEAD_BYTES bytes)."""
    if head.startswith(_EXECUTABLE_MAGIC):
        return EXECUTABLE
    kind = filetype.guess(head)
    if kind is not None:
        mime = str(kind.mime)
        return EXECUTABLE if mime in ("application/x-msdownload", "application/x-mach-binary") else mime
    if head.startswith(b"#!"):
        return "text/x-script"
    if _is_text(head):
        return _TEXT_BY_EXTENSION.get(PurePosixPath(name.lower()).suffix, "text/plain")
    return OCTET_STREAM


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        return error.start >= len(head) - 3
    return True


def has_path(name: str) -> bool:
    """True for a name that points somewhere else: `../../x`, `/etc/x`, `..\\x`, `..`."""
    return "/" in name or "\\" in name or name.strip() in {".", ".."}


def clean_name(name: str) -> str:
    """The client's file name as we keep it: its last path part, printable, at most
    NAME_MAX_LENGTH characters (the extension kept). Empty when nothing usable is left."""
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip().strip(".").strip()
    if len(name) > NAME_MAX_LENGTH:
        suffix = PurePosixPath(name).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        name = name[: NAME_MAX_LENGTH - len(suffix)].rstrip() + suffix
    return name


class ImageTooLarge(Exception):
    """More pixels than ATTACHMENT_MAX_IMAGE_PIXELS: a decompression bomb, or near enough."""


def open_image(file: IO[bytes], max_pixels: int) -> Image.Image:
    """Open an image lazily (header only) with Pillow's decompression-bomb guard on."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        # Pillow warns between MAX_IMAGE_PIXELS and twice that, and raises above: refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(file)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageTooLarge(str(error)) from error
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLarge(f"{width}x{height} pixels is more than {max_pixels}")
    return image


def image_facts(file: IO[bytes], max_pixels: int) -> dict[str, Any]:
    """Width and height from the header, or {} when Pillow cannot read it (ImageTooLarge for a bomb)."""
    try:
        with open_image(file, max_pixels) as image:
            width, height = image.size
    except ImageTooLarge:
        raise
    except Exception:  # noqa: BLE001 - a damaged image is still the person's file
        return {}
    return {"width": width, "height": height}
