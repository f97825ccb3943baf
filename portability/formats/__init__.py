"""What every import format is read into, and how a file's format is recognised.

A reader turns a file into `Parsed`: entries to create (`Item`), the categories they go in
(by path of names, so that an existing "Work" is reused), tags with their colours, and
warnings for what was left out. Readers only read: nothing is written until the person
confirms the preview, and then only through the entries services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portability.errors import ImportFailed


class Format:
    PERSONALPOD = "personalpod"
    BITWARDEN = "bitwarden"
    BOOKMARKS = "bookmarks"
    VCARD = "vcard"
    MARKDOWN = "markdown"

    CHOICES = (
        (PERSONALPOD, "PersonalPod export (ZIP, or encrypted with a passphrase)"),
        (BITWARDEN, "Bitwarden export (unencrypted JSON)"),
        (BOOKMARKS, "Browser bookmarks (Netscape HTML)"),
        (VCARD, "Contacts (vCard 3 or 4)"),
        (MARKDOWN, "Markdown notes (ZIP of .md files, front matter tags)"),
    )
    VALUES = tuple(value for value, _ in CHOICES)


@dataclass
class AttachmentSource:
    name: str
    sha256: str
    size: int
    open: Callable[[], Any]  # a readable stream, usable as a context manager


@dataclass
class Item:
    """One entry to create, in the entries services' own terms."""

    key: str  # where it came from in the file, for messages and resumable imports
    type: str
    title: str
    content: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    status: str = "active"
    category: tuple[str, ...] = ()
    tags: list[str] = field(default_factory=list)
    is_sensitive: bool = False
    expires_at: str | None = None
    attachments: list[AttachmentSource] = field(default_factory=list)


@dataclass
class CategorySpec:
    path: tuple[str, ...]
    color: str = ""
    icon: str = ""


@dataclass
class TagSpec:
    name: str
    color: str = ""


@dataclass
class Parsed:
    format: str
    items: list[Item] = field(default_factory=list)
    categories: list[CategorySpec] = field(default_factory=list)
    tags: list[TagSpec] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Open resources (a ZIP) that attachments read from; closed when the import is done.
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            close()

    def warn(self, message: str) -> None:
        if len(self.warnings) < 200:
            self.warnings.append(message)


def detect(head: bytes) -> str | None:
    """The format of a file from its first bytes; "zip" for either ZIP format; None when unknown."""
    from portability import crypto

    if crypto.is_encrypted(head):
        return Format.PERSONALPOD
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"  # ours or Markdown: the archive's contents tell
    if text[:1] == b"{":
        return Format.BITWARDEN
    upper = text[:600].upper()
    if upper.startswith(b"<!DOCTYPE NETSCAPE-BOOKMARK-FILE-1") or (b"<DL>" in upper and b"<DT>" in upper):
        return Format.BOOKMARKS
    if upper.startswith(b"BEGIN:VCARD"):
        return Format.VCARD
    return None


def zip_format(names: list[str]) -> str:
    if "manifest.json" in names and "index.json" in names:
        return Format.PERSONALPOD
    if any(name.lower().endswith((".md", ".markdown")) for name in names):
        return Format.MARKDOWN
    raise ImportFailed(
        "unknown_format", "This ZIP file is neither a PersonalPod export nor a folder of Markdown notes."
    )
