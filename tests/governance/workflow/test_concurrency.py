"""Concurrency on PostgreSQL with real threads, each on its own connection, started together
by a barrier: simultaneous approvals each count once, simultaneous publishes publish once, a
stale-state transition is refused (never silently lost), and the audit chain never forks."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from articles.models import Article, ArticleState, PublishedSnapshot, Topic
from governance.models import AuditEvent, ChangeEvent
from governance.workflow import audit, services
from governance.workflow.exceptions import ReviewRefused, TransitionRefused
from reviewers.models import Review
from tests.factories import PASSWORD

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread (own database connection), released at the same moment;
    return each call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # the test inspects what each thread met
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    return results


def sign(assignment):
    return lambda: services.review_record(assignment=assignment, actor=assignment.reviewer.user,
                                          decision="approve", password=PASSWORD)


def test_it_counts_two_simultaneous_approvals_once_each_and_approves_once(make_article, drive):
    article = drive(make_article(), "in_review")
    first, second = article.assignments.order_by("pk")

    results = run_together(sign(first), sign(second))

    assert all(isinstance(r, Review) for r in results), results
    article.refresh_from_db()
    assert article.state == ArticleState.APPROVED
    assert Review.objects.filter(article=article, decision="approved").count() == 2
    assert AuditEvent.objects.filter(action="article.approve").count() == 1
    assert len(AuditEvent.objects.get(action="article.approve").data["approvers"]) == 2
    assert audit.verify().ok


def test_it_counts_a_double_click_once(make_article, drive):
    article = drive(make_article(), "in_review")
    first = article.assignments.order_by("pk").first()

    results = run_together(sign(first), sign(first))

    assert sorted(type(r).__name__ for r in results) == ["Review", "ReviewRefused"]
    refused = next(r for r in results if isinstance(r, ReviewRefused))
    assert refused.rule in ("assignment_open", "one_decision")
    assert Review.objects.filter(article=article).count() == 1
    article.refresh_from_db()
    assert article.state == ArticleState.IN_REVIEW


def test_it_publishes_once_when_two_requests_arrive_together(make_article, drive, chief):
    article = drive(make_article(), "approved")
    copies = [Article.objects.get(pk=article.pk) for _ in range(2)]

    results = run_together(*(lambda c=c: services.article_publish(article=c, actor=chief) for c in copies))

    published = [r for r in results if isinstance(r, Article)]
    refused = [r for r in results if isinstance(r, TransitionRefused)]
    assert (len(published), len(refused)) == (1, 1), results
    assert refused[0].rule == "stale_state"
    assert PublishedSnapshot.objects.filter(article=article).count() == 1
    assert ChangeEvent.objects.filter(article_id=article.pk).count() == 1
    assert AuditEvent.objects.filter(action="article.publish").count() == 1
    assert audit.verify().ok


def test_it_refuses_the_loser_of_two_different_transitions_as_stale(make_article, drive, chief):
    article = drive(make_article(), "published")
    for_withdraw, for_archive = (Article.objects.get(pk=article.pk) for _ in range(2))

    results = run_together(
        lambda: services.article_withdraw(article=for_withdraw, actor=chief, reason="Unsafe dose"),
        lambda: services.article_archive(article=for_archive, actor=chief, reason="Duplicate"),
    )

    winners = [r for r in results if isinstance(r, Article)]
    losers = [r for r in results if isinstance(r, TransitionRefused)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert losers[0].rule == "stale_state"
    article.refresh_from_db()
    assert article.state == winners[0].state
    actions = set(AuditEvent.objects.filter(article_id=article.pk, action__in=["article.withdraw", "article.archive"])
                  .values_list("action", flat=True))
    assert actions == {"article.withdraw" if article.state == ArticleState.WITHDRAWN else "article.archive"}


def test_it_refuses_a_transition_from_a_stale_copy(make_article, drive, chief):
    article = drive(make_article(), "submitted")
    stale = Article.objects.get(pk=article.pk)
    services.article_request_changes(article=article, actor=chief, reason="Sources missing")

    (result,) = run_together(lambda: services.article_request_changes(article=stale, actor=chief, reason="again"))

    assert isinstance(result, TransitionRefused)
    assert result.rule == "stale_state"
    assert AuditEvent.objects.filter(action="article.request_changes").count() == 1


def test_it_never_forks_the_audit_chain_under_concurrent_appends(db):
    topic = Topic.objects.create(slug="concurrency", name="Concurrency")

    def append_many():
        for n in range(10):
            with transaction.atomic():
                audit.record(action="test.append", obj=topic, reason=f"append {n}")
        return True

    results = run_together(*(append_many for _ in range(6)))

    assert results == [True] * 6
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 61))
    assert str(audit.verify()) == "audit chain intact: 60 events"


def test_it_decides_a_credential_change_once_when_two_verifiers_act_together(board, chief):
    from django.contrib.auth.models import Permission

    from governance.workflow.exceptions import CredentialsRefused
    from governance.workflow.services import credentials
    from reviewers.models import BoardMember, CredentialChange
    from tests import factories

    registrar = factories.UserFactory(username="registrar", is_staff=True)
    registrar.user_permissions.add(Permission.objects.get(codename="verify_credentials"))
    member = board[0]
    change = credentials.credential_change_propose(actor=member.user, member=member, note="Renewed.",
                                                   changes={"licence_expires_on": dt.date(2031, 1, 31)})

    results = run_together(
        lambda: credentials.credential_change_verify(actor=chief, change=change, note="Checked."),
        lambda: credentials.credential_change_reject(actor=registrar, change=change, note="Not on the register."))

    decided = [r for r in results if isinstance(r, CredentialChange)]
    assert len(decided) == 1 and isinstance(next(r for r in results if r not in decided), CredentialsRefused)
    change.refresh_from_db()
    assert change.status == decided[0].status
    applied = BoardMember.objects.get(pk=member.pk).licence_expires_on == dt.date(2031, 1, 31)
    assert applied is (change.status == "verified")
    assert AuditEvent.objects.filter(action__in=["credentials.verify", "credentials.reject"],
                                     object_id=str(change.pk)).count() == 1
    assert audit.verify().ok
