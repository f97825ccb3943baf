"""Words in angle brackets are indexed: PostgreSQL's parser took "<div>", "<T>" or
"<!-- note -->" for an HTML tag and dropped its words, and notes are Markdown and code,
not HTML. The search document turns '<' and '>' into spaces; entries that have one are
re-indexed, a thousand a transaction."""

import importlib
import re
from typing import Any

from django.db import migrations, transaction

SEARCH_DOCUMENT = r"""
CREATE OR REPLACE FUNCTION entries_search_document(
    p_id uuid, p_owner uuid, p_title text, p_content text, p_type text, p_fields jsonb, p_category uuid
) RETURNS tsvector LANGUAGE plpgsql STABLE AS $$
DECLARE
    cfg regconfig := 'english';
    tag_text text;
    category_text text;
    field_text text;
BEGIN
    BEGIN
        SELECT search_language::regconfig INTO STRICT cfg FROM accounts_user WHERE id = p_owner;
    EXCEPTION WHEN others THEN
        cfg := 'english';
    END;
    SELECT string_agg(t.name, ' ') INTO tag_text
        FROM entries_entrytag et JOIN entries_tag t ON t.id = et.tag_id WHERE et.entry_id = p_id;
    SELECT name INTO category_text FROM entries_category WHERE id = p_category;
    -- An address is indexed whole and in words ("example.com" and "example", "com").
    field_text := CASE p_type
        WHEN 'bookmark' THEN concat_ws(' ', p_fields->>'url',
            regexp_replace(coalesce(p_fields->>'url', ''), '[^[:alnum:]]+', ' ', 'g'), p_fields->>'description')
        WHEN 'password' THEN concat_ws(' ', p_fields->>'username', p_fields->>'url',
            regexp_replace(coalesce(p_fields->>'url', ''), '[^[:alnum:]]+', ' ', 'g'), p_fields->>'notes')
        WHEN 'contact' THEN concat_ws(' ', p_fields->>'name', p_fields->>'organisation',
            (SELECT string_agg(e, ' ') FROM jsonb_array_elements_text(coalesce(p_fields->'emails', '[]')) e),
            (SELECT string_agg(a, ' ') FROM jsonb_array_elements_text(coalesce(p_fields->'addresses', '[]')) a),
            (SELECT string_agg(p, ' ') FROM jsonb_array_elements_text(coalesce(p_fields->'phones', '[]')) p))
        WHEN 'task' THEN p_fields->>'notes'
        WHEN 'document' THEN p_fields->>'description'
        ELSE ''
    END;
    -- Content beyond 200,000 characters is not indexed (docs/architecture.md, "Search").
    -- '<' and '>' become spaces: the parser takes "<div>" or "<!-- note -->" for an HTML tag
    -- and drops its words, and these are notes (Markdown, code), not HTML.
    RETURN setweight(to_tsvector(cfg, translate(coalesce(p_title, ''), '<>', '  ')), 'A')
        || setweight(to_tsvector(cfg, translate(concat_ws(' ', tag_text, category_text), '<>', '  ')), 'B')
        || setweight(to_tsvector(cfg, translate(concat_ws(' ', left(p_content, 200000), field_text), '<>', '  ')), 'C');
END $$;
"""

# Recomputed by the refresh_search trigger (a derived column: no new updated_at, nothing in
# the change feed), in id order, so that a big table is never locked for long.
REINDEX = """
UPDATE entries_entry SET search_vector = NULL
WHERE id IN (
    SELECT id FROM entries_entry
    WHERE id > %s AND (strpos(title, '<') > 0 OR strpos(content, '<') > 0 OR strpos(fields::text, '<') > 0)
    ORDER BY id LIMIT 1000
)
RETURNING id
"""


def reindex(apps: object, schema_editor: Any) -> None:
    after = "00000000-0000-0000-0000-000000000000"
    with schema_editor.connection.cursor() as cursor:
        while True:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute(REINDEX, [after])
                done = [row[0] for row in cursor.fetchall()]
            if not done:
                return
            after = str(max(done))


def _before() -> str:
    """Migration 0013's search document, for going back."""
    functions = importlib.import_module("entries.migrations.0013_search_password_and_contact_fields").SEARCH_FUNCTIONS
    found = re.search(r"CREATE OR REPLACE FUNCTION entries_search_document\(.*?END \$\$;", functions, re.S)
    assert found is not None
    return found.group(0)


class Migration(migrations.Migration):
    atomic = False  # the re-index commits batch by batch
    dependencies = [
        ("entries", "0015_tag_slugs_keep_plus_and_sharp"),
    ]

    operations = [
        migrations.RunSQL(sql=SEARCH_DOCUMENT, reverse_sql=_before()),
        migrations.RunPython(reindex, reindex),
    ]
