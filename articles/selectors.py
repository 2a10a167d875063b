"""Queries the editor UI and the public article page read. Nothing here writes.

Every editor query starts from `governance.workflow.policies.visible_articles(user)`, so a page can show
only what the policy lets that user see.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from dataclasses import dataclass, field
from typing import Any

import diff_match_patch
import patiencediff
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import pgettext_lazy

from articles.models import Article, ArticleState, Citation, Reference, Revision
from governance.models import AuditEvent
from governance.workflow import policies, rules
from governance.workflow import selectors as governance_selectors
from reviewers.models import BoardMember, Review, ReviewAssignment, ReviewCycle

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
    width: int = 560
    bar_height: int = 22
    gap: int = 8
    label_width: int = 130

    @property
    def is_empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def height(self) -> int:
        return len(self.bars) * (self.bar_height + self.gap) + self.gap

    def geometry(self) -> list[dict[str, Any]]:
        top = max((bar.value for bar in self.bars), default=0) or 1
        plot = self.width - self.label_width - 50
        rows = []
        for i, bar in enumerate(self.bars):
            y = self.gap + i * (self.bar_height + self.gap)
            w = round(plot * bar.value / top)
            rows.append({"bar": bar, "y": y, "w": w, "text_y": y + self.bar_height * 0.7,
                         "x": self.label_width, "value_x": self.label_width + w + 6})
        return rows


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


# --- one article -----------------------------------------------------------------------------

TRANSITION_ORDER = ("submit", "start_review", "request_changes", "publish", "schedule", "request_re_review", "revise",
                    "withdraw", "archive")
REASON_SUGGESTED = {"request_changes", "revise", "archive"}


@dataclass
class TransitionOption:
    name: str
    label: str
    target: str
    checklist: list[rules.RuleResult]
    needs_reason: bool
    suggests_reason: bool
    needs_publish_at: bool

    @property
    def ready(self) -> bool:
        """Every rule about the article is met (what the form asks for aside)."""
        return all(item.ok for item in self.checklist if not rules.is_context_rule(item.rule))


def transition_options(user: Any, article: Article) -> list[TransitionOption]:
    """The transitions `user` may run from the article's state (the policy decides), each with the
    checklist of its rules, met or not, and what it asks for (`rules.checklist_before`)."""
    field_ = Article._meta.get_field("state")
    by_name = {}
    for transition in field_.get_all_transitions(Article):
        if transition.name in policies.SYSTEM_TRANSITIONS:
            continue
        if transition.source not in (article.state, "*", "+"):  # "+": any state but the target
            continue
        if transition.target == article.state:
            continue
        by_name.setdefault(transition.name, transition)
    options = []
    for name in TRANSITION_ORDER:
        transition = by_name.get(name)
        if transition is None or not policies.may_transition(user, name, article):
            continue
        if name == "withdraw" and not rules.has_live_text(article, {}).ok:
            continue  # nothing is live: withdrawing cannot apply (archive retires a never-published article)
        asked = rules.asks(article, name)
        options.append(TransitionOption(
            name=name, label=transition.custom.get("label", name.replace("_", " ").capitalize()),
            target=ArticleState(transition.target).label, checklist=rules.checklist_before(article, name),
            needs_reason="reason" in asked, suggests_reason=name in REASON_SUGGESTED,
            needs_publish_at="publish_at" in asked,
        ))
    return options


@dataclass
class UndecidedReviewer:
    assignment: ReviewAssignment
    specialties: list[str]
    covers_missing: list[str]
    refusal: rules.RuleResult | None


@dataclass
class ApprovalProgress:
    """Where the review stands against the `approve` rules (a system transition, so not among the
    transition options): approvals so far, required specialties still missing, reviewers who have
    not decided yet, and what to do about each gap."""

    approvals: int
    required: int
    checklist: list[rules.RuleResult]
    approved_by: list[Review]
    missing_specialties: list[str]
    undecided: list[UndecidedReviewer]
    hints: list[str]

    @property
    def complete(self) -> bool:
        return all(item.ok for item in self.checklist)

    @property
    def summary(self) -> str:
        text = f"{self.approvals} of {self.required} approval{'s' if self.required != 1 else ''}"
        if self.missing_specialties:
            text += f"; needs an approval from {', '.join(self.missing_specialties)}"
        return text


def _as_read_by(refusal: rules.RuleResult | None, member: BoardMember, reader: Any) -> rules.RuleResult | None:
    """A refusal as `reader` may read it: why a reviewer is conflicted is theirs and the managing
    editor's (`policies.conflicts_scope`); anyone else reads only that they cannot approve."""
    if refusal is None or refusal.rule != "no_conflict_of_interest" or policies.conflicts_scope(reader) == "all":
        return refusal
    return rules.RuleResult("reviewer_eligible", False, f"{member.printed_name} cannot approve this article at present.")


