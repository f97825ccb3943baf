"""Full-text search over a reader's entries (DESIGN.md, "Search").

`websearch_to_tsquery` in the reader's language, with the last word also matched as a
prefix (search as you type); ranking over at most CANDIDATES matches, so a common word
never ranks the whole vault; `ts_headline` only on the page returned; when nothing
matches, trigram similarity on titles and tags ("did you mean").
"""

from __future__ import annotations

import functools
import html
import json
import re
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from accounts.models import User
from entries import markdown
from entries.models import Entry
from entries.search_query import being_typed, split_words, tsquery_sql, without_exclusions
from entries.selectors import Whose, entries_for_reader

CANDIDATES = 1000
MAX_QUERY_LENGTH = 500
# Ranking weights for D, C, B, A: a title hit outranks a tag or category hit, which
# outranks a content hit.
WEIGHTS = [0.05, 0.2, 0.5, 1.0]
# (The page statement takes these out of titles and texts first: a text's own cannot fake a hit.
# It also makes a text's '<' and '>' spaces, as the vector does: words in them are words.)
_MARK_START, _MARK_END = "\x02", "\x03"


@dataclass
class Hit:
    """A result. `title` is plain text; `title_html` and `snippet` are HTML-escaped text with
    the matching words in <mark>."""

    id: uuid.UUID
    type: str
    title: str
    title_html: str
    snippet: str
    rank: float
    # Someone else's entry, found through a share.
    shared: bool = False


@dataclass
class SearchPage:
    results: list[Hit]
    count: int
    count_capped: bool
    has_next: bool
    suggestion: str | None = None
    fuzzy: bool = False
    filters: dict[str, Any] = field(default_factory=dict)
    # The reader's change_seq, read before their entries: the version of the vault this page shows.
    change_seq: int = 0

    @property
    def count_display(self) -> str:
        return display_count(self.count, self.count_capped)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (ids as strings), for the API and the search cache."""
        return {**vars(self), "results": [{**vars(hit), "id": str(hit.id)} for hit in self.results]}


def last_page(page_size: int) -> int:
    """The page that holds the last result counted: pages go no further."""
    return -(-CANDIDATES // page_size)


def display_count(count: int, capped: bool) -> str:
    """The count as shown: "1,000+" when more matched than were counted."""
    return f"{count:,}+" if capped else f"{count:,}"


def _marked(text: str | None) -> str:
    """Escape a headline for HTML, then turn the sentinels ts_headline put round hits into <mark>."""
    return html.escape(text or "").replace(_MARK_START, "<mark>").replace(_MARK_END, "</mark>")


def search_entries(*, reader: User, q: str, page: int = 1, page_size: int = 20, **filters: Any) -> SearchPage:
    config = reader.search_language or "english"
    # Ranked by what the query asks for: ts_rank gives nothing to a query with a NOT in it.
    wanted = without_exclusions(q)
    rank_query = tsquery_sql(wanted, config, typing=being_typed(q) is not None) if wanted and wanted != q else None
    candidates, match, change_seq = _candidates(reader, filters, tsquery_sql(q, config), rank_query)
    with connection.cursor() as cursor:
        # One statement ranks the candidates, counts them, cuts the page and highlights it.
        cursor.execute(
            _PAGE.format(candidates=" UNION ALL ".join(f"({sql})" for sql, _ in candidates)),
            [*(param for _, params in candidates for param in params), page_size + 1, (page - 1) * page_size,
             config, match, _TITLE_OPTIONS, config, match, _SNIPPET_OPTIONS],
        )  # fmt: skip
        rows = cursor.fetchall()
    if not rows:
        if page == 1:
            fuzzy = _fuzzy(reader, q, filters, page_size, config)
            return replace(fuzzy, change_seq=change_seq)
        # Past the last page: say how many there are, or that page 1 had close matches
        # (one more search; rare).
        first = search_entries(reader=reader, q=q, page=1, page_size=page_size, **filters)
        return replace(first, results=[], has_next=False, change_seq=change_seq)
    # Pages end with the CANDIDATES-th result, the last one counted (there can be more
    # candidates: one over, to know the count is capped, and the shared ones).
    shown = max(0, min(page_size, CANDIDATES - (page - 1) * page_size))
    hits = [_hit(*row, reader_id=reader.id) for row in rows[:shown]]
    return SearchPage(
        results=hits,
        count=min(rows[0][2], CANDIDATES),
        count_capped=rows[0][2] > CANDIDATES,
        has_next=len(rows) > shown and page * page_size < CANDIDATES,
        change_seq=change_seq,
    )


# How the matches are found (DESIGN.md, "Search"). Through the GIN index, a query costs
# about the length of its words' posting lists across every vault: cheap for a rare word,
# and 40-60 ms for two common words in a 1,000,000-entry table, however few rows are
# wanted. Reading the reader's newest entries and testing each costs about a microsecond
# a row and stops at the CANDIDATES+1st match: cheap exactly when the words are common.
# A probe of the newest PROBE_ROWS entries measures how common they are; if the matches
# are dense enough to be met within STREAM_ROWS rows, the entries are read newest first,
# otherwise the index is used (docs/benchmarks/search.md has the measurements).
PROBE_ROWS = 2000
STREAM_ROWS = 40_000


Query = tuple[str, list[Any]]  # a tsquery as SQL and its parameters


def _candidates(
    reader: User, filters: dict[str, Any], match: Query, rank: Query | None
) -> tuple[list[tuple[str, list[Any]]], str, int]:
    """The SQL for at most CANDIDATES + 1 matches, each row (id, updated_at, rank); the
    matching tsquery as text; and the reader's change_seq. All three come from the probe."""
    own = _scope(reader, "own", filters)
    probed = _probe(reader, own, match, rank)
    if probed.dense:
        parts = [(own, _BY_ROW, "ORDER BY created_at DESC"), (_scope(reader, "shared", filters), _BY_ROW, "")]
    else:
        parts = [(_scope(reader, "all", filters), _BY_INDEX, "")]
    return (
        [
            (
                _CANDIDATE.format(scope=scope_sql, condition=condition.format(match="%s::tsquery"), order=order),
                [WEIGHTS, probed.rank, *scope_params, probed.match, CANDIDATES + 1],
            )
            for (scope_sql, scope_params), condition, order in parts
        ],
        probed.match,
        probed.change_seq,
    )


