"""The one transition runner and its table (governance.workflow.services.transitions), and the
set-based forms of the same transitions (services.bulk): same table, same audit, same state."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from articles.models import Article, ArticleState
from governance.models import AuditEvent, ChangeEvent, Notification, WebhookDelivery, WebhookEndpoint
from governance.workflow import audit, rules
from governance.workflow.exceptions import NotPermitted, TransitionRefused
from governance.workflow.services import bulk, transitions
from reviewers.models import ReviewAssignment, ReviewCycle
from tests import factories

REASON = "New guidance from the cardiology society"


def _fsm_transitions() -> dict[str, tuple[set[str], str]]:
    declared: dict[str, tuple[set[str], str]] = {}
    for t in Article._meta.get_field("state").get_all_transitions(Article):
        sources, _ = declared.setdefault(t.name, (set(), t.target))
        sources.add(t.source)
    return declared


def test_every_transition_of_the_state_machine_is_in_the_table_and_nothing_else():
    assert set(transitions.TRANSITIONS) == set(_fsm_transitions())
    assert set(transitions.TRANSITIONS) == set(rules.TRANSITION_RULES)  # the rules of each are rules.py's
    for name, spec in transitions.TRANSITIONS.items():
        assert spec.action == f"article.{name}", name  # the audit action each has always written
        assert spec.rules is rules.TRANSITION_RULES[name]


def test_the_bulk_forms_take_their_states_from_the_state_machine():
    declared = _fsm_transitions()
    for name in ("flag_review_due", "withdraw"):
        sources, target = declared[name]
        assert set(bulk.sources(name)) == sources and bulk.target(name) == target


def test_a_refused_rule_is_named_and_nothing_is_written(make_article, drive, chief):
    article = drive(make_article(), "published")
    before = AuditEvent.objects.count()

    with pytest.raises(TransitionRefused) as refused:
        transitions.run("withdraw", article=article, actor=chief, reason="  ")

    assert refused.value.rule == "reason_required"
    assert "reason" in str(refused.value)
    article.refresh_from_db()
    assert article.state == ArticleState.PUBLISHED and article.live_snapshot_id is not None
    assert AuditEvent.objects.count() == before


def test_it_asks_the_policy_before_anything_else(make_article, writer):
    article = make_article()
    with pytest.raises(NotPermitted) as refused:
        transitions.run("publish", article=article, actor=writer)
    assert refused.value.rule == "may_publish"


def test_it_refuses_a_transition_the_state_machine_does_not_have_from_the_state(make_article, chief):
    with pytest.raises(TransitionRefused) as refused:
        transitions.run("publish", article=make_article(), actor=chief)
    assert refused.value.rule == "state_allows_transition"


def test_it_refuses_a_stale_copy_of_the_article(make_article, drive, chief):
    article = make_article()
    stale = Article.objects.get(pk=article.pk)
    drive(article, "submitted")
    with pytest.raises(TransitionRefused) as refused:
        transitions.run("archive", article=stale, actor=chief)
    assert refused.value.rule == "stale_state"


def test_system_transitions_are_nobodys_to_run_by_name(make_article, drive, chief):
    article = drive(make_article(), "published")
    with pytest.raises(NotPermitted):
        transitions.run("flag_review_due", article=article, actor=chief)
    with pytest.raises(TransitionRefused) as refused:
        transitions.article_transition(article=article, actor=chief, name="flag_review_due")
    assert refused.value.rule == "unknown_transition"


def test_it_writes_the_tables_audit_action_with_the_states_and_the_hooks_data(make_article, drive, chief):
    article = drive(make_article(), "approved")

    article = transitions.run("publish", article=article, actor=chief, reason="Ready")

    event = AuditEvent.objects.filter(article_id=article.pk).order_by("-seq").first()
    assert (event.action, event.from_state, event.to_state, event.reason, event.actor_username) == (
        "article.publish", "approved", "published", "Ready", "chief")
    assert event.data == {"revision": article.live_snapshot.revision.content_hash, "etag": article.live_snapshot.etag,
                          "snapshot": article.live_snapshot_id}
    assert ChangeEvent.objects.filter(article_id=article.pk, type="published").count() == 1
    assert audit.verify().ok


def _what_a_flag_wrote(article: Article) -> dict:
    article.refresh_from_db()
    [event] = AuditEvent.objects.filter(action="article.flag_review_due", article_id=article.pk)
    asked = ReviewAssignment.objects.filter(article=article, status="open")
    return {
        "state": article.state,
        "live": article.live_snapshot_id is not None,
        "event": (event.action, event.from_state, event.to_state, event.reason, event.actor_username),
        "asked": sorted(a.reviewer_id for a in asked),
        "request_events": sorted(AuditEvent.objects.filter(action="assignment.create", object_id__in=[
            str(a.pk) for a in asked]).values_list("reason", flat=True)),
        "notified": sorted(Notification.objects.filter(article=article, kind="review_requested")
                           .values_list("recipient_id", "subject")),
        "feed": list(ChangeEvent.objects.filter(article_id=article.pk).order_by("pk").values_list("type", flat=True)),
        "webhooks": list(WebhookDelivery.objects.filter(payload__data__slug=article.slug)
                         .order_by("pk").values_list("event_type", flat=True)),
    }


def test_the_single_and_the_bulk_flag_write_the_same(make_article, drive, board):
    WebhookEndpoint.objects.create(name="site", url="https://example.org/hook", secret="whsec_QUJDREVGR0g=")
    one = drive(make_article(title="Heart failure"), "published")
    many = drive(make_article(title="Heart failure"), "published")

    transitions.run("flag_review_due", article=one, actor=None, system=True, reason="review interval elapsed")
    result = bulk.flag_articles([many.pk], reason="review interval elapsed")

    assert result.flagged == [many.slug] and result.re_review_requests == 2
    single, set_based = _what_a_flag_wrote(one), _what_a_flag_wrote(many)
    assert single == set_based
    assert single["state"] == "review_due" and single["asked"] == sorted(m.pk for m in board[:2])
    assert single["event"] == ("article.flag_review_due", "published", "review_due", "review interval elapsed",
                               "system")
    assert audit.verify().ok


def _what_a_withdrawal_wrote(article: Article) -> dict:
    article.refresh_from_db()
    [event] = AuditEvent.objects.filter(action="article.withdraw", article_id=article.pk)
    return {
        "state": article.state,
        "live": article.live_snapshot_id,
        "reason": article.withdrawn_reason,
        "event": (event.action, event.from_state, event.to_state, event.reason),
        "open_assignments": ReviewAssignment.objects.filter(article=article, status="open").count(),
        "open_cycles": ReviewCycle.objects.filter(article=article, closed_at__isnull=True).count(),
        "feed": list(ChangeEvent.objects.filter(article_id=article.pk).order_by("pk").values_list("type", flat=True)),
    }


def test_the_single_and_the_bulk_withdrawal_write_the_same(make_article, drive, chief, board):
    one = drive(make_article(title="Statins"), "review_due")  # with the re-review assignments the flag opened
    many = drive(make_article(title="Statins"), "review_due")
    assert one.assignments.filter(status="open").count() == 2

    transitions.run("withdraw", article=one, actor=chief, reason=REASON)
    assert bulk.withdraw({many.pk: REASON}) == [many.slug]

    single, set_based = _what_a_withdrawal_wrote(one), _what_a_withdrawal_wrote(many)
    assert single == set_based
    assert single["state"] == "withdrawn" and single["live"] is None and single["reason"] == REASON
    assert single["event"] == ("article.withdraw", "review_due", "withdrawn", REASON)
    assert single["open_assignments"] == 0 and single["feed"][-1] == "withdrawn"
    assert audit.verify().ok


def test_the_bulk_withdrawal_names_the_reason_rule(make_article, drive):
    article = drive(make_article(), "published")
    with pytest.raises(TransitionRefused) as refused:
        bulk.withdraw({article.pk: " "})
    assert refused.value.rule == "reason_required"
    article.refresh_from_db()
    assert article.state == "published"


def test_the_bulk_withdrawal_leaves_what_left_the_states_it_was_asked_for(make_article, drive):
    article = drive(make_article(), "published")
    assert bulk.withdraw({article.pk: REASON}, states=[ArticleState.REVIEW_DUE]) == []
    article.refresh_from_db()
    assert article.state == "published"


def test_the_set_based_eligibility_excludes_whom_the_single_rule_refuses(make_article, drive, writer, topic):
    article = drive(make_article(), "published")
    today = timezone.localdate()
    members = {
        "eligible": factories.BoardMemberFactory(),
        "reviewer_active": factories.BoardMemberFactory(is_active=False),
        "credentials_verified": factories.BoardMemberFactory(credentials_verified_at=None,
                                                             credentials_verified_by=None),
        "licence_valid": factories.BoardMemberFactory(licence_expires_on=today - dt.timedelta(days=1)),
        "no_conflict_of_interest": factories.BoardMemberFactory(),
        "no_self_review": factories.BoardMemberFactory(user=writer),
    }
    factories.ConflictFactory(member=members["no_conflict_of_interest"], topic=article.topic)
    facts = {m.pk: rules.ReviewerFacts(m.user_id, m.is_active, m.credentials_verified_at, m.licence_expires_on)
             for m in members.values()}

    eligible = rules.eligible_reviewers(
        [(article.pk, article.topic_id, article.created_by_id, m.pk) for m in members.values()], facts)

    assert eligible == {(article.pk, members["eligible"].pk)}
    for expected, member in members.items():
        refusal = rules.reviewer_refusal(member, article)
        assert (refusal.rule if refusal else "eligible") == expected


def test_the_checklist_asks_for_what_the_rules_need_from_the_request(make_article, drive, chief):
    approved = drive(make_article(), "approved")
    submitted = drive(make_article(), "submitted")

    assert rules.asks(approved, "revise") == ["reason"]  # voids the approvals
    assert rules.asks(submitted, "revise") == []
    assert rules.asks(approved, "schedule") == ["publish_at"]
    items = {item.rule: item.ok for item in rules.checklist_before(approved, "schedule")}
    assert items == {"revision_approved": True, "no_retracted_citations": True, "publish_at_in_future": False}
