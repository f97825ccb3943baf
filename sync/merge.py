"""Three-way merge of a device's edit with the server's entry (DESIGN.md, "Sync").

A device sends the fields it changed and the version it started from. The base is that
version's snapshot (EntryVersion), the current state is the entry now. A field only one
side changed takes that side's value; a field both sides changed the same way is fine; a
field both changed differently is a conflict, except a note's `content`, which merges line
by line when the changed regions do not overlap, `tags`, which merge as sets (additions
and removals from both sides), and `fields`, which merge key by key.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


@dataclass
class Merge:
    """What to apply (`changes`) and what could not be merged (`conflicts`: field ->
    {"base", "current", "incoming"})."""

    changes: dict[str, Any] = field(default_factory=dict)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)


def merge(*, entry_type: str, base: dict[str, Any], current: dict[str, Any], incoming: dict[str, Any]) -> Merge:
    result = Merge()
    for name, theirs in incoming.items():
        was, now = base.get(name), current.get(name)
        if theirs in (now, was):
            continue  # nothing new from the device
        if now == was:
            result.changes[name] = theirs  # only the device changed it
            continue
        merged = _merge_value(entry_type, name, was, now, theirs)
        if merged is _MISSING:
            result.conflicts[name] = {"base": was, "current": now, "incoming": theirs}
        else:
            result.changes[name] = merged
    return result


def _merge_value(entry_type: str, name: str, was: Any, now: Any, theirs: Any) -> Any:
    if name == "tags" and all(isinstance(v, list) for v in (was or [], now, theirs)):
        return merge_sets(was or [], now, theirs)
    if name == "fields" and all(isinstance(v, dict) for v in (was or {}, now, theirs)):
        nested = merge(entry_type=entry_type, base=was or {}, current=now, incoming=theirs)
        return _MISSING if nested.conflicts else {**now, **nested.changes}
    if name == "content" and entry_type == "note" and all(isinstance(v, str) for v in (was or "", now, theirs)):
        lines = merge_lines(was or "", now, theirs)
        return _MISSING if lines is None else lines
    return _MISSING


def merge_sets(base: list[str], ours: list[str], theirs: list[str]) -> list[str]:
    """Tags: keep what either side kept, add what either added, drop what either dropped."""

    def key(name: str) -> str:
        return name.casefold()

    base_keys = {key(n) for n in base}
    their_keys = {key(n) for n in theirs}
    removed = base_keys - their_keys
    result = [n for n in ours if key(n) not in removed]
    seen = {key(n) for n in result}
    for name in theirs:
        if key(name) not in base_keys and key(name) not in seen:
            result.append(name)
            seen.add(key(name))
    return result


def merge_lines(base: str, ours: str, theirs: str) -> str | None:
    """diff3 on lines: both sides' edits applied when they touch different regions of the
    base; None when an edit from each side touches the same region."""
    base_lines = base.splitlines(keepends=True)
    our_hunks = _hunks(base_lines, ours.splitlines(keepends=True))
    their_hunks = _hunks(base_lines, theirs.splitlines(keepends=True))
    hunks = list(our_hunks)
    for hunk in their_hunks:
        if hunk in our_hunks:
            continue  # the same edit on both sides
        if any(_overlap(hunk, ours_) for ours_ in our_hunks):
            return None
        hunks.append(hunk)
    merged = list(base_lines)
    for start, end, replacement in sorted(hunks, key=lambda h: (h[0], h[1]), reverse=True):
        merged[start:end] = replacement
    return "".join(merged)


def _hunks(base: list[str], other: list[str]) -> list[tuple[int, int, list[str]]]:
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    return [(i1, i2, other[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _overlap(a: tuple[int, int, list[str]], b: tuple[int, int, list[str]]) -> bool:
    """Two edits of base lines [start, end) collide when their ranges share a line, or when
    both insert at the same place (the order of the insertions would be a guess)."""
    (a1, a2, _), (b1, b2, _) = a, b
    if a1 == a2 or b1 == b2:  # an insertion collides with an edit around its position
        return a1 == b1 or (b1 < a1 < b2) or (a1 < b1 < a2)
    return max(a1, b1) < min(a2, b2)
