"""Tag slugs keep "+" and "#" after a letter or digit: "C++", "C#" and "C" were all `c`, so
a second of them was merged into the first. "#urgent" stays `urgent`, as "urgent" is.

The rule is one function now, which the trigger and entries.services.common.slugs_for share.
Existing slugs are re-made one tag at a time: one that would now equal another of its
owner's keeps its old slug (the two were apart before, and stay apart).
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

SLUG_FUNCTION = r"""
CREATE OR REPLACE FUNCTION entries_tag_slug(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(
        nullif(trim(both '-' from regexp_replace(
            regexp_replace(regexp_replace(regexp_replace(lower(name),
                '([[:alnum:]])\+\+', '\1 plusplus ', 'g'),
                '([[:alnum:]])\+', '\1 plus ', 'g'),
                '([[:alnum:]])#', '\1 sharp ', 'g'),
            '[^[:alnum:]]+', '-', 'g')), ''),
        -- A name with no letters or digits ("!!!") gets one from its hash, not a shared "tag".
        'tag-' || left(md5(name), 8))
$$;
"""

# The trigger makes each slug again; a tag whose new slug another of its owner's holds keeps its own.
RESLUG = """
DO $$
DECLARE tag_id uuid;
BEGIN
    FOR tag_id IN SELECT id FROM entries_tag WHERE slug <> entries_tag_slug(name) LOOP
        BEGIN
            UPDATE entries_tag SET slug = '' WHERE id = tag_id;
        EXCEPTION WHEN unique_violation THEN
            NULL;
        END;
    END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("entries", "0014_keywords_leave_out_address_parts"),
    ]

    operations = [
        migrations.RunSQL(sql=SLUG_FUNCTION, reverse_sql=migrations.RunSQL.noop),
        pgtrigger.migrations.RemoveTrigger(
            model_name="tag",
            name="generate_slug",
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="tag",
            trigger=pgtrigger.compiler.Trigger(
                name="generate_slug",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n                    NEW.slug := entries_tag_slug(NEW.name);\n                    RETURN NEW;\n                ",
                    hash="499b7f35b5c6bb40fc26d0a4687fff03f0999b14",
                    operation="INSERT OR UPDATE",
                    pgid="pgtrigger_generate_slug_6ec6a",
                    table="entries_tag",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunSQL(sql=RESLUG, reverse_sql=migrations.RunSQL.noop),
    ]
