"""The public article page is served from its stored snapshot in one query, its 304 too, whatever
the article carries (reviewers, audience versions, figures, a retracted source) and however many
articles there are; the ETag moves when a fact it shows beside the approved text changes."""

from __future__ import annotations

import pytest

from articles.models import Reference
from governance.workflow import services
from governance.workflow.services import VariantInput
from governance.workflow.site import site_settings_update
from tests.articles.figure_helpers import with_figure

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _small(make_article, drive):
    return drive(make_article(title="Small article"), "published")


def _large(make_article, drive, writer, board, chief):
    """More of everything the page shows: three signed reviewers (AI-assisted: one more approval),
    an audience version, a figure and a reference found retracted after publication; and more
    articles around it."""
    for i in range(3):
        drive(make_article(title=f"Neighbour {i}"), "published")
    patient = VariantInput("patient", "For patients [@trial2021] [@nice2018].", "Short.")
    article = make_article(title="Large article", origin="ai_assisted", variants=[patient])
    article, _ = with_figure(article, writer)
    article = drive(article, "published", reviewers=board)
    Reference.objects.filter(doi="10.1056/nejmoa0000001").update(retraction_status="retracted")
    return article


@pytest.mark.parametrize("size", ["small", "large"])
def test_the_article_page_and_its_304_cost_one_query(client, make_article, drive, writer, board, chief, size,
                                                     django_assert_num_queries):
    article = _small(make_article, drive) if size == "small" else _large(make_article, drive, writer, board, chief)
    path = f"/articles/{article.slug}/"
    client.get(path)  # warm: SQLite's JSON support is probed once per connection
    with django_assert_num_queries(1):
        page = client.get(path)
    assert page.status_code == 200 and page["ETag"]
    with django_assert_num_queries(1):
        again = client.get(path, HTTP_IF_NONE_MATCH=page["ETag"])
    assert again.status_code == 304
    with django_assert_num_queries(1):
        assert client.get(path + "?audience=patient").status_code == 200
    html = page.content.decode()
    if size == "large":
        assert 'alt="A bar chart of blood pressure"' in html
        assert html.count('href="/board/') >= 3  # each approving reviewer linked to their profile
        assert html.count("[Retracted]") == 1  # found retracted after publication: read by the same query


def test_the_pages_etag_follows_the_site_settings_the_policy_and_the_reviewers(client, make_article, drive, chief,
                                                                                board):
    article = drive(make_article(), "published")
    path = f"/articles/{article.slug}/"
    first = client.get(path)
    site_settings_update(actor=chief, changes={"site_name": "Heart library"})
    renamed = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert renamed.status_code == 200 and "Heart library" in renamed.content.decode()
    board[0].is_active = False
    board[0].save(update_fields=["is_active"])  # left the board: no profile to link any more
    left = client.get(path, HTTP_IF_NONE_MATCH=renamed["ETag"])
    assert left.status_code == 200
    assert f'href="/board/{board[0].slug}/"' not in left.content.decode()


def test_a_withdrawn_article_answers_410_from_the_same_query(client, make_article, drive, chief,
                                                             django_assert_num_queries):
    article = drive(make_article(), "published")
    services.article_withdraw(article=article, actor=chief, reason="Superseded")
    client.get(f"/articles/{article.slug}/")  # warm, as above
    with django_assert_num_queries(1):
        assert client.get(f"/articles/{article.slug}/").status_code == 410
