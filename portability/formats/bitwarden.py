"""Bitwarden's unencrypted JSON export: logins, secure notes, cards, identities (and SSH keys).

| Bitwarden | PersonalPod |
|---|---|
| login (1) | password: username, first http(s) URI as url, password as secret, TOTP as totp_seed |
| secure note (2) | note |
| card (3) | password, sensitive: cardholder as username, number as secret, the rest in notes |
| identity (4) | contact; sensitive when it holds an ID number (SSN, passport, licence) |
| SSH key (5) | note, sensitive |
| folder "A/B" | category A > B |
| favorite | tag "favorite" |

A secret with no secret field to go in (a hidden custom field, a TOTP that is not a base32
seed) makes the entry sensitive, so that its notes are encrypted too.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from portability.errors import ImportFailed
from portability.formats import Format, Item, Parsed

LOGIN, NOTE, CARD, IDENTITY, SSH_KEY = 1, 2, 3, 4, 5
HIDDEN_FIELD = 1


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _totp_seed(value: str) -> str | None:
    """A base32 seed from a seed or an otpauth:// URI; None when it is something else."""
    if value.lower().startswith("otpauth://"):
        secrets = parse_qs(urlsplit(value).query).get("secret") or [""]
        value = secrets[0]
    seed = value.replace(" ", "").upper()
    try:
        base64.b32decode(seed + "=" * (-len(seed) % 8))
    except (binascii.Error, ValueError):
        return None
    return seed or None


def _custom_fields(item: dict[str, Any]) -> tuple[list[str], bool]:
    lines, hidden = [], False
    for custom in item.get("fields") or []:
        if not isinstance(custom, dict):
            continue
        name, value = _text(custom.get("name")), _text(custom.get("value"))
        if name or value:
            lines.append(f"{name}: {value}")
            hidden = hidden or custom.get("type") == HIDDEN_FIELD
    return lines, hidden


