"""Citation.cited: the bibliographic details as each revision cited them, frozen with the revision.

Citations stored before this migration get their reference's details as they are now: the best
record there is (a correction made earlier through a later revision had already overwritten the
shared row). On PostgreSQL one UPDATE … FROM; elsewhere (the embedded SQLite default) row by row."""

from django.db import migrations, models

FIELDS = ("kind", "title", "authors", "container", "year", "doi", "pmid", "pmcid", "url")


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        pairs = ", ".join(f"'{name}', r.{name}" for name in FIELDS)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE articles_citation c SET cited = jsonb_build_object({pairs}) "
                           "FROM articles_reference r WHERE r.id = c.reference_id")
        return
    Citation = apps.get_model("articles", "Citation")
    batch = []
    for citation in Citation.objects.using(connection.alias).select_related("reference").iterator(chunk_size=2000):
        citation.cited = {name: getattr(citation.reference, name) for name in FIELDS}
        citation.cited["authors"] = list(citation.cited["authors"] or [])
        batch.append(citation)
        if len(batch) == 2000:
            Citation.objects.using(connection.alias).bulk_update(batch, ["cited"])
            batch = []
    Citation.objects.using(connection.alias).bulk_update(batch, ["cited"])


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0006_publishedsnapshot_newest_reference_year"),
    ]

    operations = [
        migrations.AddField(
            model_name="citation",
            name="cited",
            field=models.JSONField(
                blank=True, default=dict,
                help_text="The reference's bibliographic fields (kind, title, authors, container, year, DOI, PMID, "
                          "PMCID, URL) as this revision cited them, frozen when the revision was written."),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
