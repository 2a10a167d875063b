"""The rules the save path already guards, refused again at the transition (defence in depth):
rows the editor's save never checked (imported, older, or changed behind the services' back)
must still not be submitted or published. Each test names the rule it proves, and fails when
that rule is taken out of its transition."""

from __future__ import annotations

import pytest

from articles.models import Article, Revision
from governance.workflow import rules, services
from governance.workflow.exceptions import TransitionRefused
from reviewers.models import ReviewCycle


def _refused_rule(call) -> str:
    with pytest.raises(TransitionRefused) as refused:
        call()
    return refused.value.rule


def test_it_refuses_to_submit_an_article_without_a_saved_revision(writer, topic):
    article = Article.objects.create(slug="no-text-yet", title="No text yet", topic=topic, created_by=writer)

    assert _refused_rule(lambda: services.article_submit(article=article, actor=writer)) == "working_revision_exists"
    assert Article.objects.get(pk=article.pk).state == "draft"
    [first, *_] = rules.checklist(article, "submit")
    assert (first.rule, first.ok) == ("working_revision_exists", False)


def test_it_refuses_to_start_a_review_without_a_saved_revision(writer, topic):
    article = Article.objects.create(slug="no-text", title="No text", topic=topic, created_by=writer)
    result = rules.working_revision_exists(article, {})
    assert not result.ok and result.hint
    assert rules.working_revision_exists in rules.TRANSITION_RULES["start_review"]


def _with_unresolved_marker(article, writer) -> Revision:
    """A revision whose body cites a key no reference has, saved as a row (the editor's save
    refuses such text; an import or an older version might not have)."""
    live = article.current_revision
    revision = Revision.objects.create(
        article=article, number=live.number + 1, title=live.title, summary=live.summary,
        body_markdown=live.body_markdown + "\nA new claim [@nobody2024].\n", body_html=live.body_html,
        origin=live.origin, content_hash="f" * 64, created_by=writer)
    for citation in live.citations.all():
        citation.pk, citation.revision = None, revision
        citation.save()
    Article.objects.filter(pk=article.pk).update(current_revision=revision)
    return revision


def test_it_refuses_to_submit_a_revision_whose_citations_do_not_resolve(make_article, writer):
    article = make_article()
    _with_unresolved_marker(article, writer)
    article = Article.objects.get(pk=article.pk)

    assert _refused_rule(lambda: services.article_submit(article=article, actor=writer)) == "citations_resolve"
    assert Article.objects.get(pk=article.pk).state == "draft"
    result = rules.citations_resolve(article, {})
    assert "nobody2024" in result.message


def test_it_refuses_to_submit_a_revision_with_an_uncited_reference(make_article, writer):
    article = make_article()
    live = article.current_revision
    revision = Revision.objects.create(
        article=article, number=2, title=live.title, summary=live.summary,
        body_markdown="Heart failure [@trial2021].\n", body_html="", origin=live.origin, content_hash="e" * 64,
        created_by=writer)
    for citation in live.citations.all():  # both references, only one cited
        citation.pk, citation.revision = None, revision
        citation.save()
    Article.objects.filter(pk=article.pk).update(current_revision=revision)
    article = Article.objects.get(pk=article.pk)

    assert _refused_rule(lambda: services.article_submit(article=article, actor=writer)) == "citations_resolve"
    assert "nice2018" in rules.citations_resolve(article, {}).message


def test_it_accepts_a_revision_whose_citations_resolve(make_article, writer):
    article = make_article()
    assert rules.citations_resolve(article, {}).ok
    assert services.article_submit(article=article, actor=writer).state == "submitted"


def test_it_refuses_to_publish_a_revision_whose_review_was_not_approved(make_article, drive, chief):
    article = drive(make_article(), "approved")
    # The approval record of the cycle is gone (voided behind the services' back): the article's
    # state alone must not publish it.
    ReviewCycle.objects.filter(article=article).update(outcome=ReviewCycle.Outcome.VOIDED)

    assert _refused_rule(lambda: services.article_publish(article=article, actor=chief)) == "revision_approved"
    article.refresh_from_db()
    assert article.state == "approved" and article.live_snapshot_id is None


def test_it_refuses_to_publish_when_the_approved_cycle_was_of_another_revision(make_article, drive, chief, writer):
    article = drive(make_article(), "approved")
    approved_revision = article.current_revision_id
    ReviewCycle.objects.filter(article=article).update(revision_id=_with_unresolved_marker(article, writer).pk)
    Article.objects.filter(pk=article.pk).update(current_revision_id=approved_revision)
    article = Article.objects.get(pk=article.pk)

    assert not rules.revision_approved(article, {}).ok
    assert _refused_rule(lambda: services.article_publish(article=article, actor=chief)) == "revision_approved"


def test_it_publishes_the_approved_revision(make_article, drive, chief):
    article = drive(make_article(), "approved")
    assert rules.revision_approved(article, {}).ok
    assert services.article_publish(article=article, actor=chief).state == "published"


def test_it_refuses_to_schedule_a_revision_whose_review_was_not_approved(make_article, drive, chief):
    import datetime as dt

    from django.utils import timezone

    article = drive(make_article(), "approved")
    ReviewCycle.objects.filter(article=article).update(outcome=ReviewCycle.Outcome.VOIDED)
    later = timezone.now() + dt.timedelta(days=1)
    assert _refused_rule(lambda: services.article_schedule(article=article, actor=chief, publish_at=later)) == (
        "revision_approved")