def approval_progress(article: Article, *, reader: Any = None) -> ApprovalProgress:
    """The approvals checklist shown while an article is submitted or under review (to `reader`:
    a reviewer's declared interest is not told to the author, see `_as_read_by`)."""
    policy = governance_selectors.policy_for(article)
    checklist = rules.checklist(article, "approve")
    cycle = governance_selectors.open_cycle(article)
    approvals = (list(governance_selectors.approvals_in_cycle(cycle).order_by("signed_at"))
                 if cycle is not None and cycle.revision_id == article.current_revision_id else [])
    covered = {s.slug for review in approvals for s in review.reviewer.specialties.all()}
    missing_slugs = sorted(policy.required_specialties - covered)
    missing = [policy.required_specialty_names[s] for s in missing_slugs]
    authors = governance_selectors.author_ids(article)
    undecided = []
    for assignment in governance_selectors.open_assignments(article).order_by("due_at"):
        member = assignment.reviewer
        slugs = {s.slug: s.name for s in member.specialties.all()}
        undecided.append(UndecidedReviewer(
            assignment=assignment, specialties=sorted(slugs.values()),
            covers_missing=[slugs[s] for s in missing_slugs if s in slugs],
            refusal=_as_read_by(rules.reviewer_refusal(member, article, authors=authors), member, reader)))
    eligible = [u for u in undecided if u.refusal is None]
    hints = []
    still_needed = max(policy.approvals_required - len(approvals), 0)
    if still_needed:
        if len(eligible) < still_needed:
            short = still_needed - len(eligible)
            hints.append(f"Only {len(eligible)} eligible reviewer(s) still to decide for {still_needed} missing "
                         f"approval(s): assign {short} more board member(s).")
        elif article.state == ArticleState.SUBMITTED:
            hints.append(f"Start the review: the assigned reviewers then sign {still_needed} approval(s).")
        else:
            hints.append(f"Waiting for {still_needed} more signed approval(s) from the assigned reviewers.")
    for name in missing:
        if not any(name in u.covers_missing for u in eligible):
            hints.append(f"No reviewer still to decide specialises in {name}: assign one.")
    for u in undecided:
        if u.refusal is not None:
            hints.append(f"{u.refusal.message} Their decision will not count; cancel the assignment "
                         f"and assign someone else.")
        elif u.assignment.is_overdue:
            hints.append(f"{u.assignment.reviewer.printed_name}'s review was due "
                         f"{timezone.localtime(u.assignment.due_at):%d %b %Y}: send a reminder or reassign.")
    return ApprovalProgress(approvals=len(approvals), required=policy.approvals_required, checklist=checklist,
                            approved_by=approvals, missing_specialties=missing, undecided=undecided, hints=hints)


@dataclass
class ReviewerSuggestion:
    member: BoardMember
    open_load: int
    matching: list[str]
    refusal: rules.RuleResult | None
    assigned: bool


def reviewer_suggestions(article: Article) -> list[ReviewerSuggestion]:
    """Active board members for the assignment picker: eligible ones first, those covering the
    policy's required specialties before the others, then the least loaded; members who may not
    review this article (author, conflict of interest, expired licence) come last with the reason."""
    policy = governance_selectors.policy_for(article)
    authors = governance_selectors.author_ids(article)
    assigned = set(ReviewAssignment.objects.filter(article=article, status=ReviewAssignment.Status.OPEN)
                   .values_list("reviewer_id", flat=True))
    members = (BoardMember.objects.filter(is_active=True).select_related("user").prefetch_related("specialties")
               .annotate(open_load=Count("assignments", filter=Q(assignments__status=ReviewAssignment.Status.OPEN))))
    suggestions = []
    for member in members:
        slugs = {s.slug: s.name for s in member.specialties.all()}
        matching = [slugs[s] for s in sorted(policy.required_specialties) if s in slugs]
        suggestions.append(ReviewerSuggestion(
            member=member, open_load=member.open_load, matching=matching,
            refusal=rules.reviewer_refusal(member, article, authors=authors), assigned=member.pk in assigned,
        ))
    suggestions.sort(key=lambda s: (s.refusal is not None, s.assigned, -len(s.matching), s.open_load,
                                    s.member.printed_name))
    return suggestions


