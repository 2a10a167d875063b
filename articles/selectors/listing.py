"""The editor's article list and dashboard. Every query starts from
`governance.workflow.policies.visible_articles(user)`, so a page shows only what the policy lets that user see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from articles.models import Article, ArticleState, Citation, Reference
from governance.workflow import policies
from reviewers.models import BoardMember, ReviewAssignment

IN_REVIEW_STATES = (ArticleState.SUBMITTED, ArticleState.IN_REVIEW)
DUE_WINDOWS = (30, 60, 90)


# --- the article list ------------------------------------------------------------------------

def article_list(user: Any, *, q: str = "", state: str = "", topic: str = "", origin: str = "",
                 due: str = "", reviewer: BoardMember | None = None) -> QuerySet[Article]:
    """The articles `user` may see, filtered as the list page asks. `due` is `overdue` or a number
    of days (30/60/90) within which the next review falls due."""
    qs = policies.visible_articles(user).select_related("topic", "created_by", "current_revision")
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(slug__icontains=q) | Q(current_revision__summary__icontains=q))
    if state:
        qs = qs.filter(state=state)
    if topic:
        qs = qs.filter(topic__slug=topic)
    if origin:
        qs = qs.filter(origin=origin)
    today = timezone.localdate()
    if due == "overdue":
        qs = qs.filter(next_review_due__lt=today)
    elif due.isdigit():
        qs = qs.filter(next_review_due__gte=today, next_review_due__lte=today + dt.timedelta(days=int(due)))
    if reviewer is not None:
        qs = qs.filter(assignments__reviewer=reviewer).distinct()
    return qs.order_by("-updated_at", "-pk")


# --- the dashboard ---------------------------------------------------------------------------

@dataclass
class Bar:
    label: str
    value: int
    key: str = ""


@dataclass
class Chart:
    """A bar chart drawn server-side as SVG (see templates/articles/editor/_bar_chart.html)."""

    title: str
    bars: list[Bar]
    empty_message: str
    unit: str = "articles"

    @property
    def is_empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


@dataclass
class Dashboard:
    my_drafts: list[Article]
    waiting_for_review: list[Article]
    overdue_assignments: list[ReviewAssignment]
    overdue_articles: list[Article]
    coming_due: dict[int, list[Article]]
    retracted: list[dict[str, Any]]
    state_chart: Chart
    due_chart: Chart
    counts: dict[str, int] = field(default_factory=dict)


DASHBOARD_ITEMS = 10  # rows listed per dashboard card; the card's count is the full total


def _total(shown: list[Any], qs: QuerySet) -> int:
    """How many rows `qs` has: the length of the list shown, unless the list was cut off."""
    return len(shown) if len(shown) < DASHBOARD_ITEMS else qs.order_by().count()


def dashboard(user: Any, *, today: dt.date | None = None) -> Dashboard:
    """Everything the editor's landing page shows, in a constant number of queries."""
    today = today or timezone.localdate()
    now = timezone.now()
    visible = policies.visible_articles(user)
    base = visible.select_related("topic", "created_by")
    drafts_qs = base.filter(created_by=user, state=ArticleState.DRAFT)
    waiting_qs = base.filter(state__in=IN_REVIEW_STATES)
    overdue_assignments_qs = ReviewAssignment.objects.filter(
        article__in=visible.values("pk"), status=ReviewAssignment.Status.OPEN, due_at__lt=now)
    overdue_articles_qs = base.filter(live_snapshot__isnull=False, next_review_due__lt=today)
    my_drafts = list(drafts_qs.order_by("-updated_at")[:DASHBOARD_ITEMS])
    waiting = list(waiting_qs.order_by("updated_at")[:DASHBOARD_ITEMS])
    overdue_assignments = list(overdue_assignments_qs.select_related("article", "reviewer")
                               .order_by("due_at")[:DASHBOARD_ITEMS])
    overdue_articles = list(overdue_articles_qs.order_by("next_review_due")[:DASHBOARD_ITEMS])
    counts = {"my_drafts": _total(my_drafts, drafts_qs), "waiting_for_review": _total(waiting, waiting_qs),
              "overdue_assignments": _total(overdue_assignments, overdue_assignments_qs),
              "overdue_articles": _total(overdue_articles, overdue_articles_qs)}
    counts["overdue"] = counts["overdue_assignments"] + counts["overdue_articles"]
    upcoming = list(base.filter(live_snapshot__isnull=False, next_review_due__gte=today,
                                next_review_due__lte=today + dt.timedelta(days=DUE_WINDOWS[-1]))
                    .order_by("next_review_due"))
    coming_due: dict[int, list[Article]] = {days: [] for days in DUE_WINDOWS}
    for article in upcoming:
        days_left = (article.next_review_due - today).days
        window = next(d for d in DUE_WINDOWS if days_left <= d)
        coming_due[window].append(article)

    since = now - dt.timedelta(days=90)
    retracted_refs = (
        Reference.objects.filter(retraction_status=Reference.RetractionStatus.RETRACTED)
        .filter(Q(retraction_updated_at__gte=since) | Q(retraction_updated_at__isnull=True))
        .filter(Q(citations__revision__article__in=visible.values("pk")))
        .distinct().order_by("-retraction_updated_at")[:10]
    )
    retracted_refs = list(retracted_refs)
    citing: dict[int, dict[str, str]] = {}
    if retracted_refs:
        rows = (Citation.objects.filter(reference__in=retracted_refs, revision__article__in=visible.values("pk"))
                .values_list("reference_id", "revision__article__slug", "revision__article__title").distinct())
        for ref_id, slug, title in rows:
            citing.setdefault(ref_id, {})[slug] = title
    retracted = [{"reference": ref, "articles": sorted(citing.get(ref.pk, {}).items())} for ref in retracted_refs]

    by_state = dict(visible.order_by().values_list("state").annotate(n=Count("pk", distinct=True)))
    state_chart = Chart(
        title="Articles by state",
        bars=[Bar(label, by_state.get(value, 0), value) for value, label in ArticleState.choices],
        empty_message="No articles yet. Create the first one and it will be counted here.",
    )
    monday = today - dt.timedelta(days=today.weekday())
    weeks = [monday + dt.timedelta(weeks=i) for i in range(12)]
    due_dates = list(visible.filter(live_snapshot__isnull=False, next_review_due__gte=monday,
                                    next_review_due__lt=weeks[-1] + dt.timedelta(days=7))
                     .values_list("next_review_due", flat=True))
    assignment_dues = list(
        ReviewAssignment.objects.filter(article__in=visible.values("pk"), status=ReviewAssignment.Status.OPEN,
                                        due_at__date__gte=monday, due_at__date__lt=weeks[-1] + dt.timedelta(days=7))
        .values_list("due_at", flat=True))
    per_week = [0] * len(weeks)
    for due in [*due_dates, *(timezone.localtime(d).date() for d in assignment_dues)]:
        per_week[(due - monday).days // 7] += 1
    due_chart = Chart(
        title="Reviews due per week (next 12 weeks)",
        bars=[Bar(f"w/c {week:%d %b}", n) for week, n in zip(weeks, per_week, strict=True)],
        empty_message="Nothing falls due in the next 12 weeks: no open review assignments and no "
                      "published article reaches its re-review date.",
        unit="reviews",
    )
    return Dashboard(
        my_drafts=my_drafts, waiting_for_review=waiting, overdue_assignments=overdue_assignments,
        overdue_articles=overdue_articles, coming_due=coming_due, retracted=retracted,
        state_chart=state_chart, due_chart=due_chart,
        counts={"total": sum(by_state.values()), **counts},
    )
