"""Per-type field schemas: what `Entry.fields` may hold for each type, cleaned and checked.

`clean_fields(type, fields)` returns the normalised fields or raises a ValidationError
whose keys name the field as `fields.<name>` (e.g. `fields.url`), so that a client can
put the message next to the input it came from.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from entries.models import EntryType

SHORT = 300
LONG = 20_000
MAX_ITEMS = 20

Cleaner = Callable[[Any], Any]
# Lone UTF-16 surrogates (JSON's "\ud800") are no text: PostgreSQL and JSON cannot store them.
_SURROGATE = re.compile("[\ud800-\udfff]")


class Invalid(Exception):
    """A problem with one field's value; the message is for a person."""


def text(max_length: int) -> Cleaner:
    def clean(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid("Must be text.")
        if "\x00" in value:
            raise Invalid("Null characters are not allowed.")  # PostgreSQL cannot store them
        if surrogate := _SURROGATE.search(value):
            raise Invalid(f"Surrogate characters are not allowed: U+{ord(surrogate.group()):X}.")
        cleaned = value.strip()
        if len(cleaned) > max_length:
            raise Invalid(f"At most {max_length} characters.")
        return cleaned

    return clean


def url(value: Any) -> str:
    cleaned = str(text(2000)(value))
    if cleaned:
        try:
            URLValidator(schemes=["http", "https"])(cleaned)
        except ValidationError:
            raise Invalid("Enter a valid http or https URL.") from None
    return cleaned


def email_address(value: Any) -> str:
    cleaned = str(text(254)(value))
    try:
        EmailValidator()(cleaned)
    except ValidationError:
        raise Invalid(f"{cleaned!r} is not a valid e-mail address.") from None
    return cleaned.lower()


_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,40}$")


def phone(value: Any) -> str:
    cleaned = str(text(40)(value))
    if not _PHONE.match(cleaned):
        raise Invalid(f"{cleaned!r} is not a phone number (digits, spaces, + ( ) - . /).")
    return cleaned


def list_of(item: Cleaner) -> Cleaner:
    def clean(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise Invalid("Must be a list.")
        if len(value) > MAX_ITEMS:
            raise Invalid(f"At most {MAX_ITEMS} items.")
        return [item(element) for element in value if element not in ("", None)]

    return clean


def choice(*options: str) -> Cleaner:
    def clean(value: Any) -> str:
        if value not in options:
            raise Invalid(f"Must be one of: {', '.join(options)}.")
        return str(value)

    return clean


def optional_choice(*options: str) -> Cleaner:
    pick = choice(*options)
    return lambda value: None if value in (None, "") else pick(value)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("Must be true or false.")
    return value


def timestamp(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well-formed but impossible, e.g. month 13
        parsed = None
    if parsed is None:
        raise Invalid("Must be a date and time such as 2026-12-01T09:00:00Z.")
    if parsed.tzinfo is None:
        raise Invalid("Must include a time zone (Z or +01:00).")
    try:
        # Stored in UTC, so that stored values compare correctly as text too.
        return parsed.astimezone(UTC).isoformat()
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 is in the year 10000 in UTC
        raise Invalid("Must be between the years 1 and 9999 in UTC.") from None


def day(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        parsed = parse_date(value) if isinstance(value, str) else None
    except ValueError:  # e.g. 30 February
        parsed = None
    if parsed is None:
        raise Invalid("Must be a date such as 1990-04-21.")
    if parsed > timezone.now().date():
        raise Invalid("Cannot be in the future.")
    return parsed.isoformat()


def totp_seed(value: Any) -> str:
    cleaned = str(text(256)(value)).replace(" ", "").upper()
    if cleaned:
        try:
            base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
        except (binascii.Error, ValueError):
            raise Invalid("Must be the base32 secret from the authenticator QR code.") from None
    return cleaned


# For each type: field name -> (cleaner, required, default when absent).
SCHEMAS: dict[str, dict[str, tuple[Cleaner, bool, Any]]] = {
    EntryType.NOTE: {},
    EntryType.PASSWORD: {
        "username": (text(SHORT), False, ""),
        "url": (url, False, ""),
        "secret": (text(1024), False, ""),
        "notes": (text(LONG), False, ""),
        "totp_seed": (totp_seed, False, ""),
    },
    EntryType.DOCUMENT: {"description": (text(LONG), False, "")},
    EntryType.BOOKMARK: {"url": (url, True, None), "description": (text(LONG), False, "")},
    EntryType.TASK: {
        "due_at": (timestamp, False, None),
        "priority": (choice("low", "normal", "high"), False, "normal"),
        "is_done": (boolean, False, False),
        "done_at": (timestamp, False, None),
        "recurrence": (optional_choice("daily", "weekly", "monthly"), False, None),
        "notes": (text(LONG), False, ""),
        # Set by the server when a recurring task is done: the task it spawned (so that
        # undoing and redoing it does not spawn another).
        "next_occurrence_id": (text(64), False, None),
    },
    EntryType.CONTACT: {
        "name": (text(SHORT), False, ""),
        "emails": (list_of(email_address), False, []),
        "phones": (list_of(phone), False, []),
        "organisation": (text(SHORT), False, ""),
        "addresses": (list_of(text(1000)), False, []),
        "birthday": (day, False, None),
    },
}

# Fields whose values are secrets: the encryption issue keeps them out of plain columns.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {EntryType.PASSWORD: ("secret", "totp_seed")}


def clean_fields(entry_type: str, fields: Any) -> dict[str, Any]:
    if entry_type not in SCHEMAS:
        raise ValidationError({"type": [f"Unknown type; use one of: {', '.join(SCHEMAS)}."]})
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise ValidationError({"fields": ["Must be an object."]})
    schema = SCHEMAS[entry_type]
    errors: dict[str, list[str]] = {}
    for name in fields.keys() - schema.keys():
        allowed = ", ".join(schema) or "none"
        shown = _SURROGATE.sub("\ufffd", name)  # the error names it, and must itself be valid JSON
        errors[f"fields.{shown}"] = [f"Not a field of a {entry_type} (allowed: {allowed})."]
    cleaned: dict[str, Any] = {}
    for name, (cleaner, required, default) in schema.items():
        value = fields.get(name)
        try:
            cleaned[name] = default if value in (None, "", []) else cleaner(value)
        except Invalid as problem:
            errors[f"fields.{name}"] = [str(problem)]
            continue
        if required and cleaned[name] in (None, "", []):
            errors[f"fields.{name}"] = ["This field is required."]
    if errors:
        raise ValidationError(errors)
    return cleaned


def parse_timestamp(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None