def _login(item: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    login = item.get("login") or {}
    if not isinstance(login, dict):
        raise ValueError("its login is not an object")
    uris = [_text(uri.get("uri")) for uri in login.get("uris") or [] if isinstance(uri, dict)]
    web = [uri for uri in uris if uri.lower().startswith(("http://", "https://"))]
    other = [uri for uri in uris if uri and uri not in web[:1]]
    if other:
        notes.append("Also used at: " + ", ".join(other))
    fields: dict[str, Any] = {
        "username": _text(login.get("username")),
        "url": web[0] if web else "",
        "secret": _text(login.get("password")),
    }
    totp = _text(login.get("totp"))
    if totp:
        seed = _totp_seed(totp)
        if seed:
            fields["totp_seed"] = seed
        else:
            notes.append(f"TOTP: {totp}")
            fields["_sensitive"] = True
    return fields


def _card(item: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    card = item.get("card") or {}
    if not isinstance(card, dict):
        raise ValueError("its card is not an object")
    month, year = _text(card.get("expMonth")), _text(card.get("expYear"))
    details = [
        ("Brand", _text(card.get("brand"))),
        ("Expires", f"{month.zfill(2)}/{year}" if month and year else month or year),
        ("Security code", _text(card.get("code"))),
    ]
    notes[:0] = [f"{label}: {value}" for label, value in details if value]
    return {"username": _text(card.get("cardholderName")), "secret": _text(card.get("number"))}


def _identity(item: dict[str, Any], notes: list[str]) -> tuple[dict[str, Any], bool]:
    who = item.get("identity") or {}
    if not isinstance(who, dict):
        raise ValueError("its identity is not an object")
    name = " ".join(_text(who.get(part)) for part in ("title", "firstName", "middleName", "lastName")).split()
    address = ", ".join(
        value
        for value in (_text(who.get(part)) for part in (
            "address1", "address2", "address3", "city", "state", "postalCode", "country"))
        if value
    )  # fmt: skip
    fields = {
        "name": " ".join(name),
        "emails": [_text(who.get("email"))] if _text(who.get("email")) else [],
        "phones": [_text(who.get("phone"))] if _text(who.get("phone")) else [],
        "organisation": _text(who.get("company")),
        "addresses": [address] if address else [],
    }
    private = [
        ("Username", "username"),
        ("Social security number", "ssn"),
        ("Passport number", "passportNumber"),
        ("Licence number", "licenseNumber"),
    ]
    lines = [f"{label}: {_text(who.get(key))}" for label, key in private if _text(who.get(key))]
    notes[:0] = lines
    has_id_number = any(_text(who.get(key)) for key in ("ssn", "passportNumber", "licenseNumber"))
    return fields, has_id_number


def _ssh_key(item: dict[str, Any]) -> str:
    key = item.get("sshKey") or {}
    if not isinstance(key, dict):
        raise ValueError("its SSH key is not an object")
    parts = [
        ("Fingerprint", _text(key.get("keyFingerprint"))),
        ("Public key", _text(key.get("publicKey"))),
        ("Private key", _text(key.get("privateKey"))),
    ]
    return "\n\n".join(f"{label}:\n{value}" for label, value in parts if value)


def _item(index: int, item: Any, folders: dict[str, tuple[str, ...]]) -> Item:
    if not isinstance(item, dict) or not isinstance(item.get("type"), int):
        raise ValueError("it is not a Bitwarden item")
    kind = item["type"]
    title = _text(item.get("name")) or "Untitled"
    notes = [_text(item.get("notes"))] if _text(item.get("notes")) else []
    extra, hidden = _custom_fields(item)
    entry = Item(key=f"items[{index}]", type="note", title=title)
    entry.category = folders.get(str(item.get("folderId")), ())
    entry.tags = ["favorite"] if item.get("favorite") is True else []
    if kind == LOGIN:
        entry.type, fields = "password", _login(item, notes)
        entry.is_sensitive = bool(fields.pop("_sensitive", False))
    elif kind == CARD:
        entry.type, fields, entry.is_sensitive = "password", _card(item, notes), True
    elif kind == IDENTITY:
        entry.type = "contact"
        fields, entry.is_sensitive = _identity(item, notes)
    elif kind == NOTE:
        fields = {}
    elif kind == SSH_KEY:
        fields, entry.is_sensitive = {}, True
        notes.insert(0, _ssh_key(item))
    else:
        raise ValueError(f"its type {kind} is not one Bitwarden exports")
    entry.is_sensitive = entry.is_sensitive or hidden
    body = "\n\n".join([*notes, "\n".join(extra)] if extra else notes)
    if entry.type == "password":
        fields["notes"] = body
    else:
        entry.content = body
    entry.fields = {name: value for name, value in fields.items() if value not in ("", [], None)}
    return entry


def read(data: bytes) -> Parsed:
    try:
        export = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ImportFailed("malformed_file", "The file is not valid JSON: it is malformed or truncated.") from None
    if not isinstance(export, dict) or "items" not in export:
        raise ImportFailed("unknown_format", "This JSON file is not a Bitwarden export (it has no items).")
    if export.get("encrypted") is True:
        raise ImportFailed(
            "encrypted_export", "This Bitwarden export is encrypted: export again as unencrypted JSON (.json)."
        )
    if not isinstance(export["items"], list):
        raise ImportFailed("malformed_file", "The export's items are not a list.")
    folders: dict[str, tuple[str, ...]] = {}
    for folder in export.get("folders") or []:
        if isinstance(folder, dict) and _text(folder.get("name")):
            # Bitwarden nests folders by name: "Work/Servers" is Servers inside Work.
            folders[str(folder.get("id"))] = tuple(part.strip() for part in folder["name"].split("/") if part.strip())
    parsed = Parsed(Format.BITWARDEN)
    for index, raw in enumerate(export["items"]):
        try:
            parsed.items.append(_item(index, raw, folders))
        except ValueError as problem:
            raise ImportFailed("malformed_file", f"Item {index + 1} cannot be read: {problem}.") from None
    return parsed
