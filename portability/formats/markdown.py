"""A ZIP of Markdown files (Obsidian, Joplin, Bear, a folder of notes): one note per .md file.

YAML front matter gives the title and tags (a list, or one string of comma- or
space-separated names); otherwise the first "# heading", else the file name, is the title.
Folders become categories; a single folder holding everything is not one.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import yaml

from portability.archive import SafeZip
from portability.errors import ImportFailed
from portability.formats import Format, Item, Parsed
from portability.formats.bookmarks import MAX_CATEGORY_DEPTH

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"\A\s*#[ \t]+(?P<title>[^\n]+)")
MAX_NOTE_BYTES = 1_000_000
MAX_FRONT_MATTER = 64 * 1024


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        return [tag.strip().lstrip("#") for tag in re.split(r"[,\s]+", value) if tag.strip().lstrip("#")]
    if isinstance(value, list):
        # Scalars only: a list of aliased lists (a YAML bomb) must never be turned into text.
        names = [str(tag).strip().lstrip("#") for tag in value[:100] if isinstance(tag, str | int | float)]
        return [name for name in names if name]
    return []


def _note(name: str, text: str, category: tuple[str, ...]) -> Item:
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match and match.end() <= MAX_FRONT_MATTER:
        try:
            loaded = yaml.safe_load(match.group("yaml") or "")
        except yaml.YAMLError:
            raise ImportFailed("malformed_file", f"{name}: its front matter is not valid YAML.") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ImportFailed("malformed_file", f"{name}: its front matter is not a set of keys and values.")
        meta = loaded or {}
        text = text[match.end() :]
    title = str(meta["title"]).strip() if isinstance(meta.get("title"), str | int | float) else ""
    if not title:
        heading = _HEADING.match(text)
        title = heading.group("title").strip() if heading else PurePosixPath(name).stem
    tags = _tags(meta.get("tags", meta.get("tag")))
    return Item(key=name, type="note", title=title[:300] or "Untitled", content=text.strip("\n"), category=category,
                tags=tags)  # fmt: skip


def read(archive: SafeZip) -> Parsed:
    parsed = Parsed(Format.MARKDOWN)
    notes = [
        name
        for name in archive.names()
        if name.lower().endswith((".md", ".markdown"))
        and not any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(name).parts)
    ]
    if not notes:
        raise ImportFailed("malformed_file", "The ZIP file holds no Markdown notes.")
    skipped = len(archive.names()) - len(notes)
    if skipped:
        parsed.warn(f"{skipped} file(s) that are not Markdown notes were left out.")
    folders = [PurePosixPath(name).parts[:-1] for name in notes]
    # Everything in one top folder (the exported vault's own folder): that folder is no category.
    common = folders[0][:1] if folders and all(folder[:1] == folders[0][:1] for folder in folders) else ()
    for name, folder in zip(notes, folders, strict=True):
        data = archive.read(name, limit=MAX_NOTE_BYTES)
        try:
            text = data.decode("utf-8-sig").replace("\r\n", "\n")
        except UnicodeDecodeError:
            raise ImportFailed("malformed_file", f"{name} is not UTF-8 text.") from None
        category = folder[len(common) :]
        if len(category) > MAX_CATEGORY_DEPTH:
            parsed.warn(f"{name} is in folders {len(category)} deep: filed {MAX_CATEGORY_DEPTH} deep.")
            category = category[:MAX_CATEGORY_DEPTH]
        parsed.items.append(_note(name, text, category))
    return parsed
