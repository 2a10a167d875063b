"""Editing: an edit after approval voids the approvals and returns the article to draft; a live
article that is edited keeps serving its approved snapshot until a new approved revision replaces it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from articles.models import ArticleState
from governance.models import AuditEvent
from governance.workflow import services
from governance.workflow.exceptions import ContentInvalid, NotPermitted, TransitionRefused
from reviewers.models import Review
from tests.conftest import article_content


def edited(summary="A revised summary."):
    return article_content(summary=summary)


def test_it_voids_approvals_and_returns_to_draft_when_an_approved_article_is_edited(make_article, drive, writer):
    article = drive(make_article(), "approved")
    approved_revision = article.current_revision

    article = services.article_edit(article=article, actor=writer, content=edited(), change_note="Fix dose")

    assert article.state == ArticleState.DRAFT
    reviews = Review.objects.filter(revision=approved_revision)
    assert reviews.count() == 2
    assert all(r.voided_at is not None for r in reviews)
    assert {r.void_reason for r in reviews} == {"Content edited after approval: approvals voided"}
    void = AuditEvent.objects.get(action="article.void")
    assert (void.from_state, void.to_state) == ("approved", "draft")
    assert AuditEvent.objects.filter(action="review.void").count() == 2


def test_it_voids_approvals_when_a_scheduled_article_is_edited(make_article, drive, writer, chief):
    article = drive(make_article(), "approved")
    article = services.article_schedule(article=article, actor=chief, publish_at=timezone.now() + dt.timedelta(days=1))

    article = services.article_edit(article=article, actor=writer, content=edited())

    assert article.state == ArticleState.DRAFT
    assert article.publish_at is None
    assert not Review.objects.filter(article=article, voided_at__isnull=True).exists()
    assert services.publish_scheduled_due(now=timezone.now() + dt.timedelta(days=2)) == []


def test_it_keeps_approvals_when_the_approved_article_is_not_edited(make_article, drive, writer):
    article = drive(make_article(), "approved")

    article = services.article_edit(article=article, actor=writer, content=article_content())  # identical

    assert article.state == ArticleState.APPROVED
    assert not Review.objects.filter(article=article, voided_at__isnull=False).exists()


def test_it_refuses_to_revise_an_approved_article_without_a_reason(make_article, drive, writer):
    article = drive(make_article(), "approved")

    with pytest.raises(TransitionRefused) as refused:
        services.article_revise(article=article, actor=writer, reason="")

    assert refused.value.rule == "reason_required_to_void"
    article.refresh_from_db()
    assert article.state == ArticleState.APPROVED


def test_it_revises_an_approved_article_with_a_reason(make_article, drive, writer):
    article = drive(make_article(), "approved")

    article = services.article_revise(article=article, actor=writer, reason="New trial data")

    assert article.state == ArticleState.DRAFT
    assert Review.objects.filter(article=article, void_reason="New trial data").count() == 2


def test_it_keeps_the_live_snapshot_when_a_published_article_is_edited(make_article, drive, writer):
    article = drive(make_article(), "published")
    snapshot = article.live_snapshot
    document = dict(snapshot.document)

    article = services.article_edit(article=article, actor=writer, content=edited())

    article.refresh_from_db()
    assert article.state == ArticleState.DRAFT
    assert article.live_snapshot_id == snapshot.pk
    snapshot.refresh_from_db()
    assert snapshot.document == document
    assert snapshot.revision_id != article.current_revision_id
    # the served text's approvals stand: they are of the live revision, not of the new draft
    assert Review.objects.filter(revision=snapshot.revision, voided_at__isnull=True).count() == 2


def test_it_replaces_the_live_snapshot_once_the_new_revision_is_approved(make_article, drive, writer, chief, board):
    from tests.factories import PASSWORD

    article = drive(make_article(), "published")
    old_snapshot = article.live_snapshot
    article = services.article_edit(article=article, actor=writer, content=edited())
    article = services.article_submit(article=article, actor=writer)
    assignments = [services.assignment_create(article=article, actor=chief, reviewer=m) for m in board[1:3]]
    article = services.article_start_review(article=article, actor=chief)
    for a in assignments:
        services.review_record(assignment=a, actor=a.reviewer.user, decision="approve", password=PASSWORD)
    article.refresh_from_db()
    article = services.article_publish(article=article, actor=chief)

    assert article.live_snapshot_id != old_snapshot.pk
    assert article.live_snapshot.revision_id == article.current_revision_id
    assert article.live_snapshot.document["summary"] == "A revised summary."


def test_it_keeps_the_live_texts_approvals_when_a_re_approved_article_is_edited(make_article, drive, writer, chief,
                                                                                 board):
    # Re-review of a live article approves the same revision again; editing it before
    # republishing voids the new approvals, not those the live snapshot was published with.
    from tests.factories import PASSWORD

    article = drive(make_article(), "review_due")
    live = article.live_snapshot
    assignments = list(article.assignments.filter(status="open"))  # the approvers', asked by the flag
    article = services.article_start_review(article=article, actor=chief)
    for a in assignments:
        services.review_record(assignment=a, actor=a.reviewer.user, decision="approve", password=PASSWORD)
    article.refresh_from_db()
    assert article.state == ArticleState.APPROVED

    services.article_edit(article=article, actor=writer, content=edited())

    first_cycle = article.review_cycles.order_by("opened_at").first()
    assert Review.objects.filter(cycle=first_cycle, voided_at__isnull=True).count() == 2
    assert Review.objects.filter(revision=live.revision, voided_at__isnull=False).count() == 2


def test_it_refuses_an_edit_by_a_colleague(make_article, colleague):
    with pytest.raises(NotPermitted):
        services.article_edit(article=make_article(), actor=colleague, content=edited())


def test_it_lets_the_managing_editor_edit(make_article, chief):
    article = services.article_edit(article=make_article(), actor=chief, content=edited())

    assert article.current_revision.created_by == chief


def test_it_refuses_to_edit_an_archived_article(make_article, chief):
    article = services.article_archive(article=make_article(), actor=chief)

    with pytest.raises(NotPermitted):
        services.article_edit(article=article, actor=chief, content=edited())


def test_it_refuses_an_edit_from_a_stale_copy(make_article, drive, writer, chief):
    article = drive(make_article(), "submitted")
    stale = type(article).objects.get(pk=article.pk)
    services.article_request_changes(article=article, actor=chief, reason="Needs sources")

    with pytest.raises(TransitionRefused) as refused:
        services.article_edit(article=stale, actor=writer, content=edited())

    assert refused.value.rule == "stale_state"
    assert stale.revisions.count() == 1


def test_it_refuses_an_edit_based_on_a_superseded_revision(make_article, writer, chief):
    article = make_article()
    base = article.current_revision_id
    services.article_edit(article=article, actor=chief, content=edited("The chief's version."), base_revision_id=base)

    with pytest.raises(TransitionRefused) as refused:
        services.article_edit(article=article, actor=writer, content=edited("The writer's version."),
                              base_revision_id=base)

    assert refused.value.rule == "stale_revision"
    article.refresh_from_db()
    assert article.current_revision.summary == "The chief's version."
    assert article.revisions.count() == 2


def test_it_accepts_an_edit_based_on_the_current_revision(make_article, writer):
    article = make_article()

    article = services.article_edit(article=article, actor=writer, content=edited(),
                                    base_revision_id=article.current_revision_id)

    assert article.current_revision.number == 2


def _with_reference(index, **changes):
    data = article_content()
    data.references[index] = {**data.references[index], **changes}
    return data


@pytest.mark.parametrize("changes", [
    {"authors": ["Smith J", "Okafor A", "Lee K"]},
    {"kind": "systematic_review"},
    {"container": "Lancet"},
    {"pmcid": "PMC7745181"},
])
def test_it_makes_a_new_revision_and_voids_approvals_when_only_a_cited_reference_changes(
        make_article, drive, writer, changes):
    article = drive(make_article(), "approved")
    approved = article.current_revision

    article = services.article_edit(article=article, actor=writer, content=_with_reference(0, **changes))

    assert article.state == ArticleState.DRAFT
    assert article.current_revision_id != approved.pk
    assert article.current_revision.content_hash != approved.content_hash
    assert not Review.objects.filter(revision=approved, voided_at__isnull=True).exists()
    reference = article.current_revision.citations.get(key="trial2021").reference
    (name, value), = changes.items()
    assert getattr(reference, name) == value
    assert services.content_of(article).references[0][name] == value
    update = AuditEvent.objects.get(action="reference.update")
    assert list(update.data["changed"]) == [name]


def test_it_hashes_a_url_change_of_an_unidentified_reference(make_article, writer):
    article = make_article()
    first = article.current_revision

    article = services.article_edit(article=article, actor=writer,
                                    content=_with_reference(1, url="https://www.nice.org.uk/guidance/ng106/2"))

    assert article.current_revision.content_hash != first.content_hash


def test_it_refuses_to_change_a_reference_another_articles_signed_text_cites(make_article, drive, writer):
    drive(make_article(), "approved")
    other = make_article(title="Heart failure and exercise")

    with pytest.raises(ContentInvalid) as refused:
        services.article_edit(article=other, actor=writer, content=_with_reference(0, authors=["Someone Else"]))

    assert "references[0]" in refused.value.errors

