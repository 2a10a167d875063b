"""PublishedSnapshot.newest_reference_year: the newest dated reference a snapshot's revision cites,
written with the snapshot from now on and filled in here for the snapshots already stored (one
UPDATE with a correlated subquery on the citations' revision index)."""

from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery


def backfill(apps, schema_editor):
    PublishedSnapshot = apps.get_model("articles", "PublishedSnapshot")
    Citation = apps.get_model("articles", "Citation")
    newest = (Citation.objects.filter(revision_id=OuterRef("revision_id"), reference__year__isnull=False)
              .order_by().values("revision_id").annotate(newest=Max("reference__year")).values("newest"))
    PublishedSnapshot.objects.using(schema_editor.connection.alias).update(newest_reference_year=Subquery(newest))


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0005_revision_immutable_trigger"),
    ]

    operations = [
        migrations.AddField(
            model_name="publishedsnapshot",
            name="newest_reference_year",
            field=models.PositiveSmallIntegerField(
                blank=True, db_index=True, null=True,
                help_text="The year of the newest dated reference the published revision cites (none dated: "
                          "empty). Written with the snapshot; the evidence report's 'old evidence' list reads it."),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
