"""Keywords leave out the parts every web address has ("https", "www", "com"...): with them
every bookmark and login was "related" to every other."""

import importlib
from typing import Any

from django.db import migrations, transaction

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
# the change feed), for the entries whose keywords hold one of these parts: a thousand rows
# a transaction, so that a big table is never locked for long (the new keywords leave the
# set, so each batch finds the next).
REKEY = """
UPDATE entries_entry SET search_vector = NULL
WHERE id IN (
    SELECT id FROM entries_entry
    WHERE keywords::text[] && ARRAY['http', 'https', 'www', 'com', 'org', 'net', 'html', 'htm', 'php', 'index']
    LIMIT 1000
)
"""


def rekey(apps: object, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        while True:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute(REKEY)
            if cursor.rowcount == 0:
                return


def _before() -> str:
    """Migration 0013's functions, for going back."""
    return str(importlib.import_module("entries.migrations.0013_search_password_and_contact_fields").SEARCH_FUNCTIONS)


class Migration(migrations.Migration):
    atomic = False  # the re-key commits batch by batch
    dependencies = [
        ("entries", "0013_search_password_and_contact_fields"),
    ]

    operations = [
        migrations.RunSQL(sql=KEYWORDS, reverse_sql=_before()),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
