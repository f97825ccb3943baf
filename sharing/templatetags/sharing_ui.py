"""Template helpers for the sharing pages."""

from __future__ import annotations

from django import template

from sharing.models import PERMISSION_LABELS

register = template.Library()


@register.filter
def permission_label(permission: str) -> str:
    return PERMISSION_LABELS.get(permission, permission)
