"""The public site's settings (name, tagline, logo, disclaimer: one row, kept by the managing
editor), and the editorial policy's `#` headings: every stored version's HTML rendered again from
its Markdown with them kept (articles.content.render_document; the article sanitizer dropped the
<h1> element and left its words loose in the text). The Markdown, the version as published, is
unchanged."""

import articles.images
import governance.models
from django.db import migrations, models


def render_policies_again(apps, schema_editor):
    from articles.content import render_document

    EditorialPolicy = apps.get_model("governance", "EditorialPolicy")
    policies = EditorialPolicy.objects.using(schema_editor.connection.alias)
    for pk, markdown in policies.values_list("pk", "body_markdown"):
        policies.filter(pk=pk).update(body_html=render_document(markdown))


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0011_editorial_token'),
    ]

    operations = [
        migrations.CreateModel(
            name='SiteSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('site_name', models.CharField(default='Imprimatur health library', help_text="Shown in every page's header and title, the feeds and Open Graph tags.", max_length=120)),
                ('tagline', models.CharField(blank=True, default='Health information approved, word for word, by named clinicians.', help_text='One line under the name on the home page.', max_length=300)),
                ('logo', models.ImageField(blank=True, help_text='Optional: JPEG, PNG or WebP, at most 2 MB; shown beside the name.', upload_to='site/', validators=[articles.images.validate_web_image])),
                ('disclaimer', models.TextField(default=governance.models.default_disclaimer, help_text='Under every article and in the footer; newly published articles carry it in the public API too.')),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'site settings',
                'verbose_name_plural': 'site settings',
                'constraints': [models.CheckConstraint(condition=models.Q(('pk', 1)), name='site_settings_single_row')],
            },
        ),
        migrations.RunPython(render_policies_again, migrations.RunPython.noop),
    ]
