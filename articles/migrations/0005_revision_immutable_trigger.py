"""PostgreSQL refuses what Revision.save/delete and RevisionQuerySet refuse in Python: a change
of any column of a revision (its signed content), and the deletion of a revision that has
signed reviews. Deleting an unsigned draft article still deletes its revisions (commit
672efbc). A no-op on SQLite (the queryset guard covers both)."""

from django.db import migrations

from config.migration_sql import on_postgresql

# Every column of articles_revision but its id: nothing in a revision is ever updated.
COLUMNS = ("article_id", "number", "title", "summary", "body_markdown", "body_html", "origin", "change_note",
           "is_major_change", "content_hash", "created_by_id", "created_at")

FORWARD = f"""
CREATE OR REPLACE FUNCTION imprimatur_revision_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF ({", ".join("NEW." + c for c in COLUMNS)}) IS DISTINCT FROM ({", ".join("OLD." + c for c in COLUMNS)}) THEN
            RAISE EXCEPTION 'Revisions are immutable: revision % cannot be changed', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM reviewers_review WHERE revision_id = OLD.id) THEN
        RAISE EXCEPTION 'Revision % carries signed reviews and cannot be deleted', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER articles_revision_immutable BEFORE UPDATE OR DELETE ON articles_revision
    FOR EACH ROW EXECUTE FUNCTION imprimatur_revision_immutable();
"""

REVERSE = """
DROP TRIGGER IF EXISTS articles_revision_immutable ON articles_revision;
DROP FUNCTION IF EXISTS imprimatur_revision_immutable();
"""


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0004_publishedsnapshot_rendered"),
        ("reviewers", "0001_initial"),
    ]

    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(REVERSE), elidable=False)]
