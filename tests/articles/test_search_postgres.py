"""PostgreSQL full-text search over the live snapshots: the stored, GIN-indexed tsvector (English
stemming, title A > summary B > body C), websearch syntax, ts_headline snippets, and the
migration that fills the vectors of snapshots stored before."""

from __future__ import annotations

import pytest
from django.db import connection

from articles import search
from articles.models import Article, PublishedSnapshot
from governance.workflow import services
from tests.conftest import BODY, article_content

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_the_search_vector_is_gin_indexed():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'articles_snapshot_search_vector'")
        (definition,) = cursor.fetchone()
    assert "USING gin (search_vector)" in definition


def test_it_stems_english_and_weights_title_over_summary_over_body(make_article, drive):
    body_only = drive(make_article(title="Living well", summary="General advice.",
                                   body_markdown=BODY + "\nClinicians monitor kidneys closely [@trial2021].\n"),
                      "published")
    in_summary = drive(make_article(title="Medicines overview", summary="Monitoring the kidney."), "published")
    in_title = drive(make_article(title="Kidney monitoring", summary="A guide."), "published")

    ranked = list(search.ranked(Article.objects.all(), "kidney monitored").values_list("slug", flat=True))

    assert ranked == [in_title.slug, in_summary.slug, body_only.slug]  # "kidneys", "monitoring" stem alike


def test_it_understands_websearch_syntax_and_highlights_with_ts_headline(make_article, drive):
    article = drive(make_article(), "published")

    assert list(search.ranked(Article.objects.all(), '"cannot pump"').values_list("slug", flat=True)) == [article.slug]
    assert not search.ranked(Article.objects.all(), '"pump cannot"').exists()
    assert not search.ranked(Article.objects.all(), "pump -heart").exists()
    row = search.ranked(Article.objects.all(), "pump", headline=True).values("headline").get()
    assert "<mark>pump</mark>" in search.snippet(row["headline"], "pump")


def test_a_draft_is_never_in_the_vector(writer, make_article, drive):
    article = drive(make_article(), "published")
    services.article_edit(article=article, actor=writer, content=article_content(
        body_markdown=BODY + "\nZanzibarite [@trial2021].\n"), change_note="Unreviewed")
    make_article(title="Zanzibarite draft")
    assert not search.ranked(Article.objects.all(), "zanzibarite").exists()


def test_the_migration_fills_the_vectors_of_snapshots_stored_before(make_article, drive):
    from importlib import import_module

    from django.apps import apps
    from django.db import connection as conn

    article = drive(make_article(), "published")
    PublishedSnapshot.objects.filter(pk=article.live_snapshot_id).update(search_text="", search_vector=None)
    migration = import_module("articles.migrations.0011_publishedsnapshot_search")
    with conn.schema_editor() as editor:
        migration.backfill(apps, editor)
    snapshot = PublishedSnapshot.objects.get(pk=article.live_snapshot_id)
    assert "cannot pump" in snapshot.search_text
    assert search.ranked(Article.objects.all(), "pump").get() == article
