"""Notes are Markdown: rendered on the server, with raw HTML escaped (never passed through)."""

from __future__ import annotations

import re
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


# Markdown's marks, for a fragment of a note (a search snippet: a cut-out piece that need not
# parse as a whole). Regular expressions, not a render: a page of results has twenty.
_MARKS = [
    # A link or image: its text (a snippet may end inside the address, before its ")").
    (re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*\)?"), r"\1"),
    (re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # bold, struck through
    # Half a pair, the fragment having cut the other half off ("quokka** in"); between two
    # letters it is part of a word ("foo__bar").
    (re.compile(r"(?<![\w*~])(?:\*\*|__|~~)|(?:\*\*|__|~~)(?![\w*~])"), ""),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # emphasis
    # At a line's start: a heading's #s, a quote's >, a list's marker and a task's box.
    (re.compile(r"(?m)^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|(?:[-*+]|\d+[.)])[ \t]+(?:\[[ xX]\][ \t]+)?)"), ""),
    (re.compile(r"`+"), ""),
]


# Whether any of those can be there: most snippets are plain words, and skip the five passes.
# Two searches that each start with a character to look for, which `re` scans for quickly
# (one with `^` in it tries every position): a mark, or a list item's start.
_MARK_CHARACTER = re.compile(r"[#*_\[`>~]")
_LIST_ITEM = re.compile(r"\n[ \t]*(?:[-+]|\d+[.)])[ \t]")


def plain_fragment(text: str) -> str:
    """A piece of Markdown as the words a reader sees, on one line."""
    if _MARK_CHARACTER.search(text) or _LIST_ITEM.search("\n" + text):
        for pattern, replacement in _MARKS:
            text = pattern.sub(replacement, text)
    return " ".join(text.split())
