from __future__ import annotations

from sync.merge import merge, merge_lines, merge_sets

BASE = "line one\nline two\nline three\nline four\n"


def test_edits_to_different_fields_merge() -> None:
    result = merge(
        entry_type="note",
        base={"title": "A", "content": "x"},
        current={"title": "A", "content": "y"},
        incoming={"title": "B"},
    )
    assert (result.changes, result.conflicts) == ({"title": "B"}, {})


def test_edits_to_the_same_field_conflict_with_both_values() -> None:
    result = merge(entry_type="bookmark", base={"title": "A"}, current={"title": "B"}, incoming={"title": "C"})
    assert result.changes == {}
    assert result.conflicts == {"title": {"base": "A", "current": "B", "incoming": "C"}}


def test_the_same_edit_on_both_sides_is_no_conflict() -> None:
    result = merge(entry_type="note", base={"title": "A"}, current={"title": "B"}, incoming={"title": "B"})
    assert (result.changes, result.conflicts) == ({}, {})


def test_note_content_merges_line_wise_when_regions_do_not_overlap() -> None:
    ours = BASE.replace("line one", "LINE ONE")
    theirs = BASE.replace("line four", "LINE FOUR")
    assert merge_lines(BASE, ours, theirs) == "LINE ONE\nline two\nline three\nLINE FOUR\n"
    result = merge(entry_type="note", base={"content": BASE}, current={"content": ours}, incoming={"content": theirs})
    assert result.changes == {"content": "LINE ONE\nline two\nline three\nLINE FOUR\n"}


def test_note_content_in_the_same_region_conflicts() -> None:
    assert merge_lines(BASE, BASE.replace("two", "2"), BASE.replace("two", "II")) is None
    assert merge_lines(BASE, BASE + "ours\n", BASE + "theirs\n") is None  # two appends at one place
    result = merge(
        entry_type="task",  # only notes merge line-wise
        base={"content": BASE},
        current={"content": BASE.replace("one", "1")},
        incoming={"content": BASE.replace("four", "4")},
    )
    assert list(result.conflicts) == ["content"]


def test_insertions_and_deletions_in_separate_regions_merge() -> None:
    ours = "intro\n" + BASE  # insert at the top
    theirs = BASE.replace("line three\n", "")  # delete a later line
    assert merge_lines(BASE, ours, theirs) == "intro\nline one\nline two\nline four\n"


def test_tags_merge_as_sets_and_fields_key_by_key() -> None:
    assert merge_sets(["a", "b"], ["a", "b", "c"], ["b", "d"]) == ["b", "c", "d"]
    result = merge(
        entry_type="bookmark",
        base={"fields": {"url": "https://a.example", "description": "x"}},
        current={"fields": {"url": "https://b.example", "description": "x"}},
        incoming={"fields": {"url": "https://a.example", "description": "y"}},
    )
    assert result.changes == {"fields": {"url": "https://b.example", "description": "y"}}
    clash = merge(
        entry_type="bookmark",
        base={"fields": {"url": "https://a.example"}},
        current={"fields": {"url": "https://b.example"}},
        incoming={"fields": {"url": "https://c.example"}},
    )
    assert list(clash.conflicts) == ["fields"]
