"""Review reminders and escalation.

For each open assignment, by calendar day (in settings.TIME_ZONE):

- `before_due` from `remind_before_days` (policy, default 7) before the due date, once;
- `due` on the due date, and only then;
- `overdue` from the day after: #1 on due + 1 day, then every `overdue_repeat_days` (default 3):
  #2 on due + 4, #3 on due + 7, …, until the review is done or the assignment cancelled;
- `escalation`, once, to the managing editor(s) `escalate_after_days` (default 7) after the
  due date.

Each says what is true on the day it is sent: how many days are left or how late the review is,
and the due date. Missed reminders are not sent in a burst: each run sends only the latest
reviewer reminder that applies that day (and the escalation, which goes to someone else); one
that no longer applies (`due` after its day, a `before_due` once the day has come) is never sent
late. Each (assignment, kind, repetition)
is one `ReviewReminder` row, inserted with ON CONFLICT DO NOTHING, claimed with a conditional
UPDATE (a lease whose expiry is the claim token), sent while enough of the lease is left, then
marked sent only if the claim is still ours: two workers or two beat processes never send it
twice, and a failed or untried send leaves it unsent, to be retried by the next run. No
transaction is open while the mail server is talked to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMessage
from django.utils import timezone

from articles.models import Article
from governance.background import claims, notifications
from governance.models import Notification, ReviewPolicy, ReviewReminder
from governance.workflow.services import ASSIGNABLE_STATES
from reviewers.models import ReviewAssignment

CLAIM_LEASE = dt.timedelta(minutes=5)
Kind = ReviewReminder.Kind


@dataclass(frozen=True)
class Timing:
    remind_before_days: int = 7
    overdue_repeat_days: int = 3
    escalate_after_days: int = 7


def timing_table() -> tuple[Callable[[Article], Timing], int]:
    """Resolve each article's reminder timing like selectors.policy_for, with one query; and the
    longest `remind_before_days` of any policy (no assignment due later needs a reminder yet)."""
    by_key = {(p.topic_id, p.risk_tier): p for p in ReviewPolicy.objects.all()}

    def resolve(article: Article) -> Timing:
        policy = by_key.get((article.topic_id, article.risk_tier)) or by_key.get((None, article.risk_tier))
        if policy is None:
            return Timing()
        return Timing(policy.remind_before_days, policy.overdue_repeat_days, policy.escalate_after_days)

    horizon_days = max([Timing().remind_before_days, *(p.remind_before_days for p in by_key.values())])
    return resolve, horizon_days


def reviewer_reminder_due(due_on: dt.date, today: dt.date, timing: Timing) -> tuple[str, int] | None:
    """The latest reviewer reminder that applies today: (kind, repetition), or None. Overdue #n
    applies from due + 1 + (n - 1) * `overdue_repeat_days` until the next one does."""
    if today < due_on - dt.timedelta(days=timing.remind_before_days):
        return None
    if today < due_on:
        return Kind.BEFORE_DUE, 0
    if today == due_on:
        return Kind.DUE, 0
    days_late = (today - due_on).days
    return Kind.OVERDUE, (days_late - 1) // max(1, timing.overdue_repeat_days) + 1


def escalation_due(due_on: dt.date, today: dt.date, timing: Timing) -> bool:
    return today >= due_on + dt.timedelta(days=timing.escalate_after_days)


@dataclass(frozen=True)
class Pending:
    """An unsent reminder row, with the assignment it is about."""

    pk: int
    kind: str
    repetition: int
    assignment: ReviewAssignment


def send_review_reminders(*, now: dt.datetime | None = None) -> int:
    """Send every reminder and escalation that is due now; returns how many were sent.

    Set-based, so 10,000 reminders cost a few hundred statements, not four each: one query for
    the open assignments that may need a reminder (due before today plus the longest reminder
    lead of any policy), one INSERT … ON CONFLICT DO NOTHING per 1,000 reminder rows, one query
    for the unsent ones; then per batch of SEND_BATCH reminders one claiming UPDATE … RETURNING,
    the emails over one mail connection, and one transaction that marks the sent ones and writes
    their in-app notifications (a failed one is released with its error, to be retried)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    resolve, horizon_days = timing_table()
    horizon = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=horizon_days + 1), dt.time.min))
    candidates = (ReviewAssignment.objects
                  .filter(status=ReviewAssignment.Status.OPEN, article__state__in=ASSIGNABLE_STATES, due_at__lt=horizon)
                  .select_related("article", "reviewer__user"))
    wanted: dict[tuple[int, str, int], ReviewAssignment] = {}
    for assignment in candidates.iterator(chunk_size=2000):
        timing = resolve(assignment.article)
        due_on = timezone.localdate(assignment.due_at)
        reminder = reviewer_reminder_due(due_on, today, timing)
        # An inactive board member (or login) is not reminded; the escalation still goes, so the
        # managing editor reassigns their review.
        if reminder is not None and assignment.reviewer.is_active and assignment.reviewer.user.is_active:
            wanted[(assignment.pk, *reminder)] = assignment
        if escalation_due(due_on, today, timing):
            wanted[(assignment.pk, Kind.ESCALATION, 0)] = assignment
    if not wanted:
        return 0
    ReviewReminder.objects.bulk_create(
        [ReviewReminder(assignment_id=pk, kind=kind, repetition=rep, created_at=now) for pk, kind, rep in wanted],
        ignore_conflicts=True, batch_size=1000,
    )
    # The unsent rows of what applies today (an unsent row of an earlier kind is superseded, not
    # sent late); the same assignments the first query chose, so the same bound on due_at.
    pending = [
        Pending(pk, kind, repetition, wanted[(assignment_id, kind, repetition)])
        for pk, assignment_id, kind, repetition in ReviewReminder.objects.filter(
            sent_at__isnull=True, assignment__status=ReviewAssignment.Status.OPEN, assignment__due_at__lt=horizon,
        ).order_by("pk").values_list("pk", "assignment_id", "kind", "repetition")
        if (assignment_id, kind, repetition) in wanted
    ]
    editors: list[Any] | None = None
    sent = 0
    for start in range(0, len(pending), SEND_BATCH):
        batch = pending[start:start + SEND_BATCH]
        if editors is None and any(item.kind == Kind.ESCALATION for item in batch):
            editors = list(notifications.managing_editors())
        sent += _send_batch(batch, editors or [], today)
    return sent


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


