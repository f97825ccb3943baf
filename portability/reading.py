"""Reading a staged import: decrypt it, read it in its format, check every item, find the
duplicates, and describe what confirming would create (the preview)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from entries.attachments.models import Attachment
from entries.attachments.storage import storage_for
from entries.crypto import envelope
from entries.models import TITLE_MAX_LENGTH, Category, DataKey, Entry, Status, Tag
from entries.schemas import clean_fields
from entries.services.common import clean_tag_names, slugs_for
from portability import crypto
from portability.archive import SafeZip
from portability.errors import ImportFailed
from portability.formats import Format, Item, Parsed, bitwarden, bookmarks, markdown, personalpod, vcard, zip_format
from portability.models import Import

MAX_CONTENT = 1_000_000
PREVIEW_ITEMS = 500
# Server-kept task fields: two copies of one task differ in them without being different.
_NOT_CONTENT = {"done_at", "next_occurrence_id"}


def file_context(import_id: Any) -> str:
    return f"import:{import_id}"


def opening_failed(failure: crypto.CannotOpen) -> ImportFailed:
    """Why an encrypted export does not open: the file when it is damaged or cut short
    (whatever the passphrase), else the passphrase."""
    if isinstance(failure, crypto.Damaged):
        return ImportFailed("malformed_file", f"The export does not open: {failure}.")
    return ImportFailed("wrong_passphrase", f"The export does not open: {failure}.", field="passphrase")


@contextmanager
def staged_plaintext(staged: Import) -> Iterator[Path]:
    """The uploaded file, decrypted into a scratch folder that is removed afterwards (an
    encrypted PersonalPod export is opened with the person's passphrase too)."""
    key = crypto.open_wrapped_key(file_context(staged.id), staged.file_key or {})
    with tempfile.TemporaryDirectory(prefix="personalpod-import-") as scratch:
        plain = Path(scratch) / "upload"
        with storage_for(staged.backend).open(staged.file, "rb") as source, plain.open("wb") as target:
            crypto.decrypt_stream(source, target, key, crypto.read_header(source))
        with plain.open("rb") as head:
            encrypted = crypto.is_encrypted(head.read(16))
        if encrypted:
            passphrase = crypto.open_text(key, file_context(staged.id), staged.passphrase_sealed or {})
            opened = Path(scratch) / "export.zip"
            try:
                with plain.open("rb") as source, opened.open("wb") as target:
                    header = crypto.read_header(source)
                    crypto.decrypt_stream(source, target, crypto.passphrase_key(header, passphrase), header)
            except crypto.CannotOpen as failure:
                raise opening_failed(failure) from None
            plain.unlink()
            plain = opened
        yield plain


def read_file(path: Path, format: str) -> Parsed:
    if format in (Format.PERSONALPOD, Format.MARKDOWN):
        archive = SafeZip(path)
        try:
            found = zip_format(archive.names())
            if found != format:
                raise ImportFailed("wrong_format", f"This ZIP file holds {found} data, not {format}.", field="format")
            if format == Format.PERSONALPOD:
                return personalpod.read(archive)  # the archive stays open for the attachments
            parsed = markdown.read(archive)
        except BaseException:
            archive.close()
            raise
        archive.close()
        return parsed
    data = path.read_bytes()
    readers = {Format.BITWARDEN: bitwarden.read, Format.BOOKMARKS: bookmarks.read, Format.VCARD: vcard.read}
    return readers[format](data)


@dataclass
class Checked:
    item: Item
    title: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    category: tuple[str, ...] = ()
    expires_at: datetime | None = None
    problem: str = ""
    digest: str = ""
    duplicate: bool = False


def content_hash(entry_type: str, title: str, content: str, fields: dict[str, Any]) -> str:
    """What makes two entries the same for an import: type, title, words and fields, secrets
    included (a login with a newer password is not a duplicate), not what the server stamps."""
    kept = {name: value for name, value in fields.items() if name not in _NOT_CONTENT and value not in ("", None, [])}
    basis = [entry_type, " ".join(title.split()).casefold(), content.strip(), kept]
    return hashlib.sha256(json.dumps(basis, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _category(path: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(" ".join(name.split())[:100] for name in path)
    return tuple(name for name in names if name)[:6]


def check(item: Item) -> Checked:
    """Everything create_entry would refuse, found now, so that confirming cannot half-fail."""
    checked = Checked(item=item, category=_category(item.category))
    checked.title = " ".join(item.title.split())[:TITLE_MAX_LENGTH] or "Untitled"
    try:
        if "\x00" in item.content or "\x00" in item.title:
            raise ValidationError({"content": ["Null characters are not allowed."]})
        if len(item.content) > MAX_CONTENT:
            raise ValidationError({"content": [f"At most {MAX_CONTENT} characters."]})
        if item.status not in Status.values:
            raise ValidationError({"status": ["Unknown status."]})
        checked.fields = clean_fields(item.type, item.fields)
        checked.tags = clean_tag_names(item.tags)
    except ValidationError as error:
        details = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
        checked.problem = f"{item.key} ({checked.title[:80]}) left out: {details}"
        return checked
    expires = parse_datetime(item.expires_at) if item.expires_at else None
    checked.expires_at = expires if expires and expires > timezone.now() else None
    checked.digest = content_hash(item.type, checked.title, item.content, checked.fields)
    return checked


def existing_hashes(owner: User) -> set[str]:
    """The content hashes of the person's entries outside the trash (secrets opened)."""
    hashes = set()
    keys = {key.id: key for key in DataKey.objects.filter(user=owner)}  # once, not a query a secret
    rows = Entry.objects.filter(owner=owner).exclude(status=Status.DELETED)
    for entry in rows.only("id", "owner_id", "type", "title", "content", "fields", "is_sensitive", "content_encrypted"):
        content, fields = entry.content, entry.fields
        if entry.content_encrypted:
            try:
                secrets = envelope.unseal_with_keys(entry.id, entry.content_encrypted, keys)
            except envelope.DecryptionFailed:
                continue
            content, fields = envelope.join(entry.type, content, fields, secrets)
        hashes.add(content_hash(entry.type, entry.title, content, fields))
    return hashes


def existing_category_paths(owner: User) -> dict[tuple[str, ...], Any]:
    """Path of lower-cased names -> category id (names are unique per parent, ignoring case)."""
    rows = {row.id: row for row in Category.objects.filter(owner=owner)}
    paths: dict[tuple[str, ...], Any] = {}

    def path(row: Category) -> tuple[str, ...]:
        parent = rows.get(row.parent_id) if row.parent_id else None
        return (*(path(parent) if parent else ()), row.name.lower())

    for row in rows.values():
        paths[path(row)] = row.id
    return paths


def checked_items(owner: User, parsed: Parsed) -> list[Checked]:
    if len(parsed.items) > settings.IMPORT_MAX_ITEMS:
        raise ImportFailed("too_many_items", f"The file holds {len(parsed.items)} entries; "
                           f"at most {settings.IMPORT_MAX_ITEMS} are imported at once.")  # fmt: skip
    # Duplicates of what the vault holds, and repeats within the file (the same card twice);
    # confirming with skip_duplicates false brings them in all the same.
    seen = existing_hashes(owner)
    items = [check(item) for item in parsed.items]
    for checked in items:
        if checked.problem:
            continue
        checked.duplicate = checked.digest in seen
        seen.add(checked.digest)
    return items


def build_preview(owner: User, parsed: Parsed) -> dict[str, Any]:
    items = checked_items(owner, parsed)
    valid = [checked for checked in items if not checked.problem]
    fresh = [checked for checked in valid if not checked.duplicate]
    attachment_bytes = sum(source.size for checked in fresh for source in checked.item.attachments)
    if attachment_bytes:
        used = Attachment.objects.filter(owner=owner).aggregate(total=Sum("size"))["total"] or 0
        if used + attachment_bytes > settings.STORAGE_QUOTA_BYTES:
            raise ImportFailed("quota_exceeded", f"The attachments need {attachment_bytes // 2**20} MB; "
                               "there is not that much storage left.")  # fmt: skip
    known = existing_category_paths(owner)
    wanted = {checked.category for checked in valid if checked.category}
    wanted |= {_category(spec.path) for spec in parsed.categories if _category(spec.path)}
    prefixes = {path[:depth] for path in wanted for depth in range(1, len(path) + 1)}
    new_categories = sorted(
        (path for path in prefixes if tuple(name.lower() for name in path) not in known),
        key=lambda path: [name.lower() for name in path],
    )
    names = {tag for checked in fresh for tag in checked.tags} | {spec.name for spec in parsed.tags}
    slugs = slugs_for(sorted(names))
    existing_slugs = set(Tag.objects.filter(owner=owner, slug__in=set(slugs.values())).values_list("slug", flat=True))
    new_tags = sorted({name for name, slug in slugs.items() if slug not in existing_slugs}, key=str.lower)
    by_type: dict[str, int] = {}
    for checked in fresh:
        by_type[checked.item.type] = by_type.get(checked.item.type, 0) + 1
    return {
        "format": parsed.format,
        "counts": {
            "entries": len(fresh), "duplicates": len(valid) - len(fresh), "left_out": len(items) - len(valid),
            "categories": len(new_categories), "tags": len(new_tags), "by_type": by_type,
            "attachments": sum(len(checked.item.attachments) for checked in fresh),
        },
        "categories": [" / ".join(path) for path in new_categories[:200]],
        "tags": new_tags[:200],
        "items": [
            {"key": checked.item.key[:300], "type": checked.item.type, "title": checked.title,
             "category": " / ".join(checked.category), "tags": checked.tags, "duplicate": checked.duplicate,
             "attachments": len(checked.item.attachments)}
            for checked in valid[:PREVIEW_ITEMS]
        ],
        "items_truncated": len(valid) > PREVIEW_ITEMS,
        "warnings": [*parsed.warnings, *(checked.problem for checked in items if checked.problem)][:200],
    }  # fmt: skip
