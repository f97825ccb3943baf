"""Notes are Markdown: rendered on the server, with raw HTML escaped (never passed through)."""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])
# markdown-it refuses javascript:, vbscript: and data: links itself (validateLink).


def _link_open(renderer: Any, tokens: Any, index: int, options: Any, env: Any) -> str:
    tokens[index].attrSet("rel", "noopener noreferrer nofollow")
    return str(renderer.renderToken(tokens, index, options, env))


_renderer.add_render_rule("link_open", _link_open)


def render(text: str) -> SafeString:
    # Safe: html is off, so every tag in TEXT comes out escaped.
    return mark_safe(str(_renderer.render(text or "")))  # noqa: S308