AUDIT_LABELS = {
    "article.create": "Article created",
    "revision.create": "New revision saved",
    "reference.create": "Reference added to the library",
    "reference.update": "Reference details updated",
    "reference.retraction_status": "Reference retraction status changed",
    "article.submit": "Submitted for review",
    "article.start_review": "Review started",
    "assignment.create": "Reviewer assigned",
    "assignment.cancel": "Reviewer assignment cancelled",
    "review.sign": "Review decision signed",
    "review.void": "Review decision voided",
    "article.request_changes": "Changes requested",
    "article.approve": "Approved by the board",
    "article.publish": "Published",
    "article.schedule": "Publication scheduled",
    "article.schedule_failed": "Scheduled publication failed",
    "article.revise": "Back to draft for revision",
    "article.void": "Approval voided for revision",
    "article.flag_review_due": "Flagged as due for re-review",
    "article.request_re_review": "Re-review requested by the managing editor",
    "article.review_date_spread": "Re-review date moved (load spreading)",
    "article.withdraw": "Withdrawn from publication",
    "article.archive": "Archived",
    "article.set_related": "Related articles changed",
}
TIMELINE_LIMIT = 50


def audit_label(action: str) -> str:
    """A readable label for an audit action code ("article.submit" → "Submitted for review")."""
    if action in AUDIT_LABELS:
        return AUDIT_LABELS[action]
    subject, _, verb = action.partition(".")
    return f"{subject.replace('_', ' ').capitalize()}: {verb.replace('_', ' ')}" if verb else action


@dataclass
class Timeline:
    events: list[AuditEvent]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.events)


def audit_timeline(article: Article, limit: int = TIMELINE_LIMIT) -> Timeline:
    """The article's latest `limit` audit events, newest first, each with a readable `label`, and
    how many there are in all (the full trail is in the audit dossier)."""
    qs = AuditEvent.objects.filter(article_id=article.pk)
    events = list(qs.order_by("-seq")[:limit + 1])
    total = len(events) if len(events) <= limit else qs.count()
    events = events[:limit]
    for event in events:
        event.label = audit_label(event.action)
    return Timeline(events=events, total=total)


def signed_reviews(article: Article) -> QuerySet[Review]:
    return (Review.objects.filter(article=article).select_related("revision", "reviewer")
            .order_by("-signed_at"))


def assignments_of(article: Article) -> QuerySet[ReviewAssignment]:
    return (ReviewAssignment.objects.filter(article=article).select_related("reviewer", "assigned_by")
            .order_by("status", "due_at"))


# --- revisions and diffs ---------------------------------------------------------------------

def revisions_of(article: Article) -> QuerySet[Revision]:
    return article.revisions.select_related("created_by").order_by("-number")


def revision_text(revision: Revision) -> dict[str, str]:
    """A revision as labelled plain-text sections, the unit a diff compares."""
    sections = {
        "Title": revision.title,
        "Summary": revision.summary,
        "Origin": revision.get_origin_display(),
        "Body": revision.body_markdown,
    }
    for variant in revision.variants.all():
        sections[f"{variant.get_audience_display()} version"] = "\n\n".join(
            part for part in (variant.summary, variant.body_markdown) if part)
    refs = []
    for citation in revision.citations.select_related("reference").order_by("number"):
        ref = citation.as_cited  # as this revision cites it
        ident = ", ".join(part for part in (f"doi:{ref.doi}" if ref.doi else "",
                                             f"PMID {ref.pmid}" if ref.pmid else "", ref.url) if part)
        refs.append(f"[{citation.number}] @{citation.key}: {ref.title} ({ref.year or 'n.d.'}) {ident}".strip())
    sections["References"] = "\n".join(refs)
    return sections


@dataclass
class DiffSection:
    label: str
    changed: bool
    rows: list[dict[str, Any]]


