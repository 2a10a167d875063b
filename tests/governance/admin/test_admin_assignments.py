"""Assigning reviewers from the article's admin page: through `services.assignment_create`, with
refusals (author, conflict of interest, expired licence) shown naming the rule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from governance.workflow import services
from reviewers.models import ReviewAssignment
from tests import factories
from tests.conftest import article_content


def change_url(article) -> str:
    return reverse("admin:articles_article_change", args=[article.pk])


def assign_url(article) -> str:
    return reverse("admin:articles_article_assign", args=[article.pk])


@pytest.fixture
def submitted(make_article, drive):
    return drive(make_article(), "submitted")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_it_assigns_a_reviewer_from_the_article_page(client, chief, board, submitted):
    client.force_login(chief)

    response = client.post(assign_url(submitted), {"reviewer": board[0].pk, "due_at": ""}, follow=True)

    assignment = ReviewAssignment.objects.get(article=submitted)
    assert assignment.reviewer == board[0]
    assert assignment.assigned_by == chief
    assert any(f"{board[0].printed_name} is assigned" in m for m in messages_of(response))
    assert board[0].printed_name in response.content.decode()  # listed among the open assignments


def test_it_refuses_the_author_as_reviewer_naming_the_rule(client, chief, board, topic, drive):
    author = board[0]
    author.user.groups.add(Group.objects.get(name="Writers"))
    article = services.article_create(actor=author.user, topic=topic, content=article_content())
    article = services.article_submit(article=article, actor=author.user)
    client.force_login(chief)

    response = client.post(assign_url(article), {"reviewer": author.pk}, follow=True)

    assert not ReviewAssignment.objects.exists()
    assert any("rule: no_self_review" in m for m in messages_of(response))


def test_it_refuses_a_conflicted_reviewer_naming_the_rule(client, chief, board, submitted, topic):
    factories.ConflictFactory(member=board[2], topic=topic)
    client.force_login(chief)

    response = client.post(assign_url(submitted), {"reviewer": board[2].pk}, follow=True)

    assert not ReviewAssignment.objects.exists()
    assert any("rule: no_conflict_of_interest" in m for m in messages_of(response))


def test_it_assigns_a_member_whose_declaration_is_none(client, chief, board, submitted, topic):
    factories.ConflictFactory(member=board[2], topic=topic, nature="none", counterparty="")
    client.force_login(chief)

    client.post(assign_url(submitted), {"reviewer": board[2].pk})

    assert ReviewAssignment.objects.filter(reviewer=board[2]).exists()


def test_it_refuses_a_reviewer_with_an_expired_licence_naming_the_rule(client, chief, board, submitted):
    board[2].licence_expires_on = timezone.localdate() - dt.timedelta(days=1)
    board[2].save()
    client.force_login(chief)

    response = client.post(assign_url(submitted), {"reviewer": board[2].pk}, follow=True)

    assert not ReviewAssignment.objects.exists()
    assert any("rule: licence_valid" in m for m in messages_of(response))


def test_it_refuses_assigning_to_anyone_but_the_managing_editor(client, board, submitted):
    client.force_login(board[0].user)

    response = client.post(assign_url(submitted), {"reviewer": board[1].pk})

    assert response.status_code in (302, 403)
    assert not ReviewAssignment.objects.exists()


def test_it_cancels_an_open_assignment_from_the_article_page(client, chief, board, submitted):
    assignment = services.assignment_create(article=submitted, actor=chief, reviewer=board[0])
    client.force_login(chief)

    client.post(reverse("admin:articles_article_cancel_assignment", args=[submitted.pk, assignment.pk]))

    assignment.refresh_from_db()
    assert assignment.status == ReviewAssignment.Status.CANCELLED


def test_it_shows_the_whole_audit_history_in_sequence(client, chief, make_article, drive):
    article = drive(make_article(), "published")
    client.force_login(chief)

    response = client.get(change_url(article))

    events = response.context["audit_events"]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    actions = [e.action for e in events]
    assert {"article.submit", "assignment.create", "article.start_review", "review.sign", "article.approve",
            "article.publish"} <= set(actions)
    html = response.content.decode()
    assert "Audit history" in html and "Published snapshots" in html and "Revisions" in html
