"""Keywords leave out the parts every web address has ("https", "www", "com"...): with them
every bookmark and login was "related" to every other."""

import importlib

from django.db import migrations

KEYWORDS = r"""
CREATE OR REPLACE FUNCTION entries_keywords(v tsvector) RETURNS varchar(100)[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(lexeme::varchar(100) ORDER BY score DESC, lexeme), '{}')
    FROM (
        SELECT lexeme,
               (SELECT sum(CASE w WHEN 'A' THEN 4 WHEN 'B' THEN 2 ELSE 1 END) FROM unnest(weights) w) AS score
        FROM unnest(v)
        WHERE length(lexeme) > 2 AND lexeme ~ '[[:alpha:]]'
          AND NOT lexeme = ANY(ARRAY['http', 'https', 'www', 'com', 'org', 'net', 'html', 'htm', 'php', 'index'])
        ORDER BY score DESC, lexeme
        LIMIT 8
    ) top
$$;
"""

# Recomputed by the refresh_search trigger (a derived column: no new updated_at, nothing in
# the change feed), for the entries whose keywords hold one of these parts.
REKEY = """
UPDATE entries_entry SET search_vector = NULL
WHERE keywords::text[] && ARRAY['http', 'https', 'www', 'com', 'org', 'net', 'html', 'htm', 'php', 'index'];
"""


def _before() -> str:
    """Migration 0013's functions, for going back."""
    return str(importlib.import_module("entries.migrations.0013_search_password_and_contact_fields").SEARCH_FUNCTIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("entries", "0013_search_password_and_contact_fields"),
    ]

    operations = [
        migrations.RunSQL(sql=KEYWORDS + REKEY, reverse_sql=_before()),
    ]
