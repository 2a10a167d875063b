"""PublishedSnapshot.review_reason: why a re-review of a live text is open, other than its date
(the public API's `review_reason`, behind `review_status: under_review`). Filled in here for the
live snapshots already stored that cite a retracted reference (the retraction watch sent them
for re-review): one UPDATE. An earlier request of the managing editor left no mark to read."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    PublishedSnapshot = apps.get_model("articles", "PublishedSnapshot")
    Article = apps.get_model("articles", "Article")
    live_citing_retracted = Article.objects.filter(
        live_snapshot__revision__citations__reference__retraction_status="retracted").values("live_snapshot_id")
    (PublishedSnapshot.objects.using(schema_editor.connection.alias)
     .filter(pk__in=live_citing_retracted).update(review_reason="reference_retracted"))


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0009_revision_parts_immutable_trigger"),
    ]

    operations = [
        migrations.AddField(
            model_name="publishedsnapshot",
            name="review_reason",
            field=models.CharField(
                blank=True, default="", max_length=24,
                choices=[("reference_retracted", "A source it cites was retracted"),
                         ("editor_request", "The editors asked the board to check it again")],
                help_text="Why a re-review of this text is open, other than its date (empty: none). Read with "
                          "the text when serving, so the public status costs no query; a new publication starts "
                          "empty."),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