# The whole diff of two revisions gets this long for its Myers searches (diff-match-patch's
# timeout, shared by every section and line): past it the blocks left are compared coarsely (a
# changed line shown as removed and added whole), which is still exact, only less fine-grained.
DIFF_SECONDS = 1.0
_WORD = re.compile(r"\s+|[^\s]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _opcodes(a: list[str], b: list[str], deadline: float) -> list[tuple[str, int, int, int, int]]:
    """difflib-style opcodes (`equal`, `replace`, `delete`, `insert`, with index ranges) turning the
    sequence `a` into `b`, from diff-match-patch's Myers diff over the sequences written as strings
    of one character per distinct item (its line mode, for any items). Myers' search costs about
    (length x differences) and stops at `deadline`, after stripping the common prefix and suffix and
    splitting on long common runs: a few edits in a 200,000-character text cost milliseconds, where
    difflib's SequenceMatcher without its junk heuristic went quadratic."""
    codes: dict[str, str] = {}
    text_a = "".join(codes.setdefault(item, chr(len(codes) + 1)) for item in a)
    text_b = "".join(codes.setdefault(item, chr(len(codes) + 1)) for item in b)
    diffs = diff_match_patch.diff_match_patch().diff_main(text_a, text_b, checklines=False, deadline=deadline)
    opcodes: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    for op, chunk in diffs:
        if op == diff_match_patch.diff_match_patch.DIFF_EQUAL:
            opcodes.append(("equal", i, i + len(chunk), j, j + len(chunk)))
            i, j = i + len(chunk), j + len(chunk)
            continue
        di, dj = (len(chunk), 0) if op == diff_match_patch.diff_match_patch.DIFF_DELETE else (0, len(chunk))
        if opcodes and opcodes[-1][0] != "equal":  # a deletion next to an insertion: one replaced block
            _, i1, _, j1, _ = opcodes.pop()
            opcodes.append(("replace", i1, i + di, j1, j + dj))
        else:
            opcodes.append(("delete" if di else "insert", i, i + di, j, j + dj))
        i, j = i + di, j + dj
    return opcodes


def _inline_diff(old: str, new: str, deadline: float) -> tuple[SafeString, SafeString]:
    a, b = _words(old), _words(new)
    left, right = [], []
    for op, i1, i2, j1, j2 in _opcodes(a, b, deadline):
        old_part, new_part = html.escape("".join(a[i1:i2])), html.escape("".join(b[j1:j2]))
        if op == "equal":
            left.append(old_part)
            right.append(new_part)
        else:
            if old_part:
                left.append(f"<del>{old_part}</del>")
            if new_part:
                right.append(f"<ins>{new_part}</ins>")
    # Every part was escaped above; only our own <del>/<ins> tags are markup.
    return mark_safe("".join(left)), mark_safe("".join(right))


def diff_sections(old: dict[str, str], new: dict[str, str]) -> list[DiffSection]:
    """Side-by-side, line-by-line diff of two revisions, with changed words marked. Lines are
    matched first; words are compared only within a changed line and the one it replaces, so the
    cost follows the size of the changes, not the square of the text."""
    deadline = time.time() + DIFF_SECONDS  # diff-match-patch's deadlines are on time.time()
    sections = []
    for label in dict.fromkeys([*old, *new]):
        a = (old.get(label) or "").splitlines()
        b = (new.get(label) or "").splitlines()
        rows: list[dict[str, Any]] = []
        for op, i1, i2, j1, j2 in patiencediff.PatienceSequenceMatcher(None, a, b).get_opcodes():
            if op == "equal":
                for k in range(i2 - i1):
                    rows.append({"op": "equal", "old": a[i1 + k], "new": b[j1 + k], "old_no": i1 + k + 1,
                                 "new_no": j1 + k + 1})
            elif op == "replace":
                for k in range(max(i2 - i1, j2 - j1)):
                    old_line = a[i1 + k] if i1 + k < i2 else None
                    new_line = b[j1 + k] if j1 + k < j2 else None
                    if old_line is not None and new_line is not None:
                        left, right = _inline_diff(old_line, new_line, deadline)
                        rows.append({"op": "replace", "old": left, "new": right, "old_no": i1 + k + 1,
                                     "new_no": j1 + k + 1})
                    elif old_line is not None:
                        rows.append({"op": "delete", "old": old_line, "new": None, "old_no": i1 + k + 1})
                    else:
                        rows.append({"op": "insert", "old": None, "new": new_line, "new_no": j1 + k + 1})
            elif op == "delete":
                for k in range(i1, i2):
                    rows.append({"op": "delete", "old": a[k], "new": None, "old_no": k + 1})
            else:
                for k in range(j1, j2):
                    rows.append({"op": "insert", "old": None, "new": b[k], "new_no": k + 1})
        changed = any(row["op"] != "equal" for row in rows)
        sections.append(DiffSection(label, changed, _fold(rows) if changed else []))
    return sections


def _fold(rows: list[dict[str, Any]], context: int = 2) -> list[dict[str, Any]]:
    """Keep `context` unchanged lines around each change; fold the rest into one 'skip' row."""
    keep = set()
    for i, row in enumerate(rows):
        if row["op"] != "equal":
            keep.update(range(max(0, i - context), min(len(rows), i + context + 1)))
    folded, skipped = [], 0
    for i, row in enumerate(rows):
        if i in keep:
            if skipped:
                folded.append({"op": "skip", "count": skipped})
                skipped = 0
            folded.append(row)
        else:
            skipped += 1
    if skipped:
        folded.append({"op": "skip", "count": skipped})
    return folded


# --- the public page -------------------------------------------------------------------------

STEPS = (("submitted", pgettext_lazy("review step", "Submitted")), ("in_review", pgettext_lazy("review step", "Under Review")),
         ("approved", pgettext_lazy("review step", "Approved")))
STEP_OF_STATE = {
    ArticleState.DRAFT: None,
    ArticleState.SUBMITTED: "submitted",
    ArticleState.IN_REVIEW: "in_review",
    ArticleState.APPROVED: "approved",
    ArticleState.SCHEDULED: "approved",
    ArticleState.PUBLISHED: "approved",
    ArticleState.REVIEW_DUE: "approved",
}


def review_steps(current: str | None) -> list[dict[str, Any]]:
    """The three public review steps, with which is done and which is current."""
    keys = [key for key, _ in STEPS]
    position = keys.index(current) if current in keys else -1
    return [{"key": key, "label": label, "done": i < position or (i == position and key == "approved"),
             "current": i == position} for i, (key, label) in enumerate(STEPS)]


APPROVED_TEXT_STATES = (ArticleState.APPROVED, ArticleState.SCHEDULED, ArticleState.PUBLISHED,
                        ArticleState.REVIEW_DUE)


def signatures_of_working_revision(article: Article) -> tuple[list[Review], ReviewCycle | None]:
    """The signed, unvoided approvals of the working revision, and the approved review cycle that
    holds them if the revision is the approved text. While the board is reviewing it, the approvals
    so far in the open cycle (and no approved cycle); the open cycle closes on approval, so an
    approved, scheduled, published or review-due text takes its signatures from its approved cycle."""
    cycle = governance_selectors.open_cycle(article)
    if cycle is not None and cycle.revision_id == article.current_revision_id:
        return list(governance_selectors.approvals_in_cycle(cycle).order_by("signed_at")), None
    if article.state not in APPROVED_TEXT_STATES:
        return [], None
    approved = (ReviewCycle.objects.filter(article=article, revision_id=article.current_revision_id,
                                           outcome=ReviewCycle.Outcome.APPROVED)
                .order_by("-closed_at", "-pk").first())
    if approved is None:
        return [], None
    return list(governance_selectors.approvals_in_cycle(approved).order_by("signed_at")), approved


def working_document(article: Article, audience: str = "general") -> dict[str, Any]:
    """The working revision rendered like a published document, for the editors' preview. It is
    built on the fly and never served publicly."""
    from governance.workflow import snapshots

    revision = article.current_revision
    variants = {v.audience: v for v in revision.variants.all()}
    variant = variants.get(audience)
    approvals, approved_cycle = signatures_of_working_revision(article)
    approved_text = approved_cycle is not None
    last_reviewed = (article.last_reviewed_at or approved_cycle.closed_at) if approved_text else None
    return {
        "slug": article.slug,
        "title": revision.title,
        "summary": (variant.summary if variant and variant.summary else revision.summary),
        "topic_name": article.topic.name,
        "audiences": sorted(variants),
        "audience": audience if variant else "general",
        "body_html": variant.body_html if variant else revision.body_html,
        "references": snapshots.reference_documents(revision),
        "reviewed_by": snapshots.reviewer_documents(approvals),
        "last_reviewed_at": last_reviewed.isoformat() if last_reviewed else None,
        "next_review_due": article.next_review_due.isoformat() if approved_text and article.next_review_due else None,
        "approved_text": approved_text,
        "published_at": None,
        "updated_at": revision.created_at.isoformat(),
        "origin": revision.origin,
        "related": snapshots.related_documents(article),
        "change_history": [],
        "disclaimer": snapshots.settings.IMPRIMATUR_DISCLAIMER,
        "editorial_policy_version": None,
    }
