"""PostgreSQL refuses what RevisionPartQuerySet and RevisionPart refuse in Python for a revision's
audience versions and citations, which its content hash covers (the citations with the
bibliographic details they froze, `cited`): any change of a row, and the deletion of one whose
revision carries signed reviews. Deleting an unsigned draft article still deletes them. As
articles migration 0005 does for the revision itself; a no-op on SQLite (the Python guard covers
both)."""

from django.db import migrations

from config.migration_sql import on_postgresql

TABLES = ("articles_audiencevariant", "articles_citation")

FORWARD = """
CREATE OR REPLACE FUNCTION imprimatur_revision_part_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW IS DISTINCT FROM OLD THEN
            RAISE EXCEPTION '% rows are part of an immutable revision: row % of revision % cannot be changed',
                TG_TABLE_NAME, OLD.id, OLD.revision_id USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM reviewers_review WHERE revision_id = OLD.revision_id) THEN
        RAISE EXCEPTION '% row % belongs to revision %, which carries signed reviews, and cannot be deleted',
            TG_TABLE_NAME, OLD.id, OLD.revision_id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END;
$$;
""" + "".join(f"""
CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION imprimatur_revision_part_immutable();
""" for table in TABLES)

REVERSE = "".join(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};\n" for table in TABLES) + """
DROP FUNCTION IF EXISTS imprimatur_revision_part_immutable();
"""


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0008_plain_state_index"),
        ("reviewers", "0001_initial"),
    ]

    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(REVERSE), elidable=False)]
