"""Related entries: the entries a reader may read that share the most of one entry's
keywords (its top words, which the search trigger keeps: migration 0013)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F

from accounts.models import User
from entries.models import Entry
from entries.selectors import entries_for_reader

LIMIT = 5
# Found among the reader's newest entries (and those shared with them): in a big vault a
# keyword as common as "meeting" or a category's name would otherwise have every one of
# its matches read and ranked. Most vaults are smaller than this, and so searched whole.
WINDOW = 2000


@dataclass(frozen=True)
class Related:
    id: uuid.UUID
    type: str
    title: str
    # Someone else's entry, read through a share.
    shared: bool
    # The keywords the two entries have in common, in the first entry's order (best first).
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
    """Up to LIMIT entries READER may read, other than ENTRY, ranked by the keywords they
    share with it (a shared word in a title counts most, as in search)."""
    if not entry.keywords:
        return []
    query = _AnyOf(entry.keywords)
    newest = entries_for_reader(reader=reader, whose="own").order_by("-created_at").values("id")[:WINDOW]
    shared = entries_for_reader(reader=reader, whose="shared").values("id")
    ranked = (
        Entry.objects.filter(id__in=newest.union(shared, all=True))
        .exclude(id=entry.id)
        .filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-updated_at", "id")
        .values_list("id", "type", "title", "owner_id", "keywords")[:limit]
    )
    found = []
    for entry_id, entry_type, title, owner_id, theirs in ranked:
        common = [word for word in entry.keywords if word in set(theirs)]
        found.append(Related(entry_id, entry_type, title, owner_id != reader.id, common))
    return found
