"""Small template helpers shared by every page of the web UI."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.templatetags.static import static
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = "") -> SafeString:
    """An icon from the sprite; decorative unless LABEL names it for screen readers."""
    if label:
        return format_html(
            '<svg class="icon" role="img" aria-label="{}"><use href="{}#i-{}"></use></svg>',
            label,
            static("personalpod/icons.svg"),
            name,
        )
    return format_html(
        '<svg class="icon" aria-hidden="true" focusable="false"><use href="{}#i-{}"></use></svg>',
        static("personalpod/icons.svg"),
        name,
    )


@register.filter
def ago(moment: Any) -> str:
    """“just now”, or “5 minutes ago” (MOMENT: a datetime or an ISO timestamp)."""
    when = moment if isinstance(moment, datetime) else (parse_datetime(str(moment)) if moment else None)
    if when is None:
        return ""
    if timezone.now() - when < timedelta(minutes=1):
        return "just now"
    return f"{timesince(when)} ago"
