"""The set-based forms of the transitions, for the background jobs' volumes (thousands of articles
at once: the review date's flag, a retraction's, the unpublication past a grace period).

Each is the same transition as `services.transitions.run` runs for one article: its source and
target states are the state machine's own (`Article.state`'s transitions, read by `sources` and
`target`), its audit action the transition table's, its reviewer eligibility the set-based rule
`rules.eligible_reviewers`; only the writing is set-based. The state is written by one UPDATE per
form, the consequences (audit events, changes feed, webhook outbox, re-review assignments and
their notifications) as rows streamed with COPY on PostgreSQL (`governance.workflow.rows`), so the
number of statements does not grow with the number of articles. No other code writes `state`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Case, DateField, Value, When
from django.utils import timezone

from articles.models import Article, PublishedSnapshot, RiskTier
from governance.models import ChangeEvent, Notification, ReviewPolicy
from governance.workflow import audit, outbox, policies, rows, rules, snapshots
from governance.workflow.exceptions import TransitionRefused
from governance.workflow.services.transitions import TRANSITIONS
from reviewers.models import BoardMember, Review, ReviewAssignment, ReviewCycle


def sources(name: str) -> list[str]:
    """The states transition `name` starts from, as the state machine declares them."""
    return sorted({str(t.source) for t in Article._meta.get_field("state").get_all_transitions(Article)
                   if t.name == name})


def target(name: str) -> str:
    """The state transition `name` ends in."""
    [state] = {str(t.target) for t in Article._meta.get_field("state").get_all_transitions(Article) if t.name == name}
    return state


@dataclass
class FlagResult:
    flagged: list[str] = field(default_factory=list)  # slugs
    re_review_requests: int = 0
    unpublished: list[str] = field(default_factory=list)
    reviewers_told: int = 0  # retraction watch: reviewers told of an article already in review_due


# --- policies, resolved in memory (one query for all of them) -----------------------------------

@dataclass(frozen=True)
class _Policy:
    assignment_due_days: int = 14
    unpublish_grace_days: int | None = None


def policy_table() -> Callable[[int, str], _Policy]:
    """Resolve ReviewPolicy like selectors.policy_for, for many articles, with one query."""
    stored = list(ReviewPolicy.objects.all())
    by_key = {(p.topic_id, p.risk_tier): p for p in stored}

    def resolve(topic_id: int, risk_tier: str) -> _Policy:
        policy = by_key.get((topic_id, risk_tier)) or by_key.get((None, risk_tier))
        if policy is None:
            return _Policy()
        return _Policy(policy.assignment_due_days, policy.unpublish_grace_days)

    return resolve


# --- the set-based flag -------------------------------------------------------------------------

@dataclass(slots=True)
class Flagged:
    """What the consequences of a flag need to know of an article (no model instance is built)."""

    pk: int
    slug: str
    title: str
    topic_id: int
    risk_tier: str
    created_by_id: int
    live_snapshot_id: int | None
    revision_id: int | None = None
    content_hash: str = ""
    published_by_id: int | None = None

    def __str__(self) -> str:  # as str(Article)
        return self.title


_RETURNED = ("id", "slug", "title", "topic_id", "risk_tier", "created_by_id", "live_snapshot_id")


def _update_returning(where: str, params: list[Any]) -> list[Flagged]:
    """UPDATE the articles matching `where` that are in a source state of flag_review_due to its
    target state, returning what the consequences need of each, in primary-key order. PostgreSQL
    re-checks the WHERE clause of a row another transaction changed meanwhile, so a concurrent
    run skips what this one flagged."""
    q = connection.ops.quote_name
    states = sources("flag_review_due")
    table = q(Article._meta.db_table)
    state = q(Article._meta.get_field("state").column)
    updated_at = q(Article._meta.get_field("updated_at").column)
    returned = ", ".join(q(Article._meta.get_field(name).column) for name in _RETURNED)
    in_source = f"{state} = %s" if len(states) == 1 else f"{state} IN ({', '.join(['%s'] * len(states))})"
    sql = f"UPDATE {table} SET {state} = %s, {updated_at} = %s WHERE {in_source} AND ({where}) RETURNING {returned}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [target("flag_review_due"), timezone.now(), *states, *params])
        return sorted((Flagged(*row) for row in cursor.fetchall()), key=lambda a: a.pk)


def flag_review_due(ids_sql: str, params: list[Any], *, reason_for: Callable[[Flagged], str]) -> FlagResult:
    """The set-based flag_review_due: flag the published articles selected by `ids_sql` (a WHERE
    clause on the article table, with its `params`) and write every consequence in bulk,
    set-based (rows built as tuples, written with COPY on PostgreSQL: see governance.workflow.rows).
    Runs in one transaction; the article rows stay locked until it commits. `reason_for` is
    given each article as a `Flagged` (pk, slug, title, topic_id, …)."""
    result = FlagResult()
    with transaction.atomic():
        articles = _update_returning(ids_sql, params)
        if not articles:
            return result
        live = {pk: rest for pk, *rest in PublishedSnapshot.objects.filter(
            rows.any_of("pk", [a.live_snapshot_id for a in articles if a.live_snapshot_id])).values_list(
            "pk", "revision_id", "revision__content_hash", "published_by_id").order_by()}
        for article in articles:
            if article.live_snapshot_id in live:
                article.revision_id, article.content_hash, article.published_by_id = live[article.live_snapshot_id]
        reasons = {a.pk: reason_for(a) for a in articles}
        requests = _re_review_requests(articles)
        # Generators: each row is built while COPY sends the previous ones.
        audit.record_many(itertools.chain(_flag_events(articles, reasons), _request_events(requests, reasons)))
        changes = [(ChangeEvent.Type.REVIEW_DUE, a, a.content_hash if a.live_snapshot_id else "") for a in articles]
        audit.record_changes(changes)
        outbox.enqueue_many(changes)
        outbox.notify_rows(_request_notes(requests, reasons))
        result.flagged = [a.slug for a in articles]
        result.re_review_requests = len(requests)
    return result


def flag_articles(ids: list[int], *, reason: str) -> FlagResult:
    """`flag_review_due` for the given articles (those of them that are published), with one reason."""
    where, params = rows.any_of_sql(connection.ops.quote_name(Article._meta.pk.column), ids)
    return flag_review_due(where, params, reason_for=lambda article: reason)


def request_re_reviews(articles: list[Flagged], reasons: dict[int, str]) -> int:
    """Ask the approvers of each article's live text who may still review it to review it again,
    as the flag does (the assignments in one statement, their `assignment.create` audit events,
    a notification each), with `reasons[article.pk]`; in the caller's transaction. Returns how
    many were asked."""
    requests = _re_review_requests(articles)
    audit.record_many(_request_events(requests, reasons))
    outbox.notify_rows(_request_notes(requests, reasons))
    return len(requests)


def flagged(article: Article, snapshot: PublishedSnapshot) -> Flagged:
    """What the re-review requests need of an article with a live snapshot."""
    return Flagged(article.pk, article.slug, article.title, article.topic_id, article.risk_tier,
                   article.created_by_id, snapshot.pk, snapshot.revision_id, snapshot.revision.content_hash,
                   snapshot.published_by_id)


def _flag_events(articles: list[Flagged], reasons: dict[int, str]) -> Iterator[audit.PendingEvent]:
    label = Article._meta.label_lower
    action, [from_state], to_state = TRANSITIONS["flag_review_due"].action, sources("flag_review_due"), \
        target("flag_review_due")
    for a in articles:
        # PendingEvent(action, object_type, object_id, object_repr, article_id, article_slug, from_state,
        # to_state, reason, data)
        yield audit.PendingEvent(action, label, str(a.pk), a.title, a.pk, a.slug, from_state, to_state, reasons[a.pk])


# (assignment pk, article, board member id, (user id, printed name, username), due at)
Request = tuple[int, Flagged, int, tuple[int, str, str], dt.datetime]


def _re_review_requests(articles: list[Flagged]) -> list[Request]:
    """New open assignments for the approvers of each article's live text who may still review
    it (`rules.eligible_reviewers`) and have no open assignment on it yet, written in one
    statement. A constant number of queries, each reading only the columns it needs."""
    by_revision = {a.revision_id: a for a in articles if a.live_snapshot_id and a.revision_id}
    approvals = list(Review.objects.filter(rows.any_of("revision_id", by_revision),
                                           decision=Review.Decision.APPROVED, voided_at__isnull=True)
                     .values_list("revision_id", "reviewer_id"))
    if not approvals:
        return []
    username = f"user__{get_user_model().USERNAME_FIELD}"
    members = {pk: rest for pk, *rest in BoardMember.objects.filter(pk__in={m for _, m in approvals}).values_list(
        "pk", "user_id", "is_active", "credentials_verified_at", "licence_expires_on", "printed_name", username)
        .order_by()}
    eligible = rules.eligible_reviewers(
        [(by_revision[revision_id].pk, by_revision[revision_id].topic_id, by_revision[revision_id].created_by_id,
          member_id) for revision_id, member_id in approvals],
        {pk: rules.ReviewerFacts(*facts[:4]) for pk, facts in members.items()})
    if not eligible:
        return []
    already_open = set(ReviewAssignment.objects.filter(rows.any_of("article_id", [a.pk for a in articles]),
                                                       status=ReviewAssignment.Status.OPEN)
                       .values_list("article_id", "reviewer_id").order_by())
    picked = _pick(by_revision, approvals, eligible - already_open)
    if not picked:
        return []
    now = timezone.now()
    ids = rows.allocate_ids(ReviewAssignment, len(picked))
    rows.insert_rows(ReviewAssignment, ("id", "article_id", "reviewer_id", "assigned_by_id", "assigned_at", "due_at",
                                        "status", "completed_at"),
                     ((pk, article.pk, member_id, assigned_by, now, due, ReviewAssignment.Status.OPEN.value, None)
                      for pk, (article, member_id, assigned_by, due) in zip(ids, picked, strict=True)))
    who = {pk: (user_id, printed_name, user_name) for pk, (user_id, *_, printed_name, user_name) in members.items()}
    return [(pk, article, member_id, who[member_id], due)
            for pk, (article, member_id, _, due) in zip(ids, picked, strict=True)]


def _pick(by_revision: dict[int, Flagged], approvals: list[tuple[int, int]],
          wanted: set[tuple[int, int]]) -> list[tuple[Flagged, int, int, dt.datetime]]:
    """(article, member id, assigned by, due at) of each re-review request to make, once per pair."""
    now = timezone.now()
    resolve = policy_table()
    fallback_editor = policies.managing_editors().values_list("pk", flat=True).first()
    picked = []
    due_at: dict[tuple[int, str], dt.datetime] = {}
    for revision_id, member_id in approvals:
        article = by_revision[revision_id]
        if (article.pk, member_id) not in wanted:
            continue
        wanted.discard((article.pk, member_id))
        key = (article.topic_id, article.risk_tier or RiskTier.STANDARD)
        if key not in due_at:
            due_at[key] = now + dt.timedelta(days=resolve(*key).assignment_due_days)
        # The system asks on behalf of whoever published the live text (else a managing editor).
        assigned_by = article.published_by_id or fallback_editor or article.created_by_id
        picked.append((article, member_id, assigned_by, due_at[key]))
    return picked


def _request_events(requests: list[Request], reasons: dict[int, str]) -> Iterator[audit.PendingEvent]:
    """The `assignment.create` audit event of each re-review request (as services.assignment_create
    writes it, with `system` in its data)."""
    label = ReviewAssignment._meta.label_lower
    dates: dict[dt.datetime, tuple[str, str]] = {}
    data: dict[tuple[int, dt.datetime], rows.JSONText] = {}  # one text per (reviewer, due date)
    re_review = {reason: f"re-review requested: {reason}" for reason in set(reasons.values())}
    for pk, article, member_id, (_, printed_name, user_name), due in requests:
        if due not in dates:
            dates[due] = (due.isoformat(), f"{due:%Y-%m-%d}")
        due_iso, due_day = dates[due]
        if (member_id, due) not in data:
            data[member_id, due] = rows.JSONText(json.dumps({"reviewer": user_name, "due_at": due_iso, "system": True}))
        yield audit.PendingEvent("assignment.create", label, str(pk), f"{printed_name} → {article.slug} (due {due_day})",
                                 article.pk, article.slug, "", "", re_review[reasons[article.pk]], data[member_id, due])


def _request_notes(requests: list[Request], reasons: dict[int, str]) -> Iterator[tuple[Any, ...]]:
    """The notification (rows for outbox.notify_rows) of each re-review request."""
    kind = Notification.Kind.REVIEW_REQUESTED.value
    dates: dict[dt.datetime, str] = {}
    for pk, article, _, (user_id, printed_name, _), due in requests:
        if due not in dates:
            local = timezone.localdate(due)
            dates[due] = f"{local.day} {local:%B %Y}"
        url = outbox.review_url(pk)  # the new assignment's review page
        yield (user_id, kind, f"Re-review requested: {article.title}",
               f"Dear {printed_name},\n\nYou approved the live text of \"{article.title}\". It needs "
               f"re-review: {reasons[article.pk]}.\n\nPlease review it by {dates[due]}. If the text is still "
               f"accurate you can re-approve it unchanged.\n\n{url}\n", url, article.pk, pk)


def withdraw(reasons: dict[int, str], *, states: list[str] | None = None) -> list[str]:
    """The set-based withdraw: take down the live text of the articles `reasons` names (id:
    reason), those still in one of `states` (default: every source state of withdraw; a job may
    narrow it) with a live text once locked. As `run("withdraw")` does for one: the open cycles
    closed and open assignments cancelled, the state and the tombstone's reason written, the
    `article.withdraw` audit events, the feed's tombstones and the `withdrawn` webhooks — each
    one statement (an UPDATE per distinct reason). Only an article some live article links to
    as related costs more (its links are dropped, `snapshots.relink`). Returns the slugs."""
    allowed = sources("withdraw")
    states = allowed if states is None else [state for state in states if state in allowed]
    if any(not reason.strip() for reason in reasons.values()):
        raise TransitionRefused("Every withdrawal needs a reason.", rule="reason_required")
    now = timezone.now()
    with transaction.atomic():
        # Locked, and re-read under the lock: an article another worker (or an editor) changed
        # meanwhile is no longer in those states with a live text, and is left alone.
        locked = list(Article.objects.select_for_update(of=("self",)).filter(
            rows.any_of("pk", reasons), state__in=states, live_snapshot__isnull=False)
            .values_list("pk", "slug", "title", "live_snapshot_id", "state").order_by("pk"))
        if not locked:
            return []
        ids = [pk for pk, *_ in locked]
        hashes = dict(PublishedSnapshot.objects.filter(rows.any_of("pk", [row[3] for row in locked]))
                      .values_list("pk", "revision__content_hash").order_by())
        ReviewCycle.objects.filter(rows.any_of("article_id", ids), closed_at__isnull=True).update(
            closed_at=now, outcome=ReviewCycle.Outcome.WITHDRAWN)
        ReviewAssignment.objects.filter(rows.any_of("article_id", ids), status=ReviewAssignment.Status.OPEN).update(
            status=ReviewAssignment.Status.CANCELLED)
        by_reason: dict[str, list[int]] = {}
        for pk in ids:
            by_reason.setdefault(reasons[pk].strip(), []).append(pk)
        for reason, pks in by_reason.items():
            Article.objects.filter(rows.any_of("pk", pks)).update(
                state=target("withdraw"), withdrawn_reason=reason, withdrawn_at=now, live_snapshot=None, updated_at=now)
        label, action, to_state = Article._meta.label_lower, TRANSITIONS["withdraw"].action, target("withdraw")
        audit.record_many(audit.PendingEvent(action, label, str(pk), title[:300], pk, slug, state, to_state,
                                             reasons[pk].strip()) for pk, slug, title, _, state in locked)
        _unlink_withdrawn([(pk, slug) for pk, slug, *_ in locked])
        changes = [(ChangeEvent.Type.WITHDRAWN, Article(pk=pk, slug=slug), hashes.get(snap, ""))
                   for pk, slug, _, snap, _ in locked]
        audit.record_changes(changes)
        outbox.enqueue_many(changes)
    return [slug for _, slug, *_ in locked]


def _unlink_withdrawn(articles: list[tuple[int, str]]) -> None:
    """The live articles related to these withdrawn ones stop linking them (one query to find them)."""
    Related = Article.related.through
    linked = set(Related.objects.filter(rows.any_of("from_article_id", [pk for pk, _ in articles]),
                                        to_article__live_snapshot__isnull=False)
                 .values_list("from_article_id", flat=True).distinct())
    for pk, slug in articles:
        if pk in linked:
            snapshots.relink(Article(pk=pk, slug=slug), None)


def review_dates_set(to_date: dict[int, dt.date], *, live_snapshot: dict[int, int],
                     events: Iterable[audit.PendingEvent], actor: Any) -> int:
    """Move the review dates of many live articles (id: new `next_review_due`) in one UPDATE, in
    the caller's transaction (whose lock it relies on), their live snapshots serving the new
    dates at once (`snapshots.refresh_review_dates`), and append their audit `events` by `actor`.
    No state changes and no changes-feed event or webhook (the approved text did not change).
    Returns the number of articles updated."""
    updated = Article.objects.filter(rows.any_of("pk", to_date)).update(
        next_review_due=Case(*[When(pk=pk, then=Value(day)) for pk, day in to_date.items()],
                             output_field=DateField()))
    snapshots.refresh_review_dates({live_snapshot[pk]: day for pk, day in to_date.items() if pk in live_snapshot})
    audit.record_many(events, actor=actor)
    return updated
