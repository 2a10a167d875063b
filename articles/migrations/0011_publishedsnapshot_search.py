"""Full-text search over the published snapshots (articles.search): each snapshot's approved body
as plain text (`search_text`, filled in here for the snapshots already stored, from their stored
documents) and, on PostgreSQL, its English tsvector (`search_vector`: title A, summary B, body C),
built for every snapshot in one UPDATE and GIN-indexed. SQLite gets the text column only (no GIN:
its search reads the text)."""

import django.contrib.postgres.search
from django.db import migrations, models

from config.migration_sql import on_postgresql

BATCH = 2000

CREATE_INDEX = ("CREATE INDEX IF NOT EXISTS articles_snapshot_search_vector "
                "ON articles_publishedsnapshot USING gin (search_vector)")
DROP_INDEX = "DROP INDEX IF EXISTS articles_snapshot_search_vector"


def backfill(apps, schema_editor):
    from articles.search import index_snapshots, search_text_of

    PublishedSnapshot = apps.get_model("articles", "PublishedSnapshot")
    snapshots = PublishedSnapshot.objects.using(schema_editor.connection.alias)
    ids = list(snapshots.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        batch = list(snapshots.filter(pk__in=ids[start:start + BATCH]).only("pk", "document", "variant_documents"))
        for snapshot in batch:
            snapshot.search_text = search_text_of(snapshot.document or {}, snapshot.variant_documents or {})
        snapshots.bulk_update(batch, ["search_text"])
        index_snapshots([snapshot.pk for snapshot in batch])


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0010_publishedsnapshot_review_reason'),
    ]

    operations = [
        migrations.AddField(
            model_name='publishedsnapshot',
            name='search_text',
            field=models.TextField(blank=True, default='', help_text="The approved body as plain text (the main text and every audience version), written with the snapshot: what the public site's search and the API's `q` read (articles.search)."),
        ),
        migrations.AddField(
            model_name='publishedsnapshot',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(on_postgresql(CREATE_INDEX), on_postgresql(DROP_INDEX)),
    ]
