"""Search also finds a login's username, address and notes, and a contact's postal
addresses and phone numbers (the web page's search help promised them). Keywords are
words: no more "-2027" from "2026-2027".

A login's secret and one-time-password seed never reach `fields` (they are sealed:
entries.schemas.SECRET_FIELDS), and a sensitive entry keeps all of its fields sealed, so
nothing secret can reach the vector.
"""

import importlib

from django.db import migrations

SEARCH_FUNCTIONS = r"""
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
    RETURN setweight(to_tsvector(cfg, coalesce(p_title, '')), 'A')
        || setweight(to_tsvector(cfg, concat_ws(' ', tag_text, category_text)), 'B')
        || setweight(to_tsvector(cfg, concat_ws(' ', left(p_content, 200000), field_text)), 'C');
END $$;

-- The entry's top words (weight A counts 4, B 2, C 1 per occurrence): for "related entries".
CREATE OR REPLACE FUNCTION entries_keywords(v tsvector) RETURNS varchar(100)[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(lexeme::varchar(100) ORDER BY score DESC, lexeme), '{}')
    FROM (
        SELECT lexeme,
               (SELECT sum(CASE w WHEN 'A' THEN 4 WHEN 'B' THEN 2 ELSE 1 END) FROM unnest(weights) w) AS score
        FROM unnest(v)
        WHERE length(lexeme) > 2 AND lexeme ~ '[[:alpha:]]'
        ORDER BY score DESC, lexeme
        LIMIT 8
    ) top
$$;
"""

# Vectors and keywords are recomputed by the refresh_search trigger (derived columns: not a
# change anyone made, so no new updated_at and nothing in the change feed).
REINDEX = "UPDATE entries_entry SET search_vector = NULL WHERE type IN ('password', 'contact');"
REKEY = (
    "UPDATE entries_entry SET search_vector = NULL"
    " WHERE EXISTS (SELECT 1 FROM unnest(keywords) word WHERE word !~ '[[:alpha:]]');"
)


def _before() -> str:
    """Migration 0003's functions, for going back."""
    return str(importlib.import_module("entries.migrations.0003_search_vector_keywords_and_indexes").SEARCH_FUNCTIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("entries", "0012_entry_created_at_per_owner_only"),
    ]

    operations = [
        migrations.RunSQL(sql=SEARCH_FUNCTIONS + REINDEX + REKEY, reverse_sql=_before() + REINDEX),
    ]
