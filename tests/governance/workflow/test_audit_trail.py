"""Every transition, review, assignment and publication writes an AuditEvent with actor, time,
action, object, old and new state and reason."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from governance.models import AuditEvent
from governance.workflow import services
from tests.conftest import article_content
from tests.factories import PASSWORD

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def events(article=None):
    qs = AuditEvent.objects.order_by("seq")
    if article is not None:
        qs = qs.filter(article_id=article.pk)
    return list(qs.values_list("action", "actor_username", "from_state", "to_state"))


def test_it_audits_the_whole_lifecycle_in_order(make_article, drive, chief):
    with time_machine.travel(NOON, tick=False):
        article = drive(make_article(), "published")
        services.article_withdraw(article=article, actor=chief, reason="Superseded")

    assert events(article) == [
        ("article.create", "writer", "", "draft"),
        ("reference.create", "writer", "", ""),
        ("reference.create", "writer", "", ""),
        ("revision.create", "writer", "", ""),
        ("article.submit", "writer", "draft", "submitted"),
        ("assignment.create", "chief", "", ""),
        ("assignment.create", "chief", "", ""),
        ("article.start_review", "chief", "submitted", "in_review"),
        ("review.sign", "reviewer1", "", ""),
        ("review.sign", "reviewer2", "", ""),
        ("article.approve", "system", "in_review", "approved"),
        ("article.publish", "chief", "approved", "published"),
        ("article.withdraw", "chief", "published", "withdrawn"),
    ]
    assert set(AuditEvent.objects.values_list("at", flat=True)) == {NOON}
    assert AuditEvent.objects.get(action="article.withdraw").reason == "Superseded"
    assert AuditEvent.objects.get(action="article.approve").reason == "quorum reached"


def test_it_records_the_object_and_the_actor(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")
    assignment = services.assignment_create(article=article, actor=chief, reviewer=board[0])

    event = AuditEvent.objects.get(action="assignment.create")
    assert (event.object_type, event.object_id) == ("reviewers.reviewassignment", str(assignment.pk))
    assert event.actor_id == chief.pk
    assert (event.article_id, event.article_slug) == (article.pk, article.slug)
    assert event.data["reviewer"] == "reviewer1"


def test_it_audits_publication_with_the_revision_and_etag(make_article, drive):
    article = drive(make_article(), "published")

    event = AuditEvent.objects.get(action="article.publish")
    assert event.data["revision"] == article.current_revision.content_hash
    assert event.data["etag"] == article.live_snapshot.etag
    assert event.data["snapshot"] == article.live_snapshot_id


def test_it_audits_a_cancelled_assignment_with_its_reason(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")
    assignment = services.assignment_create(article=article, actor=chief, reviewer=board[0])

    services.assignment_cancel(assignment=assignment, actor=chief, reason="Away until June")

    event = AuditEvent.objects.get(action="assignment.cancel")
    assert (event.actor_username, event.reason) == ("chief", "Away until June")


def test_it_audits_schedule_flag_archive_and_void(make_article, drive, chief, writer):
    article = drive(make_article(), "approved")
    article = services.article_schedule(article=article, actor=chief, publish_at=timezone.now() + dt.timedelta(days=1))
    article = services.article_edit(article=article, actor=writer, content=article_content(summary="Changed."))
    other = drive(make_article(), "published")
    services.bulk.flag_articles([other.pk], reason="review interval elapsed")
    services.article_archive(article=article, actor=chief, reason="Merged into another article")

    assert events(article)[-6:] == [
        ("article.schedule", "chief", "approved", "scheduled"),
        ("review.void", "writer", "", ""),
        ("review.void", "writer", "", ""),
        ("article.void", "writer", "scheduled", "draft"),
        ("revision.create", "writer", "", ""),
        ("article.archive", "chief", "draft", "archived"),
    ]
    assert AuditEvent.objects.get(action="article.void").reason == "Content edited after approval: approvals voided"
    flag = AuditEvent.objects.get(action="article.flag_review_due")
    assert (flag.actor_username, flag.from_state, flag.to_state, flag.reason) == (
        "system", "published", "review_due", "review interval elapsed")


def test_it_audits_a_request_for_changes_by_the_managing_editor(make_article, drive, chief):
    article = drive(make_article(), "submitted")

    services.article_request_changes(article=article, actor=chief, reason="Add the 2023 guideline")

    event = AuditEvent.objects.get(action="article.request_changes")
    assert (event.from_state, event.to_state, event.reason) == ("submitted", "draft", "Add the 2023 guideline")


def test_it_writes_no_event_for_a_refused_transition(make_article, drive, chief):
    import pytest

    from governance.workflow.exceptions import TransitionRefused

    article = drive(make_article(), "published")
    before = AuditEvent.objects.count()

    with pytest.raises(TransitionRefused):
        services.article_withdraw(article=article, actor=chief, reason="")

    assert AuditEvent.objects.count() == before


def test_it_writes_only_the_failed_signature_for_a_wrong_password(make_article, drive, chief, board):
    import pytest

    from governance.workflow.exceptions import ReauthenticationFailed

    article = drive(make_article(), "in_review")
    assignment = article.assignments.first()
    before = AuditEvent.objects.count()

    with pytest.raises(ReauthenticationFailed):
        services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                               password=PASSWORD + "x")

    assert events()[before:] == [("signature.failed", assignment.reviewer.user.username, "", "")]