def _message(assignment: ReviewAssignment, kind: str, repetition: int, today: dt.date) -> tuple[str, str, str]:
    """(subject, body, link) of a reminder sent `today`: true on that day (days left or days late,
    and the due date, both by the calendar of settings.TIME_ZONE). The reviewer's link opens
    their review of this assignment; the managing editor's, the article in the editor."""
    article, member = assignment.article, assignment.reviewer
    due = timezone.localdate(assignment.due_at)
    due_text = f"{due:%A} {due.day} {due:%B %Y}"
    if kind == Kind.ESCALATION:
        link = notifications.editor_article_url(article.slug)
        late = (today - due).days
        return (f"Overdue review escalated: {member.printed_name} on {article.title}",
                f"{member.printed_name} has not reviewed \"{article.title}\", due on {due_text} "
                f"({_days(late)} ago), despite reminders. Consider reassigning it.\n\n{link}\n", link)
    link = notifications.review_url(assignment.pk)
    if kind == Kind.BEFORE_DUE:
        left = (due - today).days
        return (f"Review due in {_days(left)}: {article.title}",
                f"Dear {member.printed_name},\n\nYour review of \"{article.title}\" is due on {due_text}, "
                f"in {_days(left)}.\n\n{link}\n", link)
    if kind == Kind.DUE:
        return (f"Review due today: {article.title}",
                f"Dear {member.printed_name},\n\nYour review of \"{article.title}\" is due today, {due_text}."
                f"\n\n{link}\n", link)
    late = (today - due).days
    return (f"Review {_days(late)} overdue (reminder {repetition}): {article.title}",
            f"Dear {member.printed_name},\n\nYour review of \"{article.title}\" was due on {due_text}, "
            f"{_days(late)} ago. Please sign your decision, or tell the managing editor if you cannot."
            f"\n\n{link}\n", link)


SEND_BATCH = 200  # claimed together: sent well within CLAIM_LEASE even by a slow mail server
REMINDER_COLUMNS = claims.Columns(done="sent_at", lease="claimed_until", attempts="attempts", error="last_error")


def _send_batch(batch: list[Pending], editors: list[Any], today: dt.date) -> int:
    """Claim a batch, send its emails over one connection, then mark what went and write the
    in-app notifications of the sent ones in one transaction (`claims.send_claimed`)."""
    messages: dict[int, tuple[list[Any], str, str, str]] = {}

    def send(item: Pending, claimed: claims.Batch) -> None:
        recipients = editors if item.kind == Kind.ESCALATION else [item.assignment.reviewer.user]
        if not recipients:  # left unsent: it goes once someone holds the role
            raise claims.Unsendable("no managing editor to escalate to")
        subject, body, link = _message(item.assignment, item.kind, item.repetition, today)
        addresses = [user.email for user in recipients if user.email]
        if addresses:
            claimed.mail(EmailMessage(subject, body, to=addresses))
        messages[item.pk] = (recipients, subject, body, link)

    def in_app(sent: list[Pending], sent_at: dt.datetime) -> None:
        Notification.objects.bulk_create([
            Notification(recipient=user,
                         kind=Notification.Kind.ESCALATION if item.kind == Kind.ESCALATION else Notification.Kind.REMINDER,
                         subject=subject, body=body, url=link, article=item.assignment.article,
                         assignment=item.assignment, created_at=sent_at, emailed_at=sent_at if user.email else None)
            for item in sent for recipients, subject, body, link in [messages[item.pk]] for user in recipients
        ], batch_size=1000)

    return len(claims.send_claimed(ReviewReminder, batch, key=lambda item: item.pk, columns=REMINDER_COLUMNS,
                                   lease=CLAIM_LEASE, send=send, on_settled=in_app))


def overdue_assignments():
    """Open assignments past their due date, most overdue first (the managing editor's list)."""
    return (ReviewAssignment.objects.filter(status=ReviewAssignment.Status.OPEN, due_at__lt=timezone.now())
            .select_related("article", "reviewer").order_by("due_at"))
