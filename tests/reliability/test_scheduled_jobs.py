"""The scheduled jobs on a real worker (Redis broker): staleness, reminders and their emails."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from articles.models import Article
from governance.background.tasks import flag_stale_articles, send_review_reminders
from governance.models import AuditEvent, Notification, ReviewReminder
from governance.workflow import audit
from reviewers.models import ReviewAssignment

from .conftest import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.worker]


def test_the_worker_flags_stale_articles_and_sends_reminders_once(celery_env, start_worker, tmp_path, make_article,
                                                                  drive, board):
    stale = drive(make_article(title="Stale"), "published")
    Article.objects.filter(pk=stale.pk).update(next_review_due=timezone.localdate() - dt.timedelta(days=1))
    pending = drive(make_article(title="Pending"), "in_review")
    ReviewAssignment.objects.filter(article=pending).update(due_at=timezone.now() + dt.timedelta(days=2))
    mail_dir = tmp_path / "mail"
    celery_env.update(EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=str(mail_dir))

    worker = start_worker(concurrency=2)
    for _ in range(2):  # two beats firing at once: the jobs are idempotent
        flag_stale_articles.delay()
        send_review_reminders.delay()

    def done() -> bool:
        return (Article.objects.get(pk=stale.pk).state == "review_due"
                and ReviewReminder.objects.filter(sent_at__isnull=False).count() == 2
                and not Notification.objects.filter(emailed_at__isnull=True).exists()
                and Notification.objects.count() == 4)

    wait_until(done, timeout=40, on_timeout=worker.tail)
    assert AuditEvent.objects.filter(action="article.flag_review_due").count() == 1
    assert ReviewAssignment.objects.filter(article=stale, status="open").count() == 2
    assert ReviewReminder.objects.count() == 2  # before_due for each of the two reviewers, once
    sent = "\n".join(p.read_text() for p in mail_dir.iterdir())
    assert sent.count("Subject: Re-review requested: Stale") == 2
    assert sent.count("Subject: Review due in 2 days: Pending") == 2
    assert audit.verify().ok
