"""Related entries: the entries a reader may read that contain one entry's keywords (its
top words, which the search trigger keeps: migration 0013), ranked as search ranks them.

An entry shared with the reader brings its owner's keywords, stemmed in the owner's search
language: across languages its related entries are fewer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import models
from django.db.models import F
from django.db.models.expressions import RawSQL

from accounts.models import User
from entries.models import Entry
from entries.search import WEIGHTS
from entries.selectors import entries_for_reader

LIMIT = 5
# Found among the reader's newest entries and the newest shared with them: in a big vault
# a keyword as common as "meeting" or a category's name would otherwise have every one of
# its matches read and ranked. Most vaults are smaller than this, and so searched whole.
WINDOW = 2000


@dataclass(frozen=True)
class Related:
    id: uuid.UUID
    type: str
    title: str
    # Someone else's entry, read through a share.
    shared: bool
    # The first entry's keywords this one contains, best first.
    keywords: list[str]


def any_of(keywords: list[str]) -> str:
    """A tsquery matching any of KEYWORDS, as text. They are lexemes already (taken from a
    vector), so they are quoted, not parsed again: parsing would stem "tax" no further, but
    would split "example.com/path"."""
    quoted = ("'" + word.replace("\\", "\\\\").replace("'", "''") + "'" for word in keywords)
    return " | ".join(quoted)


class _AnyOf(SearchQuery):
    """A tsquery matching any of some lexemes (`any_of`), cast from its text, not parsed."""

    template = "%(expressions)s::tsquery"

    def __init__(self, keywords: list[str]) -> None:
        super().__init__(any_of(keywords), search_type="raw")


def related_entries(*, reader: User, entry: Entry, limit: int = LIMIT) -> list[Related]:
    """Up to LIMIT entries READER may read, other than ENTRY, that contain any of its
    keywords, ranked with search's weights (a keyword in a title counts most)."""
    if not entry.keywords:
        return []
    query = _AnyOf(entry.keywords)
    newest = entries_for_reader(reader=reader, whose="own").order_by("-created_at").values("id")[:WINDOW]
    shared = entries_for_reader(reader=reader, whose="shared").order_by("-created_at").values("id")[:WINDOW]
    # ENTRY's keywords that each one contains, in ENTRY's order.
    common = RawSQL(
        "ARRAY(SELECT word FROM unnest(%s::text[]) WITH ORDINALITY AS k(word, n)"
        " WHERE word = ANY(tsvector_to_array(search_vector)) ORDER BY n)",
        [entry.keywords],
        output_field=ArrayField(models.TextField()),
    )
    ranked = (
        Entry.objects.filter(id__in=newest.union(shared, all=True))
        .exclude(id=entry.id)
        .filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query, weights=WEIGHTS), common=common)
        .order_by("-rank", "-updated_at", "id")
        .values_list("id", "type", "title", "owner_id", "common")[:limit]
    )
    return [
        Related(entry_id, entry_type, title, owner_id != reader.id, words)
        for entry_id, entry_type, title, owner_id, words in ranked
    ]
