from django.db import migrations


class Migration(migrations.Migration):
    """The "did you mean" trigram index, scoped by owner like the search index (0006): on
    1,000,000 titles a typo search of the 100,000-entry user took 58 ms through the plain
    trigram index (every user's near titles, then rechecked) and 5.5 ms through this one
    (docs/benchmarks/search.md)."""

    dependencies = [
        ("entries", "0010_entry_conflict_of"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="entry", name="entry_title_trigram"),
        migrations.RunSQL(
            sql=r"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gin') THEN
        CREATE INDEX IF NOT EXISTS entry_owner_title_trigram ON entries_entry USING gin (owner_id, title gin_trgm_ops);
    ELSE
        CREATE INDEX IF NOT EXISTS entry_title_trigram_plain ON entries_entry USING gin (title gin_trgm_ops);
    END IF;
END $$;
""",
            reverse_sql="DROP INDEX IF EXISTS entry_owner_title_trigram; DROP INDEX IF EXISTS entry_title_trigram_plain;",
        ),
    ]
