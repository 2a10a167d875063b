"""Board members' public profiles (/board/<slug>/): a slug, derived from the printed name for the
members already on the board (deduplicated with -2, -3… in id order), then made unique; and an
optional photo, stored through Django's storage API."""

import articles.images
from django.db import migrations, models
from django.utils.text import slugify


def fill_slugs(apps, schema_editor):
    BoardMember = apps.get_model("reviewers", "BoardMember")
    members = BoardMember.objects.using(schema_editor.connection.alias)
    taken: set[str] = set()
    for member in members.order_by("pk"):
        base = slugify(member.printed_name)[:190] or "member"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        members.filter(pk=member.pk).update(slug=slug)


class Migration(migrations.Migration):

    dependencies = [
        ("reviewers", "0006_credentials_verified_and_declarations_ended"),
    ]

    operations = [
        migrations.AddField(
            model_name="boardmember",
            name="photo",
            field=models.ImageField(blank=True, help_text="Optional portrait for the public profile: JPEG, PNG or WebP, at most 2 MB. Set by the managing editor.", upload_to="board/", validators=[articles.images.validate_web_image]),
        ),
        migrations.AddField(
            model_name="boardmember",
            name="slug",
            field=models.SlugField(blank=True, default="", max_length=200, db_index=False),
            preserve_default=False,
        ),
        migrations.RunPython(fill_slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="boardmember",
            name="slug",
            field=models.SlugField(blank=True, help_text="The address of the public profile, /board/<slug>/. Leave empty to derive it from the printed name; keep it once published, links point at it.", max_length=200, unique=True),
        ),
    ]
