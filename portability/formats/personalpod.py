"""PersonalPod's own export (version 1), read back for an import. The layout (README,
"Export and import"):

    manifest.json       {"format": "personalpod-export", "version": 1, "exported_at", "user",
                         "counts", "files": {path: sha256 of every other file}}
    index.json          [{"id", "type", "title", "status", "file", "updated_at"}]
    entries/<id>.json   one entry, secrets decrypted, with its category path, tags and
                        attachments [{"id", "name", "content_type", "size", "sha256", "path"}]
    categories.json     [{"id", "name", "path": [names from the top], "color", "icon", "is_system"}]
    tags.json           [{"name", "slug", "color", "usage_count"}]
    shares.json         the shares the person made (never tokens or passphrases)
    activity.json       the person's activity log
    attachments/<id>/<name>   the files

Times are ISO 8601 in UTC, as the API writes them ("2026-12-05T01:14:15.165708Z"); exports
made before wrote "2026-12-05 01:14:15.165708+00:00", which reads the same.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

from entries.models import EntryType, Status
from portability.archive import SafeZip
from portability.errors import ImportFailed
from portability.formats import AttachmentSource, CategorySpec, Format, Item, Parsed, TagSpec

FORMAT = "personalpod-export"
VERSION = 1
_JSON_LIMIT = 64 * 1024 * 1024
_ENTRY_LIMIT = 4 * 1024 * 1024


def json_value(value: Any) -> Any:
    """A value JSON has no type for, as the export writes it (times as the API does)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _damaged(name: str) -> ImportFailed:
    return ImportFailed("damaged_export", f"The export is damaged: {name} does not match its checksum.")


class _Reader:
    def __init__(self, archive: SafeZip) -> None:
        self.archive = archive
        self.files: dict[str, Any] = {}
        manifest = self._json("manifest.json", None)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ImportFailed("unknown_format", "This ZIP file is not a PersonalPod export.")
        if manifest.get("version") != VERSION:
            raise ImportFailed("unsupported_version", f"This export is version {manifest.get('version')}; "
                               f"this PersonalPod reads version {VERSION}.")  # fmt: skip
        files = manifest.get("files")
        if not isinstance(files, dict):
            raise ImportFailed("malformed_file", "The export's manifest lists no files.")
        self.files = files

    def _json(self, name: str, limit: int | None = _JSON_LIMIT) -> Any:
        data = self.archive.read(name, limit=_JSON_LIMIT if limit is None else limit)
        if name != "manifest.json" and hashlib.sha256(data).hexdigest() != self.files.get(name):
            raise _damaged(name)
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            raise ImportFailed("malformed_file", f"{name} in the export is not valid JSON.") from None

    def attachment(self, name: str, path: str, sha256: str, size: int) -> AttachmentSource:
        if self.files.get(path) != sha256:
            raise _damaged(path)
        digest, seen = hashlib.sha256(), 0
        for chunk in self.archive.chunks(path):
            digest.update(chunk)
            seen += len(chunk)
        if digest.hexdigest() != sha256 or seen != size:
            raise _damaged(path)
        return AttachmentSource(name=name, sha256=sha256, size=size, open=lambda: self.archive.open(path))


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not text")
    return value


def _entry(reader: _Reader, data: Any) -> Item:
    if not isinstance(data, dict):
        raise ValueError("it is not an object")
    if data.get("type") not in EntryType.values:
        raise ValueError(f"its type {data.get('type')!r} is unknown")
    if data.get("status", "active") not in Status.values:
        raise ValueError(f"its status {data.get('status')!r} is unknown")
    fields = data.get("fields") or {}
    tags = data.get("tags") or []
    category = (data.get("category") or {}).get("path") or []
    if not isinstance(fields, dict) or not isinstance(tags, list) or not isinstance(category, list):
        raise ValueError("its fields, tags or category have the wrong shape")
    attachments = []
    for attachment in data.get("attachments") or []:
        if not isinstance(attachment, dict):
            raise ValueError("an attachment is not an object")
        attachments.append(
            reader.attachment(
                _text(attachment.get("name"), "an attachment's name"),
                _text(attachment.get("path"), "an attachment's path"),
                _text(attachment.get("sha256"), "an attachment's checksum"),
                int(attachment.get("size") or 0),
            )
        )
    return Item(
        key=_text(data.get("id"), "its id"),
        type=data["type"],
        title=_text(data.get("title"), "its title"),
        content=_text(data.get("content") or "", "its content"),
        fields=fields,
        status=data.get("status", "active"),
        category=tuple(_text(name, "a category name") for name in category),
        tags=[_text(tag, "a tag") for tag in tags],
        is_sensitive=data.get("is_sensitive") is True,
        expires_at=data.get("expires_at") if isinstance(data.get("expires_at"), str) else None,
        attachments=attachments,
    )


def read(archive: SafeZip) -> Parsed:
    reader = _Reader(archive)
    parsed = Parsed(Format.PERSONALPOD, closers=[archive.close])
    index, categories, tags = reader._json("index.json"), reader._json("categories.json"), reader._json("tags.json")
    if not all(isinstance(part, list) for part in (index, categories, tags)):
        raise ImportFailed("malformed_file", "The export's index, categories or tags are not lists.")
    for category in categories:
        path = category.get("path") if isinstance(category, dict) else None
        if not isinstance(path, list) or not all(isinstance(name, str) for name in path):
            raise ImportFailed("malformed_file", "A category in the export has no path.")
        parsed.categories.append(
            CategorySpec(tuple(path), str(category.get("color") or ""), str(category.get("icon") or ""))
        )
    for tag in tags:
        if isinstance(tag, dict) and isinstance(tag.get("name"), str):
            parsed.tags.append(TagSpec(tag["name"], str(tag.get("color") or "")))
    for position, listed in enumerate(index, start=1):
        name = listed.get("file") if isinstance(listed, dict) else None
        if not isinstance(name, str):
            raise ImportFailed("malformed_file", f"Entry {position} in the export's index names no file.")
        try:
            parsed.items.append(_entry(reader, reader._json(name, _ENTRY_LIMIT)))
        except ValueError as problem:
            raise ImportFailed("malformed_file", f"{name} in the export cannot be read: {problem}.") from None
    return parsed
