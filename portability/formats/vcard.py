"""vCard 3.0 and 4.0 files (RFC 2426, RFC 6350), one card or many: contacts.

FN (or N) is the name and title; EMAIL, TEL, ORG, ADR and BDAY go to the contact's fields;
CATEGORIES become tags; NOTE, TITLE, NICKNAME and URL go to the content. A card with more
than VCARD_MAX_PROPERTIES properties is refused: no address book needs thousands.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from portability.errors import ImportFailed
from portability.formats import Format, Item, Parsed

_LINE = re.compile(r"^(?:[A-Za-z0-9-]+\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[^:]*)?):(?P<value>.*)$", re.DOTALL)
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,40}$")
_MAX_LINE = 1_000_000


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            following = value[i + 1]
            out.append("\n" if following in "nN" else following)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out).strip()


def _split(value: str, separator: str) -> list[str]:
    """Split on SEPARATOR where it is not escaped with a backslash."""
    parts, current, i = [], [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            current.append(value[i : i + 2])
            i += 2
            continue
        if value[i] == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(value[i])
        i += 1
    parts.append("".join(current))
    return [_unescape(part) for part in parts]


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
            if len(lines[-1]) > _MAX_LINE:
                raise ImportFailed("malformed_file", "A line of the vCard file is longer than 1 MB.")
        elif raw.strip():
            lines.append(raw)
    return lines


def _birthday(value: str) -> str | None:
    digits = value.replace("-", "")
    if len(digits) >= 8 and digits[:8].isdigit():
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    return None  # no year (--0421) or a text date: kept in the notes


def _card(number: int, properties: list[tuple[str, str, str]]) -> Item:
    values: dict[str, list[str]] = {}
    version = ""
    for name, _params, value in properties:
        if name == "VERSION":
            version = value.strip()
        values.setdefault(name, []).append(value)
    if version not in ("3.0", "4.0"):
        raise ImportFailed(
            "unsupported_version",
            f"Card {number} is vCard {version or 'without a version'}: only 3.0 and 4.0 are read.",
        )
    full_name = _unescape(values.get("FN", [""])[0])
    if not full_name and values.get("N"):
        family, given, additional, prefix, suffix = (_split(values["N"][0], ";") + [""] * 5)[:5]
        full_name = " ".join(part for part in (prefix, given, additional, family, suffix) if part)
    organisation = " ".join(_split(values["ORG"][0], ";")).strip() if values.get("ORG") else ""
    emails = [_unescape(v).removeprefix("mailto:") for v in values.get("EMAIL", []) if _unescape(v)]
    phones, notes = [], []
    for raw in values.get("TEL", []):
        phone = _unescape(raw).removeprefix("tel:")
        if _PHONE.match(phone):
            phones.append(phone)
        elif phone:
            notes.append(f"Phone: {phone}")
    addresses = []
    for raw in values.get("ADR", []):
        parts = [part for part in _split(raw, ";") if part]
        if parts:
            addresses.append(", ".join(parts))
    fields: dict[str, Any] = {
        "name": full_name,
        "emails": emails,
        "phones": phones,
        "organisation": organisation,
        "addresses": addresses,
    }
    if values.get("BDAY"):
        birthday = _birthday(_unescape(values["BDAY"][0]))
        if birthday:
            fields["birthday"] = birthday
        else:
            notes.append(f"Birthday: {_unescape(values['BDAY'][0])}")
    for label, name in (("Title", "TITLE"), ("Nickname", "NICKNAME"), ("Web", "URL")):
        notes += [f"{label}: {_unescape(value)}" for value in values.get(name, []) if _unescape(value)]
    notes += [_unescape(value) for value in values.get("NOTE", []) if _unescape(value)]
    tags = [tag for raw in values.get("CATEGORIES", []) for tag in _split(raw, ",") if tag]
    title = full_name or organisation or (emails[0] if emails else "") or f"Contact {number}"
    return Item(
        key=f"card[{number}]", type="contact", title=title[:300], content="\n".join(notes),
        fields={name: value for name, value in fields.items() if value not in ("", [])}, tags=tags,
    )  # fmt: skip


def read(data: bytes) -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed("malformed_file", "The vCard file is not UTF-8 text.") from None
    parsed = Parsed(Format.VCARD)
    limit = settings.IMPORT_VCARD_MAX_PROPERTIES
    card: list[tuple[str, str, str]] | None = None
    for number, line in enumerate(_unfold(text), start=1):
        match = _LINE.match(line)
        if match is None:
            raise ImportFailed("malformed_file", f"Line {number} of the vCard file is not a vCard property.")
        name, params, value = match.group("name").upper(), match.group("params"), match.group("value")
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            if card is not None:
                raise ImportFailed("malformed_file", f"Card {len(parsed.items) + 1} is not closed (END:VCARD).")
            card = []
        elif name == "END" and value.strip().upper() == "VCARD":
            if card is None:
                raise ImportFailed("malformed_file", f"Line {number} ends a card that was never begun.")
            parsed.items.append(_card(len(parsed.items) + 1, card))
            card = None
        elif card is None:
            raise ImportFailed("malformed_file", f"Line {number} of the vCard file is outside any card.")
        else:
            card.append((name, params, value))
            if len(card) > limit:
                raise ImportFailed("too_many_fields", f"Card {len(parsed.items) + 1} has more than {limit} properties.")
    if card is not None:
        raise ImportFailed(
            "malformed_file", f"Card {len(parsed.items) + 1} is not closed (END:VCARD): the file is truncated."
        )
    if not parsed.items:
        raise ImportFailed("malformed_file", "The vCard file holds no cards.")
    return parsed