Scope = tuple[str, tuple[Any, ...]]  # the SQL of the entries a search may find, and its parameters


def _scope(reader: User, whose: Whose, filters: dict[str, Any]) -> Scope:
    """Visibility and filters: the selector's part, as SQL.

    Building it through the ORM cost about 2 ms a search, more than a rare word's SQL. It
    depends on the filters, not on who reads, so it is built once per filter set for a
    stand-in reader, whose id is then swapped for the reader's. A category filter is
    resolved against the reader's own categories, so it is built each time."""
    cached = None
    if filters.get("category") is None:
        cached = _scope_for_anyone(whose, tuple(sorted((key, _hashable(value)) for key, value in filters.items())))
    if cached is None:
        return _compile(entries_for_reader(reader=reader, whose=whose, **filters))
    sql, params = cached
    return sql, _swap(params, _STAND_INS[0], reader.id)


_STAND_INS = (uuid.uuid4(), uuid.uuid4())  # reader ids no one has


@functools.lru_cache(maxsize=256)
def _scope_for_anyone(whose: Whose, filters: tuple[tuple[str, Any], ...]) -> Scope | None:
    """The scope built for a stand-in reader; None if it depends on the reader in any way
    but their id as a parameter. It is built for two stand-ins and kept only if the two
    differ by the id alone (else a swap could miss a reference to the reader)."""
    first, second = (
        _compile(entries_for_reader(reader=User.from_db(None, ["id"], [stand_in]), whose=whose, **dict(filters)))
        for stand_in in _STAND_INS
    )
    swapped = (first[0], _swap(first[1], *_STAND_INS))
    return first if _as_text(swapped) == _as_text(second) else None


def _as_text(scope: Scope) -> str:
    """The statement with its parameters in place (parameters such as Jsonb do not compare)."""
    return str(connection.ops.compose_sql(*scope))  # type: ignore[attr-defined] # PostgreSQL's operations


def _swap(params: tuple[Any, ...], old: uuid.UUID, new: uuid.UUID) -> tuple[Any, ...]:
    return tuple(new if param == old else param for param in params)


def _compile(entries: QuerySet[Entry]) -> Scope:
    columns = ("id", "type", "title", "owner_id", "updated_at", "created_at", "search_vector")
    sql, params = entries.order_by().values(*columns).query.sql_with_params()
    return str(sql), tuple(params)


