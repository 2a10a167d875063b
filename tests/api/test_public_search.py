"""The article list's `q` is the public site's ranked search: approved text only, best match
first, pages followed through `next`; a bad cursor is a 400 naming it."""

from __future__ import annotations

from governance.workflow import services
from tests.conftest import BODY, article_content


def _slugs(site, **params):
    response = site.get("/api/v1/articles/", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_q_ranks_like_the_site_search_and_never_finds_a_draft(site, client, writer, make_article, drive):
    body_only = drive(make_article(title="Living well", summary="General advice.",
                                   body_markdown=BODY + "\nSome mention digoxin here [@trial2021].\n"), "published")
    in_summary = drive(make_article(title="Medicines overview", summary="Including digoxin."), "published")
    in_title = drive(make_article(title="Digoxin explained", summary="A medicine."), "published")
    services.article_edit(article=in_title, actor=writer, content=article_content(
        title="Digoxin explained", summary="A medicine.", body_markdown=BODY + "\nFlibbertigibbet [@trial2021].\n"),
        change_note="Unreviewed")

    results = [item["slug"] for item in _slugs(site, q="digoxin")["results"]]

    assert results == [in_title.slug, in_summary.slug, body_only.slug]
    page = client.get("/search/?q=digoxin").content.decode()
    assert [page.index(f'href="/articles/{slug}/"') for slug in results] == sorted(
        page.index(f'href="/articles/{slug}/"') for slug in results)
    assert _slugs(site, q="flibbertigibbet")["results"] == []


def test_q_pages_follow_next_and_a_bad_cursor_is_refused(site, make_article, drive):
    articles = [drive(make_article(title=f"Heart page {i}"), "published") for i in range(3)]

    first = _slugs(site, q="heart", page_size=2)
    second = site.get(first["next"]).json()

    seen = [item["slug"] for item in first["results"] + second["results"]]
    assert sorted(seen) == sorted(a.slug for a in articles) and second["next"] is None
    assert second["previous"] is not None
    refused = site.get("/api/v1/articles/", {"q": "heart", "cursor": "not-a-cursor"})
    assert refused.status_code == 400 and "cursor" in refused.json()["errors"]
