"""Template helpers for entries: the sidebar, Markdown, and small formatting filters."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import strip_tags
from django.utils.safestring import SafeString

from accounts.sessions import describe_user_agent
from entries import markdown as md
from entries import overview, selectors
from entries.crypto import envelope
from entries.forms import TYPES

register = template.Library()


@register.inclusion_tag("partials/sidebar.html", takes_context=True)
def sidebar(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    user = request.user
    return {
        "request": request,
        "types": TYPES,
        "tree": overview.category_tree_counts(user),
        "tags": list(selectors.tags_for_owner(user).filter(usage_count__gt=0).order_by("-usage_count", "name")[:15]),
        "current_type": request.GET.get("type", "") if request.path == "/entries/" else "",
        "current_category": request.GET.get("category", ""),
        "current_tags": request.GET.getlist("tag"),
        "path": request.path,
        "shared_with_me_url": reverse("share-ui:shared-with-me"),
    }


@register.filter
def has_sealed(entry: Any, name: str) -> bool:
    """Whether ENTRY holds the secret NAME (e.g. a TOTP seed), without decrypting anything."""
    try:
        return f"fields.{name}" in envelope.sealed_names(entry.content_encrypted)
    except envelope.DecryptionFailed:
        return False


@register.filter
def markdown(text: str) -> SafeString:
    return md.render(text)


@register.filter
def plaintext(text: str) -> str:
    """Markdown as the words a reader sees (for one-line snippets)."""
    return " ".join(html.unescape(strip_tags(md.render(text))).split())


@register.filter
def day(value: Any) -> Any:
    """An ISO date from Entry.fields (a birthday) as a date, for the date filter."""
    try:
        return parse_date(str(value)) or value
    except ValueError:
        return value


@register.filter
def device(user_agent: str) -> str:
    """A User-Agent as a person reads it: "Firefox on Linux"."""
    return describe_user_agent(user_agent)[0] if user_agent else ""


@register.filter
def type_label(entry_type: str) -> str:
    info = TYPES.get(entry_type)
    return info.label if info else entry_type


@register.filter
def domain(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


@register.filter
def moment(value: Any) -> datetime | None:
    """An ISO timestamp from Entry.fields as an aware datetime (for the date filter)."""
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return parse_datetime(str(value))
    except ValueError:
        return None


@register.filter
def is_overdue(value: Any) -> bool:
    when = moment(value)
    return bool(when and when < timezone.now())


@register.filter
def tag_names(entry: Any) -> list[str]:
    return sorted((tag.name for tag in entry.tags.all()), key=str.lower)


@register.filter
def status_label(status: str) -> str:
    return {"active": "Active", "archived": "Archived", "draft": "Draft", "deleted": "In the trash"}.get(status, status)


@register.filter
def filesize(size: Any) -> str:
    number = float(size or 0)
    for unit in ("bytes", "KB", "MB", "GB"):
        if number < 1024 or unit == "GB":
            return f"{number:.0f} {unit}" if unit == "bytes" else f"{number:.1f} {unit}"
        number /= 1024
    return f"{number:.1f} TB"


@register.simple_tag(takes_context=True)
def without(context: dict[str, Any], key: str, value: str) -> str:
    """This page's query string without one KEY=VALUE pair (and back on the first page)."""
    query = context["request"].GET.copy()
    query.setlist(key, [item for item in query.getlist(key) if item != value])
    query.pop("page", None)
    return "?" + str(query.urlencode())


@register.filter
def add_days(moment: Any, days: int) -> Any:
    return moment + timedelta(days=int(days)) if moment else moment