def _hashable(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return tuple(sorted(value))
    return tuple(value) if isinstance(value, list | tuple) else value


# A candidate row. The condition is `ts_match_vq(...)` when rows are read newest first: it
# is the function behind @@, which the planner cannot take to the GIN index; `@@` itself
# when the index should be used.
_CANDIDATE = """
    SELECT id, updated_at, ts_rank(%s::real[], search_vector, %s::tsquery) AS rank
    FROM ({scope}) entry WHERE {condition} {order} LIMIT %s
"""
_BY_ROW = "ts_match_vq(search_vector, {match})"
_BY_INDEX = "search_vector @@ {match}"
_PROBE = """
    SELECT count(*) FILTER (WHERE {condition}), count(*),
           (SELECT change_seq FROM accounts_user WHERE id = %s), ({match})::text, ({rank})::text
    FROM (SELECT search_vector FROM ({scope}) entry ORDER BY created_at DESC LIMIT %s) newest
"""


@dataclass(frozen=True)
class _Probed:
    # Whether to read the reader's entries newest first rather than through the index.
    dense: bool
    change_seq: int
    # The tsqueries to match and to rank with, as text: the statements after the probe take
    # them as one parameter each, not as the expressions that built them, repeated.
    match: str
    rank: str


def _probe(reader: User, own: Scope, match: Query, rank: Query | None) -> _Probed:
    """Whether reading the reader's entries newest first finds the candidates within
    STREAM_ROWS rows, judged from the newest PROBE_ROWS (all of them in a small vault).
    The same statement reads the reader's change_seq for the search cache: before the page's
    entries are read, so a write landing in between leaves the page labelled older, never newer."""
    (scope_sql, scope_params), (match_sql, match_params) = own, match
    rank_sql, rank_params = rank or ("NULL", [])  # NULL: rank with the match
    with connection.cursor() as cursor:
        cursor.execute(
            _PROBE.format(condition=_BY_ROW.format(match=match_sql), match=match_sql, rank=rank_sql, scope=scope_sql),
            [*match_params, reader.id, *match_params, *rank_params, *scope_params, PROBE_ROWS],
        )
        hits, read, change_seq, match_text, rank_text = cursor.fetchone()
    dense = read < PROBE_ROWS or hits * STREAM_ROWS >= (CANDIDATES + 1) * read
    return _Probed(bool(dense), int(change_seq), match_text, rank_text or match_text)


_PAGE = """
    WITH page AS (
        SELECT id, rank, updated_at, count(*) OVER () AS total
        FROM ({candidates}) candidate
        ORDER BY rank DESC, updated_at DESC, id
        LIMIT %s OFFSET %s
    )
    SELECT page.id, page.rank, page.total, entry.type, entry.title, entry.fields, entry.owner_id,
           ts_headline(%s::regconfig, translate(entry.title, chr(2) || chr(3), ''), %s::tsquery, %s),
           ts_headline(%s::regconfig, translate(entry.content, '<>' || chr(2) || chr(3), '  '), %s::tsquery, %s)
    FROM page JOIN entries_entry entry ON entry.id = page.id
    ORDER BY page.rank DESC, page.updated_at DESC, page.id
"""
_TITLE_OPTIONS = f"StartSel={_MARK_START}, StopSel={_MARK_END}, HighlightAll=true"
_SNIPPET_OPTIONS = f"StartSel={_MARK_START}, StopSel={_MARK_END}, MaxWords=35, MinWords=15, MaxFragments=2"


def _hit(
    entry_id: uuid.UUID, rank: float, _total: int, entry_type: str, title: str, fields: str, owner_id: uuid.UUID,
    title_marked: str, snippet: str | None, *, reader_id: uuid.UUID,
) -> Hit:  # fmt: skip
    # ts_headline gives the content's opening words when the hit was elsewhere (title, tags);
    # a type whose words live in its fields shows those instead (a note's are "{}": not parsed).
    snippet = markdown.plain_fragment(snippet or "")  # content is Markdown
    if _MARK_START not in snippet and fields != "{}" and (field_text := _field_text(entry_type, json.loads(fields))):
        snippet = field_text[:240]
    return Hit(
        entry_id, entry_type, title, _marked(title_marked), _marked(snippet), round(rank, 4), owner_id != reader_id
    )


def _field_text(entry_type: str, fields: dict[str, Any]) -> str:
    if entry_type == "bookmark":
        return str(fields.get("description") or fields.get("url") or "")
    if entry_type == "contact":
        return " · ".join(filter(None, [fields.get("organisation"), *fields.get("emails", [])]))
    return str(fields.get("notes") or fields.get("description") or "")


def _fuzzy(reader: User, q: str, filters: dict[str, Any], page_size: int, config: str) -> SearchPage:
    """Nothing matched as typed: entries whose title or tags are close to the wanted words
    ("did you mean"), still without any entry that has an excluded word."""
    wanted, excluded = split_words(q)
    words = " ".join(wanted)
    if len(words) < 3:
        return SearchPage([], 0, False, False)
    scope_sql, scope_params = _scope(reader, "all", filters)
    unwanted, unwanted_params = "", []
    if excluded:
        unwanted, unwanted_params = _UNWANTED, [config, " or ".join(excluded)]
    with connection.cursor() as cursor:
        cursor.execute(
            _FUZZY.format(scope=scope_sql, unwanted=unwanted),
            [words, reader.id, words,
             words, *scope_params, words, *unwanted_params, page_size,
             *scope_params, *unwanted_params, page_size],
        )  # fmt: skip
        rows = cursor.fetchall()
    tag_names = [row[3] for row in rows if row[0] == "tag"]
    close: dict[uuid.UUID, tuple[Any, ...]] = {}
    for row in rows:  # close titles come first: an entry keeps its own title's similarity
        if row[0] != "tag":
            close.setdefault(row[1], row)
    best = sorted(close.values(), key=lambda row: -row[4])[:page_size]
    results = [
        Hit(entry_id, entry_type, title, html.escape(title), "", round(similarity, 4), owner_id != reader.id)
        for _, entry_id, entry_type, title, similarity, owner_id, _ in best
    ]
    suggestion = _suggest(words, [hit.title for hit in results], tag_names)
    if suggestion and excluded:
        suggestion = " ".join([suggestion, *(f"-{word}" for word in excluded)])
    return SearchPage(results, len(results), False, False, suggestion=suggestion, fuzzy=True)


# The reader's tags and the titles in scope close to the wanted words, and the entries with
# those tags, in one statement. %> is index-assisted (entry_owner_title_trigram) and takes
# its threshold from the session (personalpod/dbconfig.py, SESSION_SETTINGS). Two
# index-friendly lookups rather than one OR across a join, which would read every entry.
_FUZZY = """
    WITH close_tag AS MATERIALIZED (
        SELECT id, name, word_similarity(%s, name) AS similarity
        FROM entries_tag WHERE owner_id = %s AND name %%> %s
        ORDER BY similarity DESC LIMIT 5
    )
    SELECT * FROM (
        SELECT 'tag' AS kind, NULL::uuid, '', name, similarity, NULL::uuid, NULL::timestamptz AS updated_at
        FROM close_tag
        UNION ALL (
            SELECT 'title', id, type, title, word_similarity(%s, title) AS similarity, owner_id, updated_at
            FROM ({scope}) entry WHERE title %%> %s {unwanted}
            ORDER BY similarity DESC, updated_at DESC LIMIT %s
        ) UNION ALL (
            SELECT 'tagged', id, type, title, (SELECT max(similarity) FROM close_tag), owner_id, updated_at
            FROM ({scope}) entry
            WHERE id = ANY(ARRAY(
                SELECT entry_id FROM entries_entrytag WHERE tag_id = ANY(ARRAY(SELECT id FROM close_tag))
            )) {unwanted}
            ORDER BY updated_at DESC LIMIT %s
        )
    ) found
    ORDER BY kind <> 'title', similarity DESC, updated_at DESC
"""
_UNWANTED = "AND NOT search_vector @@ websearch_to_tsquery(%s::regconfig, %s)"


def _suggest(words: str, titles: list[str], tags: list[str]) -> str | None:
    """The closest single word from the matching titles and tags, e.g. "pasport" -> "passport"."""
    from difflib import get_close_matches

    vocabulary = {w.lower() for text in [*titles, *tags] for w in re.findall(r"\w{3,}", text)}
    suggestions = []
    for word in words.lower().split():
        close = get_close_matches(word, vocabulary, n=1, cutoff=0.6)
        suggestions.append(close[0] if close else word)
    suggestion = " ".join(suggestions)
    return suggestion if suggestion != words.lower() else None
