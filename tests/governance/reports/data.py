"""Data the report tests share: live articles written straight to the tables, the editorial
policy that sets the thresholds, reviews completed at given delays."""

from __future__ import annotations

import datetime as dt

import time_machine

from articles.models import Article, Citation, PublishedSnapshot, Reference, Revision
from governance.models import EditorialPolicy
from governance.workflow import services
from tests.factories import PASSWORD

TODAY = dt.date(2026, 6, 1)  # a Monday
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
REPORT_URLS = ["reports:index", "reports:currency", "reports:board", "reports:evidence", "reports:coi", "reports:load",
               "reports:spread"]


def live_article(slug: str, *, topic, writer, due: dt.date | None, risk_tier: str = "standard",
                 references: list[Reference] = ()) -> Article:
    """A published article written straight to the tables (fast bulk data for the aggregates; the
    workflow itself is tested through the services elsewhere)."""
    article = Article.objects.create(slug=slug, title=slug.replace("-", " ").title(), topic=topic, risk_tier=risk_tier,
                                     created_by=writer, state="published", next_review_due=due,
                                     last_reviewed_at=NOW - dt.timedelta(days=300))
    revision = Revision.objects.create(article=article, number=1, title=article.title, body_markdown="x",
                                       body_html="<p>x</p>", origin="human", content_hash=f"hash-{slug}",
                                       created_by=writer)
    for number, reference in enumerate(references, start=1):
        Citation.objects.create(revision=revision, reference=reference, key=f"k{number}", number=number)
    years = [r.year for r in references if r.year]
    snapshot = PublishedSnapshot.objects.create(article=article, revision=revision, document={}, etag=f"etag-{slug}",
                                                published_at=NOW - dt.timedelta(days=300),
                                                newest_reference_year=max(years, default=None))
    Article.objects.filter(pk=article.pk).update(current_revision=revision, live_snapshot=snapshot)
    return article


def editorial_policy(version: str = "3", **thresholds) -> EditorialPolicy:
    """The current editorial policy, with the report thresholds given (the others: defaults)."""
    policy = EditorialPolicy(version=version, effective_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
                             body_markdown="Policy", body_html="<p>Policy</p>", **thresholds)
    policy.full_clean(exclude=["created_by"])
    policy.save()
    return policy


def reviewed(article, *, chief, reviewers, assigned_at: dt.datetime, days: list[float]):
    article = services.article_submit(article=article, actor=article.created_by)
    with time_machine.travel(assigned_at, tick=False):
        assignments = [services.assignment_create(article=article, actor=chief, reviewer=m) for m in reviewers]
        services.article_start_review(article=article, actor=chief)
    for assignment, delay in zip(assignments, days, strict=True):
        with time_machine.travel(assigned_at + dt.timedelta(days=delay), tick=False):
            services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                                   password=PASSWORD)
    return assignments
