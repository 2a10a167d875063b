"""Every notification links to the exact item it is about, for its recipient: a reviewer's to
their review of the assignment (the admin's review page), the managing editor's to the article
in the editor UI. The link is absolute (SITE_URL), kept on the in-app row (`url`) and ends its
email; following it signed in as the recipient opens that item."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from articles.models import Article
from governance.background import notifications, reminders, staleness
from governance.models import Notification
from reviewers.models import ReviewAssignment

RETRACTIONS_CSV = Path(__file__).resolve().parents[2] / "fixtures" / "retractions.csv"
SITE = "https://reviews.example.org"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def review_link(assignment: ReviewAssignment) -> str:
    return f"{SITE}/admin/reviewers/reviewassignment/{assignment.pk}/change/"


def editor_link(article: Article) -> str:
    return f"{SITE}/editor/articles/{article.slug}/"


def assert_opens_the_item(client, notification: Notification, expected_url: str, shows: str) -> None:
    """The row's link is `expected_url`, its email ends with it, and it opens the item."""
    assert notification.url == expected_url
    assert notification.body.rstrip().endswith(expected_url)
    emails = [m for m in mail.outbox if m.subject == notification.subject and m.to == [notification.recipient.email]]
    assert emails and emails[0].body.rstrip().endswith(expected_url)
    client.force_login(notification.recipient)
    page = client.get(urlsplit(expected_url).path)
    assert page.status_code == 200, expected_url
    assert shows in page.content.decode()


def test_a_reminder_links_to_the_reviewers_own_review_page(client, make_article, drive, board):
    article = drive(make_article(), "in_review")
    ReviewAssignment.objects.filter(article=article).update(due_at=timezone.now() + dt.timedelta(days=7))
    assert reminders.send_review_reminders() == 2
    for assignment in ReviewAssignment.objects.filter(article=article):
        note = Notification.objects.get(kind="reminder", assignment=assignment)
        assert note.recipient == assignment.reviewer.user
        assert_opens_the_item(client, note, review_link(assignment), article.title)


def test_an_escalation_links_the_managing_editor_to_the_article(client, make_article, drive, chief):
    article = drive(make_article(), "in_review")
    ReviewAssignment.objects.filter(article=article).update(due_at=timezone.now() - dt.timedelta(days=8))
    reminders.send_review_reminders()
    escalations = Notification.objects.filter(kind="escalation", recipient=chief)
    assert escalations.count() == 2
    for note in escalations:
        assert_opens_the_item(client, note, editor_link(article), article.title)


def test_a_re_review_request_links_to_the_new_assignment(client, make_article, drive, board):
    article = drive(make_article(), "published")
    Article.objects.filter(pk=article.pk).update(next_review_due=dt.date(2020, 1, 1))
    assert staleness.flag_stale_articles().flagged == [article.slug]
    notifications.send_pending_emails()  # as the task queued on commit does
    requests = Notification.objects.filter(kind="review_requested", article=article)
    assert requests.count() == 2
    for note in requests:
        assignment = ReviewAssignment.objects.get(pk=note.assignment_id)
        assert assignment.status == "open" and assignment.reviewer.user == note.recipient
        assert_opens_the_item(client, note, review_link(assignment), article.title)


def test_a_retraction_notice_links_to_the_assignment_under_review(client, make_article, drive, board):
    article = drive(make_article(), "published")
    Article.objects.filter(pk=article.pk).update(next_review_due=dt.date(2020, 1, 1))
    staleness.flag_stale_articles()
    call_command("import_retractions", str(RETRACTIONS_CSV), "--no-progress", stdout=io.StringIO(),
                 stderr=io.StringIO())
    notifications.send_pending_emails()
    told = Notification.objects.filter(kind="reference_retracted", article=article)
    assert told.count() == 2
    for note in told:
        assignment = ReviewAssignment.objects.get(pk=note.assignment_id)
        assert_opens_the_item(client, note, review_link(assignment), article.title)


def test_the_admin_lists_each_notification_with_its_link(client, make_article, drive, board):
    article = drive(make_article(), "in_review")
    ReviewAssignment.objects.filter(article=article).update(due_at=timezone.now() + dt.timedelta(days=7))
    with time_machine.travel(timezone.now(), tick=False):
        reminders.send_review_reminders()
    note = Notification.objects.get(recipient=board[0].user)
    client.force_login(board[0].user)
    page = client.get("/admin/governance/notification/").content.decode()
    assert f'href="{note.url}"' in page
