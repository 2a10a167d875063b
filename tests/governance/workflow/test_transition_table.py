"""Every (state, transition) pair and every (role, transition) pair, as tables.

The expected tables are written out by hand from DESIGN.md's workflow, so a change to the state
machine, the rules or the policy that is not also a change to the design fails here.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from articles.models import Article, ArticleState
from governance.workflow import policies, services
from governance.workflow.exceptions import NotPermitted, TransitionRefused
from tests.factories import BoardMemberFactory

STATES = [s.value for s in ArticleState]
TRANSITIONS = ["submit", "start_review", "request_changes", "approve", "publish", "schedule",
               "flag_review_due", "request_re_review", "withdraw", "revise", "archive"]
EDITORIAL = ["submit", "start_review", "request_changes", "publish", "schedule", "request_re_review", "withdraw",
             "revise", "archive"]

# The states each transition may leave, according to the design (conditions aside).
SOURCES = {
    "submit": {"draft"},
    "start_review": {"submitted", "review_due"},
    "request_changes": {"submitted", "in_review"},
    "approve": {"in_review"},
    "publish": {"approved", "scheduled"},
    "schedule": {"approved"},
    "flag_review_due": {"published"},
    "request_re_review": {"published"},  # the managing editor's, before the review date
    # an edited live article stays live in any working state, so withdrawing is possible from all of them
    "withdraw": {"draft", "submitted", "in_review", "approved", "scheduled", "published", "review_due"},
    "revise": {"submitted", "in_review", "approved", "scheduled", "published", "review_due", "withdrawn"},
    "archive": set(STATES) - {"archived"},
}
TARGETS = {
    "submit": "submitted", "start_review": "in_review", "request_changes": "draft", "approve": "approved",
    "publish": "published", "schedule": "scheduled", "flag_review_due": "review_due",
    "request_re_review": "review_due", "withdraw": "withdrawn",
    "revise": "draft", "archive": "archived",
}

STATE = "state_allows_transition"
# What the managing editor gets through services.article_transition from an article driven into
# each state by the real services (with a reason and a future publication time): "ok" or the rule.
SERVICE_OUTCOMES = {
    "draft": {"submit": "ok", "start_review": STATE, "request_changes": STATE, "publish": STATE,
              "schedule": STATE, "withdraw": "has_live_text", "revise": STATE, "archive": "ok"},
    "submitted": {"submit": STATE, "start_review": "assignments_reach_quorum", "request_changes": "ok",
                  "publish": STATE, "schedule": STATE, "withdraw": "has_live_text", "revise": "ok", "archive": "ok"},
    "in_review": {"submit": STATE, "start_review": STATE, "request_changes": "ok", "publish": STATE,
                  "schedule": STATE, "withdraw": "has_live_text", "revise": "ok", "archive": "ok"},
    "approved": {"submit": STATE, "start_review": STATE, "request_changes": STATE, "publish": "ok",
                 "schedule": "ok", "withdraw": "has_live_text", "revise": "ok", "archive": "ok"},
    "scheduled": {"submit": STATE, "start_review": STATE, "request_changes": STATE, "publish": "ok",
                  "schedule": STATE, "withdraw": "has_live_text", "revise": "ok", "archive": "ok"},
    "published": {"submit": STATE, "start_review": STATE, "request_changes": STATE, "publish": STATE,
                  "schedule": STATE, "withdraw": "ok", "revise": "ok", "archive": "ok"},
    # flagged by the review date's sweep, which asked the live text's approvers again: quorum reachable
    "review_due": {"submit": STATE, "start_review": "ok", "request_changes": STATE,
                   "publish": STATE, "schedule": STATE, "withdraw": "ok", "revise": "ok", "archive": "ok"},
    "withdrawn": {"submit": STATE, "start_review": STATE, "request_changes": STATE, "publish": STATE,
                  "schedule": STATE, "withdraw": STATE, "revise": "ok", "archive": "ok"},
    "archived": {name: STATE for name in EDITORIAL},
}
for _state, _outcomes in SERVICE_OUTCOMES.items():
    _outcomes.setdefault("request_re_review", "ok" if _state == "published" else STATE)

ROLES = ["writer_author", "colleague", "chief", "board_member", "outsider", "anonymous"]
MAY = {
    "writer_author": {"submit", "revise"},
    "colleague": set(),
    "chief": {"submit", "start_review", "request_changes", "publish", "schedule", "request_re_review", "withdraw",
              "revise", "archive"},
    "board_member": set(),
    "outsider": set(),
    "anonymous": set(),
}


@pytest.fixture
def article_in(make_article, drive, chief):
    def make(state: str) -> Article:
        if state in ("scheduled",):
            article = drive(make_article(), "approved")
            return services.article_schedule(article=article, actor=chief,
                                             publish_at=timezone.now() + dt.timedelta(days=2))
        if state == "withdrawn":
            article = drive(make_article(), "published")
            return services.article_withdraw(article=article, actor=chief, reason="superseded guidance")
        if state == "archived":
            return services.article_archive(article=make_article(), actor=chief, reason="duplicate")
        article = drive(make_article(), state)
        assert article.state == state
        return article

    return make


@pytest.fixture
def people(writer, colleague, chief, outsider, board):
    return {
        "writer_author": writer, "colleague": colleague, "chief": chief, "board_member": board[0].user,
        "outsider": outsider, "anonymous": AnonymousUser(),
    }


def test_it_declares_exactly_the_designed_transitions():
    field = Article._meta.get_field("state")
    declared: dict[str, set[str]] = {}
    for transition in field.get_all_transitions(Article):
        any_other = transition.source == "+"
        sources = {s for s in STATES if s != transition.target} if any_other else {transition.source}
        declared.setdefault(transition.name, set()).update(sources)
        assert transition.target == TARGETS[transition.name], transition.name

    assert declared == SOURCES


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("name", TRANSITIONS)
def test_it_allows_a_transition_only_from_its_source_states(state, name):
    from django_fsm import can_proceed

    article = Article(state=state)

    assert can_proceed(getattr(article, name), check_conditions=False) is (state in SOURCES[name])


@pytest.mark.parametrize("state", STATES)
def test_it_runs_or_refuses_each_transition_with_a_named_rule(state, article_in, chief):
    for name in EDITORIAL:
        article = article_in(state)
        expected = SERVICE_OUTCOMES[state][name]
        kwargs = {"reason": "editorial decision", "publish_at": timezone.now() + dt.timedelta(days=1)}
        if expected == "ok":
            result = services.article_transition(article=article, actor=chief, name=name, **kwargs)
            assert result.state == TARGETS[name], (state, name)
            assert Article.objects.get(pk=article.pk).state == TARGETS[name]
        else:
            with pytest.raises(TransitionRefused) as refused:
                services.article_transition(article=article, actor=chief, name=name, **kwargs)
            assert refused.value.rule == expected, (state, name, str(refused.value))
            assert refused.value.http_status == 409
            assert Article.objects.get(pk=article.pk).state == state, (state, name)


@pytest.mark.parametrize("name", ["approve", "flag_review_due", "teleport"])
def test_it_refuses_system_and_unknown_transitions_through_the_dispatcher(name, article_in, chief):
    article = article_in("in_review")

    with pytest.raises(TransitionRefused) as refused:
        services.article_transition(article=article, actor=chief, name=name)

    assert refused.value.rule == "unknown_transition"
    assert Article.objects.get(pk=article.pk).state == "in_review"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", TRANSITIONS)
def test_it_answers_who_may_run_each_transition(role, name, people, make_article):
    article = make_article()

    assert policies.may_transition(people[role], name, article) is (name in MAY[role])


# Where each editorial transition can succeed, so a permitted role sees it happen.
READY = {"submit": "draft", "start_review": "submitted", "request_changes": "submitted", "publish": "approved",
         "schedule": "approved", "request_re_review": "published", "withdraw": "published", "revise": "submitted",
         "archive": "draft"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", EDITORIAL)
def test_it_refuses_unpermitted_roles_with_403_and_lets_permitted_ones_through(role, name, people, article_in, chief,
                                                                                 board):
    article = article_in(READY[name])
    if name == "start_review":
        for member in board[:2]:
            services.assignment_create(article=article, actor=chief, reviewer=member)
    actor = people[role]
    kwargs = {"reason": "editorial decision", "publish_at": timezone.now() + dt.timedelta(days=1)}

    if name in MAY[role]:
        result = services.article_transition(article=article, actor=actor, name=name, **kwargs)
        assert result.state == TARGETS[name]
    else:
        with pytest.raises(NotPermitted) as refused:
            services.article_transition(article=article, actor=actor, name=name, **kwargs)
        assert refused.value.http_status == 403
        assert refused.value.rule == f"may_{name}"
        assert Article.objects.get(pk=article.pk).state == READY[name]


def test_it_asks_permission_before_state(people, article_in):
    article = article_in("archived")

    with pytest.raises(NotPermitted):
        services.article_transition(article=article, actor=people["colleague"], name="publish")


def test_it_lets_a_board_member_who_writes_nothing_run_no_transition(make_article):
    member = BoardMemberFactory()
    article = make_article()

    assert [n for n in TRANSITIONS if policies.may_transition(member.user, n, article)] == []


def test_it_renders_the_committed_state_diagram_from_the_state_machine(tmp_path):
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command

    call_command("render_state_diagram", output=str(tmp_path / "diagram"), stdout=io.StringIO())

    committed = Path(settings.BASE_DIR) / "docs" / "state-diagram.dot"
    assert (tmp_path / "diagram.dot").read_text() == committed.read_text(), "run manage.py render_state_diagram"
    assert (tmp_path / "diagram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in TRANSITIONS:
        assert f"[label={name}]" in committed.read_text()


# Archiving without a reason: refused exactly where a live text would be taken down.
ARCHIVE_WITHOUT_REASON = {"draft": "ok", "submitted": "ok", "in_review": "ok", "approved": "ok", "scheduled": "ok",
                          "published": "reason_required_to_archive_live",
                          "review_due": "reason_required_to_archive_live", "withdrawn": "ok",
                          "archived": STATE}


@pytest.mark.parametrize("state", STATES)
def test_it_requires_a_reason_to_archive_only_a_live_article(state, article_in, chief):
    article = article_in(state)
    expected = ARCHIVE_WITHOUT_REASON[state]

    if expected == "ok":
        assert services.article_transition(article=article, actor=chief, name="archive", reason="  ").state == "archived"
    else:
        with pytest.raises(TransitionRefused) as refused:
            services.article_transition(article=article, actor=chief, name="archive", reason="  ")
        assert refused.value.rule == expected
        assert Article.objects.get(pk=article.pk).state == state
        assert Article.objects.get(pk=article.pk).live_snapshot_id == article.live_snapshot_id


def test_it_requires_a_reason_to_archive_a_live_article_edited_back_to_draft(article_in, chief, writer):
    from tests.conftest import article_content

    article = services.article_edit(article=article_in("published"), actor=writer,
                                    content=article_content(summary="Edited while live."))
    assert article.state == "draft" and article.live_snapshot_id is not None

    with pytest.raises(TransitionRefused) as refused:
        services.article_archive(article=article, actor=chief)
    assert refused.value.rule == "reason_required_to_archive_live"

    archived = services.article_archive(article=article, actor=chief, reason="Superseded by a new article")
    assert archived.live_snapshot_id is None
    assert archived.withdrawn_reason == "Superseded by a new article"


def test_it_offers_archiving_a_live_article_in_the_editor_with_a_required_reason(article_in, chief):
    from articles import selectors as editor

    live = {o.name: o for o in editor.transition_options(chief, article_in("published"))}["archive"]
    draft = {o.name: o for o in editor.transition_options(chief, article_in("draft"))}["archive"]

    assert live.needs_reason and not draft.needs_reason
    assert "reason_required_to_archive_live" not in {item.rule for item in live.checklist}
