"""PostgreSQL refuses what Review.save/delete and ReviewQuerySet refuse in Python: a signed
review is never deleted and never changed, except once to void it (voided_at and void_reason,
set together by services._void_approvals; a voided review stays voided). A no-op on SQLite."""

from django.db import migrations

from config.migration_sql import on_postgresql

# Every column of reviewers_review but its id and the two void columns.
SIGNATURE = ("cycle_id", "assignment_id", "article_id", "revision_id", "reviewer_id", "decision", "comments",
             "signed_name", "signed_credentials", "signed_specialties", "signed_username", "signed_at", "meaning",
             "revision_hash")


def _row(prefix, columns):
    return ", ".join(f"{prefix}.{c}" + ("::text" if c == "signed_specialties" else "") for c in columns)


FORWARD = f"""
CREATE OR REPLACE FUNCTION imprimatur_review_signature_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Review % is a signature and cannot be deleted', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF ({_row("NEW", SIGNATURE)}) IS DISTINCT FROM ({_row("OLD", SIGNATURE)}) THEN
        RAISE EXCEPTION 'Review % is a signature: only voiding it changes it', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.voided_at IS NOT NULL AND (NEW.voided_at, NEW.void_reason) IS DISTINCT FROM (OLD.voided_at, OLD.void_reason) THEN
        RAISE EXCEPTION 'Review % is already voided', OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER reviewers_review_signature_immutable BEFORE UPDATE OR DELETE ON reviewers_review
    FOR EACH ROW EXECUTE FUNCTION imprimatur_review_signature_immutable();
"""

REVERSE = """
DROP TRIGGER IF EXISTS reviewers_review_signature_immutable ON reviewers_review;
DROP FUNCTION IF EXISTS imprimatur_review_signature_immutable();
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reviewers", "0003_assignment_board_activity_index"),
    ]

    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(REVERSE), elidable=False)]
