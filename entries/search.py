"""Full-text search over a reader's entries (DESIGN.md, "Search").

`websearch_to_tsquery` in the reader's language, with the last word also matched as a
prefix (search as you type); ranking over at most CANDIDATES matches, so a common word
never ranks the whole vault; `ts_headline` only on the page returned; when nothing
matches, trigram similarity on titles and tags ("did you mean").
"""

from __future__ import annotations

import html
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchQuery, TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import QuerySet

from accounts.models import User
from entries.models import Entry, Tag
from entries.selectors import entries_for_reader

CANDIDATES = 1000
MAX_QUERY_LENGTH = 500
# Ranking weights for D, C, B, A: a title hit outranks a tag or category hit, which
# outranks a content hit.
WEIGHTS = [0.05, 0.2, 0.5, 1.0]
_MARK_START, _MARK_END = "\x02", "\x03"
_LAST_WORD = re.compile(r"(\w+)$")


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


@dataclass
class SearchPage:
    results: list[Hit]
    count: int
    count_capped: bool
    has_next: bool
    suggestion: str | None = None
    fuzzy: bool = False
    filters: dict[str, Any] = field(default_factory=dict)
    # Results the reader sees through a share: a cached page is checked again for these
    # (a share can expire without a write that would make the page stale).
    shared: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (ids as strings), for the API and the search cache."""
        return {**vars(self), "results": [{**vars(hit), "id": str(hit.id)} for hit in self.results]}


def clean_query(q: str) -> str:
    return " ".join(q.split())


def _prefix(q: str) -> tuple[str, str] | None:
    """(the words before, the last word) when the last word is still being typed."""
    last = _LAST_WORD.search(q)
    if last and not q.endswith((" ", '"')) and not q[: last.start()].rstrip().endswith("-"):
        return q[: last.start()].strip(), last.group(1)
    return None


def _marked(text: str | None) -> str:
    """Escape a headline for HTML, then turn the sentinels ts_headline put round hits into <mark>."""
    return html.escape(text or "").replace(_MARK_START, "<mark>").replace(_MARK_END, "</mark>")


def search_entries(*, reader: User, q: str, page: int = 1, page_size: int = 20, **filters: Any) -> SearchPage:
    config = reader.search_language or "english"
    tsquery_sql, tsquery_params = _tsquery_sql(q, config)
    # Ranked by what the query asks for: ts_rank gives nothing to a query with a NOT in it.
    wanted = _without_exclusions(q)
    rank_query = _tsquery_sql(wanted, config) if wanted and wanted != q else None
    candidates = _candidates(reader, filters, (tsquery_sql, tsquery_params), rank_query)
    with connection.cursor() as cursor:
        # One statement ranks the candidates, counts them, cuts the page and highlights it.
        cursor.execute(
            _PAGE.format(candidates=" UNION ALL ".join(f"({sql})" for sql, _ in candidates), tsquery=tsquery_sql),
            [*(param for _, params in candidates for param in params), page_size + 1, (page - 1) * page_size,
             config, *tsquery_params, _TITLE_OPTIONS, config, *tsquery_params, _SNIPPET_OPTIONS],
        )  # fmt: skip
        rows = cursor.fetchall()
    if not rows:
        if page == 1:
            return _fuzzy(reader, q, entries_for_reader(reader=reader, **filters), page_size, config)
        return SearchPage([], 0, False, False)
    hits = [_hit(*row) for row in rows[:page_size]]
    return SearchPage(
        results=hits,
        count=min(rows[0][2], CANDIDATES),
        count_capped=rows[0][2] > CANDIDATES,
        has_next=len(rows) > page_size,
        shared=[str(hit.id) for hit, row in zip(hits, rows, strict=False) if row[6] != reader.id],
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


def _candidates(reader: User, filters: dict[str, Any], match: Query, rank: Query | None) -> list[tuple[str, list[Any]]]:
    """The SQL for at most CANDIDATES + 1 matches, each row (id, updated_at, rank)."""
    own = _scope(entries_for_reader(reader=reader, whose="own", **filters))
    if _dense(own, match):
        shared = _scope(entries_for_reader(reader=reader, whose="shared", **filters))
        parts = [(own, _BY_ROW, "ORDER BY created_at DESC"), (shared, _BY_ROW, "")]
    else:
        parts = [(_scope(entries_for_reader(reader=reader, **filters)), _BY_INDEX, "")]
    rank_sql, rank_params = rank or match
    return [
        (
            _CANDIDATE.format(rank=rank_sql, scope=scope_sql, condition=condition.format(match=match[0]), order=order),
            [WEIGHTS, *rank_params, *scope_params, *match[1], CANDIDATES + 1],
        )
        for (scope_sql, scope_params), condition, order in parts
    ]


def _scope(entries: QuerySet[Entry]) -> tuple[str, tuple[Any, ...]]:
    """The SQL of the entries a search may find (visibility and filters: the ORM's part)."""
    return entries.order_by().values("id", "updated_at", "created_at", "search_vector").query.sql_with_params()


# A candidate row. The condition is `ts_match_vq(...)` when rows are read newest first: it
# is the function behind @@, which the planner cannot take to the GIN index; `@@` itself
# when the index should be used.
_CANDIDATE = """
    SELECT id, updated_at, ts_rank(%s::real[], search_vector, {rank}) AS rank
    FROM ({scope}) entry WHERE {condition} {order} LIMIT %s
"""
_BY_ROW = "ts_match_vq(search_vector, {match})"
_BY_INDEX = "search_vector @@ {match}"
_PROBE = """
    SELECT count(*) FILTER (WHERE {condition}), count(*)
    FROM (SELECT search_vector FROM ({scope}) entry ORDER BY created_at DESC LIMIT %s) newest
"""


def _dense(own: tuple[str, tuple[Any, ...]], match: Query) -> bool:
    """Whether reading the reader's entries newest first finds the candidates within
    STREAM_ROWS rows, judged from the newest PROBE_ROWS (all of them in a small vault)."""
    (scope_sql, scope_params), (match_sql, match_params) = own, match
    with connection.cursor() as cursor:
        cursor.execute(
            _PROBE.format(condition=_BY_ROW.format(match=match_sql), scope=scope_sql),
            [*match_params, *scope_params, PROBE_ROWS],
        )
        hits, read = cursor.fetchone()
    return bool(read < PROBE_ROWS or hits * STREAM_ROWS >= (CANDIDATES + 1) * read)


def _without_exclusions(q: str) -> str:
    """Q without its `-word` and `-"some phrase"` parts."""
    return " ".join(re.sub(r'(?:^|\s)-(?:"[^"]*"?|\S+)', " ", q).split())


_PAGE = """
    WITH page AS (
        SELECT id, rank, updated_at, count(*) OVER () AS total
        FROM ({candidates}) candidate
        ORDER BY rank DESC, updated_at DESC, id
        LIMIT %s OFFSET %s
    )
    SELECT page.id, page.rank, page.total, entry.type, entry.title, entry.fields, entry.owner_id,
           ts_headline(%s::regconfig, entry.title, {tsquery}, %s),
           ts_headline(%s::regconfig, entry.content, {tsquery}, %s)
    FROM page JOIN entries_entry entry ON entry.id = page.id
    ORDER BY page.rank DESC, page.updated_at DESC, page.id
"""
_TITLE_OPTIONS = f"StartSel={_MARK_START}, StopSel={_MARK_END}, HighlightAll=true"
_SNIPPET_OPTIONS = f"StartSel={_MARK_START}, StopSel={_MARK_END}, MaxWords=35, MinWords=15, MaxFragments=2"


def _tsquery_sql(q: str, config: str) -> tuple[str, list[Any]]:
    """websearch syntax for the whole text, plus its last word as a prefix while typing:
    "lisbon tra" matches "Lisbon travel" (the last word as typed, or as a prefix)."""
    sql, params = "websearch_to_tsquery(%s::regconfig, %s)", [config, q]
    if (prefix := _prefix(q)) is not None:
        head, word = prefix
        word_sql, word_params = "to_tsquery(%s::regconfig, %s)", [config, f"{word}:*"]
        if head:
            word_sql, word_params = (
                f"(websearch_to_tsquery(%s::regconfig, %s) && {word_sql})",
                [config, head, *word_params],
            )
        sql, params = f"({sql} || {word_sql})", [*params, *word_params]
    return sql, params


def _hit(
    entry_id: uuid.UUID, rank: float, _total: int, entry_type: str, title: str, fields: str, _owner_id: uuid.UUID,
    title_marked: str, snippet: str | None,
) -> Hit:  # fmt: skip
    # ts_headline gives the content's opening words when the hit was elsewhere (title, tags);
    # a type whose words live in its fields shows those instead.
    snippet = snippet or ""
    if _MARK_START not in snippet and (field_text := _field_text(entry_type, json.loads(fields))):
        snippet = field_text[:240]
    return Hit(entry_id, entry_type, title, _marked(title_marked), _marked(snippet), round(rank, 4))


def _field_text(entry_type: str, fields: dict[str, Any]) -> str:
    if entry_type == "bookmark":
        return str(fields.get("description") or fields.get("url") or "")
    if entry_type == "contact":
        return " · ".join(filter(None, [fields.get("organisation"), *fields.get("emails", [])]))
    return str(fields.get("notes") or fields.get("description") or "")


def _split_words(q: str) -> tuple[list[str], list[str]]:
    """The words a query asks for and the ones it excludes (`-word`); `or` is an operator."""
    wanted, excluded = [], []
    for token in re.findall(r"-?\w+", q):
        if token.startswith("-"):
            excluded.append(token[1:])
        elif token.lower() != "or":
            wanted.append(token)
    return wanted, excluded


def _fuzzy(reader: User, q: str, scope: QuerySet[Entry], page_size: int, config: str) -> SearchPage:
    """Nothing matched as typed: entries whose title or tags are close to the wanted words
    ("did you mean"), still without any entry that has an excluded word."""
    wanted, excluded = _split_words(q)
    words = " ".join(wanted)
    if len(words) < 3:
        return SearchPage([], 0, False, False)
    if excluded:
        scope = scope.exclude(search_vector=SearchQuery(" or ".join(excluded), search_type="websearch", config=config))
    with transaction.atomic(), connection.cursor() as cursor:
        # %> is index-assisted (entry_title_trigram); 0.4 lets one or two typos through.
        cursor.execute("SET LOCAL pg_trgm.word_similarity_threshold = 0.4")
        tags = list(
            Tag.objects.filter(owner=reader, name__trigram_word_similar=words)
            .annotate(similarity=TrigramWordSimilarity(words, "name"))
            .order_by("-similarity")
            .values_list("id", "name", "similarity")[:5]
        )
        # Two index-friendly lookups rather than one OR across a join (which would scan).
        by_title = list(
            scope.filter(title__trigram_word_similar=words)
            .annotate(similarity=TrigramWordSimilarity(words, "title"))
            .order_by("-similarity", "-updated_at")
            .values_list("id", "type", "title", "similarity", "owner_id")[:page_size]
        )
        by_tag = list(
            scope.filter(entry_tags__tag_id__in=[tag_id for tag_id, _, _ in tags])
            .order_by("-updated_at")
            .values_list("id", "type", "title", "owner_id")[:page_size]
            if tags
            else []
        )
        others = {row[0] for row in by_title if row[4] != reader.id} | {row[0] for row in by_tag if row[3] != reader.id}
        best_tag = tags[0][2] if tags else 0.0
        seen: set[uuid.UUID] = set()
        close = []
        for entry_id, kind, title, similarity in [
            *((i, k, t, s) for i, k, t, s, _ in by_title),
            *((i, k, t, best_tag) for i, k, t, _ in by_tag),
        ]:
            if entry_id not in seen:
                seen.add(entry_id)
                close.append((entry_id, kind, title, similarity))
        close = sorted(close, key=lambda row: -row[3])[:page_size]
        results = [Hit(i, t, title, html.escape(title), "", round(s, 4)) for i, t, title, s in close]
    suggestion = _suggest(words, [title for _, _, title, _ in close], [name for _, name, _ in tags])
    if suggestion and excluded:
        suggestion = " ".join([suggestion, *(f"-{word}" for word in excluded)])
    shared = [str(hit.id) for hit in results if hit.id in others]
    return SearchPage(results, len(results), False, False, suggestion=suggestion, fuzzy=True, shared=shared)


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
