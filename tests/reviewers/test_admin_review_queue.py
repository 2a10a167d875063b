"""The board member's review queue in the admin: only their own assignments, open and overdue
first, with a bounded number of queries, and a clear empty state."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from governance.workflow import services
from reviewers.models import ReviewAssignment

QUEUE = reverse_lazy("admin:reviewers_reviewassignment_changelist")


@pytest.fixture
def submitted(make_article, drive):
    def make(title: str):
        return drive(make_article(title=title), "submitted")

    return make


def test_it_shows_a_member_only_their_own_assignments(client, submitted, chief, board):
    mine = submitted("Mine to review")
    theirs = submitted("Someone else's")
    services.assignment_create(article=mine, actor=chief, reviewer=board[0])
    services.assignment_create(article=theirs, actor=chief, reviewer=board[1])

    client.force_login(board[0].user)
    response = client.get(QUEUE)

    assert response.status_code == 200
    html = response.content.decode()
    assert "My review queue" in html
    assert "Mine to review" in html
    assert "Someone else&#x27;s" not in html and "Someone else's" not in html


def test_it_lists_open_then_overdue_first_then_by_due_date(client, submitted, chief, board):
    now = timezone.now()
    later = submitted("Due later")
    sooner = submitted("Due sooner")
    overdue = submitted("Overdue one")
    done = submitted("Already cancelled")
    services.assignment_create(article=later, actor=chief, reviewer=board[0], due_at=now + dt.timedelta(days=20))
    services.assignment_create(article=sooner, actor=chief, reviewer=board[0], due_at=now + dt.timedelta(days=3))
    overdue_assignment = services.assignment_create(article=overdue, actor=chief, reviewer=board[0],
                                                    due_at=now + dt.timedelta(days=1))
    cancelled = services.assignment_create(article=done, actor=chief, reviewer=board[0],
                                           due_at=now + dt.timedelta(hours=2))
    services.assignment_cancel(assignment=cancelled, actor=chief)

    client.force_login(board[0].user)
    with time_machine.travel(now + dt.timedelta(days=2)):
        response = client.get(QUEUE)
        overdue_flags = [a.is_overdue for a in response.context["cl"].result_list]

    rows = [a.article.title for a in response.context["cl"].result_list]
    assert rows == ["Overdue one", "Due sooner", "Due later", "Already cancelled"]
    assert overdue_flags == [True, False, False, False]
    assert overdue_assignment.pk == response.context["cl"].result_list[0].pk
    html = response.content.decode()
    assert html.count("Overdue by 1 day<") == 1  # the overdue flag column
    assert "3 open, " in html and "1 overdue</strong>" in html  # the summary line


def test_it_says_so_when_the_queue_is_empty(client, board):
    client.force_login(board[2].user)

    response = client.get(QUEUE)

    assert response.status_code == 200
    assert "Your review queue is empty" in response.content.decode()


def test_it_lists_every_assignment_for_the_managing_editor(client, submitted, chief, board):
    first, second = submitted("First"), submitted("Second")
    services.assignment_create(article=first, actor=chief, reviewer=board[0])
    services.assignment_create(article=second, actor=chief, reviewer=board[1])

    client.force_login(chief)
    response = client.get(QUEUE)

    assert response.context["cl"].result_count == 2
    assert "Review assignments" in response.content.decode()


def test_it_keeps_the_queue_query_count_bounded(client, submitted, chief, board, django_assert_max_num_queries):
    for n in range(3):
        services.assignment_create(article=submitted(f"Article {n}"), actor=chief, reviewer=board[0])
    client.force_login(board[0].user)
    client.get(QUEUE)  # warm the session

    with django_assert_max_num_queries(12):
        small = client.get(QUEUE)
    for n in range(3, 12):
        services.assignment_create(article=submitted(f"Article {n}"), actor=chief, reviewer=board[0])
    with django_assert_max_num_queries(12):
        large = client.get(QUEUE)

    assert small.context["cl"].result_count == 3
    assert large.context["cl"].result_count == 12


def test_it_shows_a_member_only_their_assigned_articles_in_the_article_list(client, submitted, chief, board):
    mine = submitted("Assigned to me")
    submitted("Not assigned to me")
    services.assignment_create(article=mine, actor=chief, reviewer=board[0])

    client.force_login(board[0].user)
    response = client.get(reverse("admin:articles_article_changelist"))

    assert [a.title for a in response.context["cl"].result_list] == ["Assigned to me"]
    assert ReviewAssignment.objects.count() == 1
