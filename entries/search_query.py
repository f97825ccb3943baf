"""The query text of a search: cleaning it, saying why it cannot run, and turning it into
the tsquery SQL that search_entries matches and ranks with (entries/search.py)."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

_LAST_WORD = re.compile(r"(\w+)$")


_LONE_DASHES = re.compile(r"(?<!\S)-+(?!\S)")
ONLY_EXCLUSIONS = "Add a word to look for: -word only leaves words out."


def clean_query(q: str) -> str:
    """Whitespace collapsed, a dash with no word on it dropped ("- budget" is "budget"), and
    a trailing `*` (the wildcard people type) dropped: the last word is matched as a prefix
    anyway."""
    words = " ".join(_LONE_DASHES.sub(" ", q).split()) or " ".join(q.split())  # "-" alone stays
    return words.rstrip("* ")


EMPTY_QUERY = "Type something to search for."
NO_WORD = "Type a word to search for: this has no letters or digits."
_WORD_CHARACTER = re.compile(r"[^\W_]")


def query_problem(q: str) -> str | None:
    """Why a cleaned query cannot be searched for (empty, no word in it, or only words left
    out), or None. Everything else, stop words and stray operators included, is searched."""
    if not q:
        return EMPTY_QUERY
    if not _WORD_CHARACTER.search(q):
        return NO_WORD
    return ONLY_EXCLUSIONS if only_exclusions(q) else None


def only_exclusions(q: str) -> bool:
    """Whether Q only leaves words out ("-budget"): it would find everything else, unranked."""
    return bool(q.strip()) and not without_exclusions(q).strip(' "')


def being_typed(q: str) -> tuple[str, str] | None:
    """(the words before, the last word) when the last word is still being typed."""
    last = _LAST_WORD.search(q)
    if last and not q.endswith((" ", '"')) and not q[: last.start()].rstrip().endswith("-"):
        return q[: last.start()].strip(), last.group(1)
    return None


def without_exclusions(q: str) -> str:
    """Q without its `-word` and `-"some phrase"` parts."""
    return " ".join(re.sub(r'(?:^|\s)-(?:"[^"]*"?|\S+)', " ", q).split())


# The word being typed, as a prefix. A stop word of the reader's language ("the", "me",
# "to") has no lexeme there, yet starts many words ("theatre", "meeting", "todo"): its
# prefix is then taken as typed, lower-cased but not stemmed. After other words it does
# not narrow them ("lisbon the" finds every Lisbon entry, the theatre first): the stop
# word may be a whole word, which a search leaves out.
_STARTS_WITH = (
    "CASE WHEN numnode(to_tsquery(%s::regconfig, %s)) > 0 THEN to_tsquery(%s::regconfig, %s)"
    " ELSE to_tsquery('simple', %s) END"
)


def tsquery_sql(q: str, config: str, *, typing: bool = True) -> tuple[str, list[Any]]:
    """websearch syntax for the whole text, plus its last word as a prefix while TYPING it:
    "lisbon tra" matches "Lisbon travel" (the last word as typed, or as a prefix)."""
    sql, params = "websearch_to_tsquery(%s::regconfig, %s)", [config, q]
    if typing and (prefix := being_typed(q)) is not None:
        head, word = prefix
        word_sql, word_params = _STARTS_WITH, [config, f"{word}:*", config, f"{word}:*", f"{word}:*"]
        if head:
            word_sql, word_params = (
                f"(websearch_to_tsquery(%s::regconfig, %s) && {word_sql})",
                [config, head, *word_params],
            )
            if _may_become_stop_word(word, config):
                # "meeting wi" on its way to "with", which no vector holds: as a whole stop
                # word would, it leaves the words before it as they are (ranked higher where
                # a word does start with it).
                word_sql, word_params = (
                    f"({word_sql} || websearch_to_tsquery(%s::regconfig, %s))",
                    [*word_params, config, head],
                )
        sql, params = f"({sql} || {word_sql})", [*params, *word_params]
    return sql, params


_STOP_WORDS = Path(__file__).resolve().parent / "stopwords"


@functools.lru_cache(maxsize=64)
def _stop_words(config: str) -> frozenset[str]:
    """The stop words of a text search configuration, from PostgreSQL's own lists (copied into
    entries/stopwords: SQL cannot read them); none for a configuration without a list."""
    path = _STOP_WORDS / f"{config}.stop"
    if not config.isidentifier() or not path.is_file():
        return frozenset()
    return frozenset(word for line in path.read_text(encoding="utf-8").splitlines() if (word := line.strip()))


def _may_become_stop_word(word: str, config: str) -> bool:
    """Whether WORD, still being typed, is the start of one of the language's stop words."""
    word = word.lower()
    return any(stop.startswith(word) and stop != word for stop in _stop_words(config))


def split_words(q: str) -> tuple[list[str], list[str]]:
    """The words a query asks for and the ones it excludes (`-word`); `or` is an operator."""
    wanted, excluded = [], []
    for token in re.findall(r"-?\w+", q):
        if token.startswith("-"):
            excluded.append(token[1:])
        elif token.lower() != "or":
            wanted.append(token)
    return wanted, excluded
