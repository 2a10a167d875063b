"""Review reminders and escalation.

For each open assignment, by calendar day (in settings.TIME_ZONE):

- `before_due` once `remind_before_days` (policy, default 7) before the due date;
- `due` on the due date;
- `overdue` #n every `overdue_repeat_days` (default 3) after it: #1 on due + 3 days, #2 on
  due + 6, …, until the review is done or the assignment cancelled;
- `escalation`, once, to the managing editor(s) `escalate_after_days` (default 7) after the
  due date.

Missed reminders are not sent in a burst: each run sends only the latest reviewer reminder that
applies (and the escalation, which goes to someone else). Each (assignment, kind, repetition)
is one `ReviewReminder` row, inserted with ON CONFLICT DO NOTHING, claimed with a conditional
UPDATE, sent, then marked sent: two workers or two beat processes never send it twice, and a
failed send leaves it unsent, to be retried by the next run. No transaction is open while the
mail server is talked to.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from articles.models import Article
from reviewers.models import ReviewAssignment

from . import notifications
from .models import Notification, ReviewPolicy, ReviewReminder
from .services import ASSIGNABLE_STATES

logger = logging.getLogger(__name__)

CLAIM_LEASE = dt.timedelta(minutes=5)
Kind = ReviewReminder.Kind


@dataclass(frozen=True)
class Timing:
    remind_before_days: int = 7
    overdue_repeat_days: int = 3
    escalate_after_days: int = 7


def timing_table():
    """Resolve each article's reminder timing like selectors.policy_for, with one query."""
    by_key = {(p.topic_id, p.risk_tier): p for p in ReviewPolicy.objects.all()}

    def resolve(article: Article) -> Timing:
        policy = by_key.get((article.topic_id, article.risk_tier)) or by_key.get((None, article.risk_tier))
        if policy is None:
            return Timing()
        return Timing(policy.remind_before_days, policy.overdue_repeat_days, policy.escalate_after_days)

    return resolve


def reviewer_reminder_due(due_on: dt.date, today: dt.date, timing: Timing) -> tuple[str, int] | None:
    """The latest reviewer reminder that applies today: (kind, repetition), or None."""
    if today < due_on - dt.timedelta(days=timing.remind_before_days):
        return None
    if today < due_on:
        return Kind.BEFORE_DUE, 0
    repetition = (today - due_on).days // max(1, timing.overdue_repeat_days)
    return (Kind.DUE, 0) if repetition == 0 else (Kind.OVERDUE, repetition)


def escalation_due(due_on: dt.date, today: dt.date, timing: Timing) -> bool:
    return today >= due_on + dt.timedelta(days=timing.escalate_after_days)


def send_review_reminders(*, now: dt.datetime | None = None) -> int:
    """Send every reminder and escalation that is due now; returns how many were sent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    assignments = list(
        ReviewAssignment.objects.filter(status=ReviewAssignment.Status.OPEN, article__state__in=ASSIGNABLE_STATES)
        .select_related("article", "reviewer__user")
    )
    resolve = timing_table()
    wanted: list[tuple[ReviewAssignment, str, int]] = []
    for assignment in assignments:
        timing = resolve(assignment.article)
        due_on = timezone.localdate(assignment.due_at)
        reminder = reviewer_reminder_due(due_on, today, timing)
        if reminder is not None:
            wanted.append((assignment, *reminder))
        if escalation_due(due_on, today, timing):
            wanted.append((assignment, Kind.ESCALATION, 0))
    if not wanted:
        return 0
    ReviewReminder.objects.bulk_create(
        [ReviewReminder(assignment=a, kind=kind, repetition=rep, created_at=now) for a, kind, rep in wanted],
        ignore_conflicts=True,
    )
    rows = {
        (r.assignment_id, r.kind, r.repetition): r
        for r in ReviewReminder.objects.filter(assignment_id__in={a.pk for a, _, _ in wanted}, sent_at__isnull=True)
    }
    editors = None
    sent = 0
    for assignment, kind, repetition in wanted:
        row = rows.get((assignment.pk, kind, repetition))
        if row is None:
            continue  # sent already
        if kind == Kind.ESCALATION:
            editors = list(notifications.managing_editors()) if editors is None else editors
            recipients = editors
        else:
            recipients = [assignment.reviewer.user]
        if not recipients:
            logger.warning("no managing editor to escalate assignment %s to", assignment.pk)
            continue  # left unsent: it goes once someone holds the role
        sent += _claim_and_send(row, assignment, recipients, today)
    return sent


def _message(assignment: ReviewAssignment, kind: str, repetition: int, today: dt.date) -> tuple[str, str]:
    article, member = assignment.article, assignment.reviewer
    due = timezone.localdate(assignment.due_at)
    link = notifications.admin_url("reviewers/reviewassignment/")
    if kind == Kind.BEFORE_DUE:
        days = (due - today).days
        return (f"Review due in {days} day{'s' if days != 1 else ''}: {article.title}",
                f"Dear {member.printed_name},\n\nYour review of \"{article.title}\" is due on {due:%d %B %Y}."
                f"\n\n{link}\n")
    if kind == Kind.DUE:
        return (f"Review due today: {article.title}",
                f"Dear {member.printed_name},\n\nYour review of \"{article.title}\" is due today.\n\n{link}\n")
    late = (today - due).days
    if kind == Kind.OVERDUE:
        return (f"Review overdue ({late} days, reminder {repetition}): {article.title}",
                f"Dear {member.printed_name},\n\nYour review of \"{article.title}\" was due on {due:%d %B %Y}, "
                f"{late} days ago. Please sign your decision, or tell the managing editor if you cannot.\n\n{link}\n")
    return (f"Overdue review escalated: {member.printed_name} on {article.title}",
            f"{member.printed_name} has not reviewed \"{article.title}\", due on {due:%d %B %Y} ({late} days "
            f"ago), despite reminders. Consider reassigning it.\n\n{notifications.admin_url()}\n")


def _claim_and_send(row: ReviewReminder, assignment: ReviewAssignment, recipients: list[Any], today: dt.date) -> int:
    now = timezone.now()
    claimed = (ReviewReminder.objects.filter(pk=row.pk, sent_at__isnull=True)
               .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
               .update(claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1))
    if not claimed:
        return 0  # another worker is sending it, or has sent it
    subject, body = _message(assignment, row.kind, row.repetition, today)
    addresses = [user.email for user in recipients if user.email]
    try:
        if addresses:
            EmailMessage(subject, body, to=addresses).send()
    except Exception as exc:  # the mail server failed: leave the row unsent; the next run retries
        logger.warning("reminder %s failed: %s", row.pk, exc)
        ReviewReminder.objects.filter(pk=row.pk).update(claimed_until=None, last_error=str(exc)[:500])
        return 0
    kind = Notification.Kind.ESCALATION if row.kind == Kind.ESCALATION else Notification.Kind.REMINDER
    sent_at = timezone.now()
    with transaction.atomic():
        ReviewReminder.objects.filter(pk=row.pk).update(sent_at=sent_at, claimed_until=None, last_error="")
        Notification.objects.bulk_create([
            Notification(recipient=user, kind=kind, subject=subject, body=body, article=assignment.article,
                         assignment=assignment, created_at=sent_at, emailed_at=sent_at if user.email else None)
            for user in recipients
        ])
    return 1


def overdue_assignments():
    """Open assignments past their due date, most overdue first (the managing editor's list)."""
    return (ReviewAssignment.objects.filter(status=ReviewAssignment.Status.OPEN, due_at__lt=timezone.now())
            .select_related("article", "reviewer").order_by("due_at"))
