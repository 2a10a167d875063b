"""Query counts on the hot pages, each measured at two data sizes: a count that grows with the
data is an N+1, whatever its absolute value. Each page is fetched once first (the session, the
per-request caches warm) and its status checked, so an error page cannot pass for a cheap one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from governance.workflow import services
from reviewers.models import ReviewAssignment
from tests.api.conftest import token_client
from tests.conftest import article_content
from tests.factories import PASSWORD


def queries(client, url: str, **extra) -> int:
    client.get(url, **extra)  # warm: session, site settings, the per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def content_citing(n: int, title: str):
    """An article citing `n` references (each cited once)."""
    references = [{"key": f"ref{i}", "kind": "research", "title": f"Trial number {i} in heart failure",
                   "authors": ["Smith J", f"Author {i}"], "container": "BMJ", "year": 2020,
                   "doi": f"10.1136/bmj.q{abs(hash(title)) % 10_000}{i}"} for i in range(n)]
    body = "## What it is\n\n" + " ".join(f"Claim {i} [@ref{i}]." for i in range(n)) + "\n"
    return {"title": title, "body_markdown": body, "references": references}


@pytest.fixture
def catalogue(make_article, drive):
    """`grow(n)`: n more articles, in every state a list shows (draft, in review, published)."""
    made: list[Article] = []

    def grow(n: int) -> list[Article]:
        for i in range(len(made), len(made) + n):
            state = ("draft", "in_review", "published")[i % 3]
            made.append(drive(make_article(title=f"Heart failure, part {i}"), state))
        return made

    return grow


@pytest.fixture
def big_article(make_article, drive, board):
    """A published article with 2 references, and one with 6."""
    def make(size: str) -> Article:
        n = 2 if size == "small" else 6
        return drive(make_article(**content_citing(n, f"A {size} article")), "published")

    return make


def test_the_editorial_api_list_is_flat(catalogue, chief):
    client = token_client(chief)
    catalogue(3)
    few = queries(client, "/api/v1/editorial/articles/")
    catalogue(6)
    assert queries(client, "/api/v1/editorial/articles/") == few


def test_the_editorial_api_detail_is_flat(big_article, chief):
    client = token_client(chief)
    small, big = big_article("small"), big_article("big")
    assert queries(client, f"/api/v1/editorial/articles/{big.slug}/") == queries(
        client, f"/api/v1/editorial/articles/{small.slug}/")


def test_the_public_article_page_is_flat(client, big_article):
    small, big = big_article("small"), big_article("big")
    big.related.add(small)
    assert queries(client, f"/articles/{big.slug}/") == queries(client, f"/articles/{small.slug}/")


def test_the_admin_article_changelist_is_flat(client, chief, catalogue):
    client.force_login(chief)
    url = reverse("admin:articles_article_changelist")
    catalogue(3)
    few = queries(client, url)
    catalogue(6)
    assert queries(client, url) == few


REPORTS = ["currency", "board", "evidence", "coi", "load", "index"]


@pytest.mark.parametrize("name", REPORTS)
def test_each_report_view_is_flat(client, chief, catalogue, board, topic, name):
    from tests import factories

    client.force_login(chief)
    url = reverse(f"reports:{name}")
    catalogue(3)
    elsewhere = factories.TopicFactory(slug="diabetes")  # declarations that block none of the catalogue's reviews
    factories.ConflictFactory(member=board[0], topic=elsewhere)
    few = queries(client, url)
    catalogue(6)
    factories.ConflictFactory(member=board[1], topic=elsewhere)
    factories.ConflictFactory(member=board[2], topic=elsewhere)
    assert queries(client, url) == few


def test_the_dashboard_takes_at_most_20_queries_and_stays_flat(client, chief, catalogue):
    client.force_login(chief)
    catalogue(3)
    few = queries(client, "/editor/")
    assert few <= 20
    catalogue(6)
    assert queries(client, "/editor/") == few


def test_the_overdue_reviews_page_is_flat(client, chief, catalogue):
    client.force_login(chief)
    url = reverse("admin:governance_overduereview_changelist")

    def overdue():
        ReviewAssignment.objects.filter(status="open").update(due_at=timezone.now() - dt.timedelta(days=3))
        return ReviewAssignment.objects.filter(status="open").count()

    catalogue(3)
    assert overdue() >= 2
    few = queries(client, url)
    catalogue(6)
    assert overdue() >= 6
    assert queries(client, url) == few


def test_the_dossier_is_flat(client, chief, big_article, writer, board):
    client.force_login(chief)
    small = big_article("small")
    big = big_article("big")
    # The big one has a history too: revised, reviewed again and republished.
    services.article_edit(article=big, actor=writer, content=article_content(**{
        **content_citing(6, "A big article"), "summary": "Revised."}))
    big = services.article_submit(article=Article.objects.get(pk=big.pk), actor=writer)
    assignments = [services.assignment_create(article=big, actor=chief, reviewer=m) for m in board[:2]]
    services.article_start_review(article=Article.objects.get(pk=big.pk), actor=chief)
    for assignment in assignments:
        services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                               password=PASSWORD)
    services.article_publish(article=Article.objects.get(pk=big.pk), actor=chief)

    url = "/editor/articles/{}/dossier.json"
    assert queries(client, url.format(big.slug)) == queries(client, url.format(small.slug))
