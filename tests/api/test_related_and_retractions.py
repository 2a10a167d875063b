"""What a stored document shows about other things than its approved text: the related articles
(their live, approved titles only) and each reference's retraction status, kept current on the
live snapshots, on both of the API's paths."""

from __future__ import annotations

import pytest

from articles.api import public
from governance import services, snapshots
from tests.conftest import article_content

DETAIL = "/api/v1/articles/{}/"


@pytest.fixture(params=["fast", "drf"])
def path(request, monkeypatch):
    if request.param == "drf":
        monkeypatch.setattr(public.PublicView, "fast_path", False)
    return request.param


def _related(site, slug):
    response = site.get(DETAIL.format(slug))
    assert response.status_code == 200
    return response.content.decode(), response.json()["related"]


def test_it_links_related_articles_by_their_approved_title_never_a_draft(site, path, make_article, drive, writer):
    b = drive(make_article(title="Heart failure medicines"), "published")
    a = make_article(title="Living with heart failure")
    a.related.add(b)
    services.article_edit(article=b, actor=writer, content=article_content(title="DRAFT unreviewed title"))
    a = drive(a, "published")

    text, related = _related(site, a.slug)

    assert "DRAFT unreviewed title" not in text
    assert related == [{"slug": b.slug, "title": "Heart failure medicines", "url": snapshots.article_api_url(b.slug)}]
    assert "DRAFT unreviewed title" not in a.live_snapshot.rendered_document


def test_it_leaves_out_related_articles_that_are_not_live(site, path, make_article, drive):
    draft = make_article(title="Never published")
    a = make_article(title="Living with heart failure")
    a.related.add(draft)
    a = drive(a, "published")

    text, related = _related(site, a.slug)

    assert related == [] and "Never published" not in text


def test_it_updates_and_drops_the_link_when_the_related_article_changes_live(site, path, make_article, drive,
                                                                             writer, chief):
    b = drive(make_article(title="Heart failure medicines"), "published")
    a = make_article(title="Living with heart failure")
    a.related.add(b)
    a = drive(a, "published")
    etag = site.get(DETAIL.format(a.slug))["ETag"]

    b = services.article_edit(article=b, actor=writer, content=article_content(title="Medicines for heart failure"),
                          change_note="Retitled", is_major_change=True)
    b = drive(b, "published")
    _, related = _related(site, a.slug)
    assert [r["title"] for r in related] == ["Medicines for heart failure"]
    assert site.get(DETAIL.format(a.slug))["ETag"] != etag
    assert site.get(DETAIL.format(a.slug), HTTP_IF_NONE_MATCH=etag).status_code == 200

    services.article_withdraw(article=b, actor=chief, reason="Superseded")
    text, related = _related(site, a.slug)
    assert related == [] and b.slug not in text
