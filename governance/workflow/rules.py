"""The workflow's rules, each with a name. A refused transition names the first rule it failed;
the editor UI shows every rule of the next step as a checklist (met or not, and what to do).

Rules are pure predicates over the article (and, for a few, the request's context: a reason, a
publication time). FSM `conditions=` ask `transition_allowed`, which checks the rules that need
no context; services check them all through `check`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.utils import timezone
from django_fsm import can_proceed

from articles import content
from articles.models import Article, ArticleState, Reference, Revision
from governance.workflow import rows, selectors
from governance.workflow.exceptions import TransitionRefused
from reviewers.models import BoardMember, ConflictOfInterest, ReviewCycle


@dataclass(frozen=True)
class RuleResult:
    rule: str
    ok: bool
    message: str
    hint: str = ""


Rule = Callable[[Article, dict[str, Any]], RuleResult]
_CONTEXT_RULES: set[str] = set()


def _needs_context(func: Rule) -> Rule:
    _CONTEXT_RULES.add(func.__name__)
    return func


# --- content -----------------------------------------------------------------------------------

def working_revision_exists(article: Article, ctx: dict[str, Any]) -> RuleResult:
    ok = article.current_revision_id is not None
    return RuleResult("working_revision_exists", ok, "The article has a saved revision." if ok
                      else "There is no saved text to review.", "" if ok else "Write and save the article first.")


def citations_resolve(article: Article, ctx: dict[str, Any]) -> RuleResult:
    revision = article.current_revision
    if revision is None:
        return RuleResult("citations_resolve", False, "No revision to check.", "Save the article first.")
    bodies = [revision.body_markdown, *revision.variants.values_list("body_markdown", flat=True)]
    keys = list(revision.citations.values_list("key", flat=True))
    check = content.check_citations(bodies, keys)
    if check.ok:
        return RuleResult("citations_resolve", True, f"All {len(keys)} references are cited and resolve.")
    return RuleResult("citations_resolve", False, "; ".join(check.errors()),
                      "Add the missing references or remove the markers, and cite every reference.")


# --- review ------------------------------------------------------------------------------------

def _eligible_assignees(article: Article) -> list[BoardMember]:
    authors = selectors.author_ids(article)
    eligible = []
    for assignment in selectors.open_assignments(article):
        member = assignment.reviewer
        if reviewer_refusal(member, article, authors=authors) is None:
            eligible.append(member)
    return eligible


def assignments_reach_quorum(article: Article, ctx: dict[str, Any]) -> RuleResult:
    policy = selectors.policy_for(article)
    eligible = _eligible_assignees(article)
    ok = len(eligible) >= policy.approvals_required
    message = f"{len(eligible)} of {policy.approvals_required} eligible reviewers assigned."
    hint = "" if ok else f"Assign {policy.approvals_required - len(eligible)} more eligible board member(s)."
    return RuleResult("assignments_reach_quorum", ok, message, hint)


def assignments_cover_specialties(article: Article, ctx: dict[str, Any]) -> RuleResult:
    policy = selectors.policy_for(article)
    if not policy.required_specialties:
        return RuleResult("assignments_cover_specialties", True, "The policy requires no particular specialty.")
    covered = {s.slug for m in _eligible_assignees(article) for s in m.specialties.all()}
    missing = sorted(policy.required_specialties - covered)
    names = ", ".join(policy.required_specialty_names[s] for s in missing)
    if missing:
        return RuleResult("assignments_cover_specialties", False, f"No assigned reviewer covers: {names}.",
                          f"Assign a board member specialising in {names}.")
    return RuleResult("assignments_cover_specialties", True, "Every required specialty is among the reviewers.")


def _approvals(article: Article) -> tuple[ReviewCycle | None, list]:
    cycle = selectors.open_cycle(article)
    if cycle is None or cycle.revision_id != article.current_revision_id:
        return cycle, []
    return cycle, list(selectors.approvals_in_cycle(cycle))


def _cycle_quorum(article: Article, cycle: ReviewCycle | None) -> int:
    """The quorum a review must reach: the one its cycle fixed at start_review (a policy changed
    mid-review applies to the next review), the live policy's before any review started."""
    if cycle is not None and cycle.revision_id == article.current_revision_id:
        return cycle.approvals_required
    return selectors.policy_for(article).approvals_required


def _cycle_specialties(article: Article, cycle: ReviewCycle | None) -> dict[str, str]:
    """Required specialties (slug: name), fixed by the cycle like its quorum."""
    if cycle is not None and cycle.revision_id == article.current_revision_id:
        return {s.slug: s.name for s in cycle.required_specialties.all()}
    return dict(selectors.policy_for(article).required_specialty_names)


def quorum_met(article: Article, ctx: dict[str, Any]) -> RuleResult:
    cycle, approvals = _approvals(article)
    required = _cycle_quorum(article, cycle)
    ok = len(approvals) >= required
    return RuleResult("quorum_met", ok, f"{len(approvals)} of {required} approvals.",
                      "" if ok else f"Needs {required - len(approvals)} more signed approval(s).")


def required_specialties_approved(article: Article, ctx: dict[str, Any]) -> RuleResult:
    cycle, approvals = _approvals(article)
    required = _cycle_specialties(article, cycle)
    if not required:
        return RuleResult("required_specialties_approved", True, "No particular specialty is required.")
    covered = {s.slug for review in approvals for s in review.reviewer.specialties.all()}
    missing = sorted(set(required) - covered)
    if missing:
        names = ", ".join(required[s] for s in missing)
        return RuleResult("required_specialties_approved", False, f"No approval yet from: {names}.",
                          f"Needs an approval from a board member specialising in {names}.")
    return RuleResult("required_specialties_approved", True, "Every required specialty has approved.")


def revision_approved(article: Article, ctx: dict[str, Any]) -> RuleResult:
    ok = ReviewCycle.objects.filter(
        article=article, revision_id=article.current_revision_id, outcome=ReviewCycle.Outcome.APPROVED
    ).exists()
    return RuleResult("revision_approved", ok, "The working revision is approved." if ok
                      else "The working revision has not been approved.", "" if ok else "Complete the review first.")


def no_retracted_citations(article: Article, ctx: dict[str, Any]) -> RuleResult:
    retracted = list(
        Reference.objects.filter(
            citations__revision_id=article.current_revision_id,
            retraction_status=Reference.RetractionStatus.RETRACTED,
        ).values_list("title", flat=True)
    )
    if retracted:
        return RuleResult("no_retracted_citations", False, f"Cites a retracted reference: {retracted[0]}.",
                          "Replace or remove the retracted reference and have the text re-reviewed.")
    return RuleResult("no_retracted_citations", True, "No cited reference is retracted.")


# --- context rules -----------------------------------------------------------------------------

@_needs_context
def publish_at_in_future(article: Article, ctx: dict[str, Any]) -> RuleResult:
    publish_at = ctx.get("publish_at")
    ok = isinstance(publish_at, dt.datetime) and publish_at > timezone.now()
    return RuleResult("publish_at_in_future", ok, "Publication time is in the future." if ok
                      else "A scheduled publication needs a future `publish_at`.",
                      "" if ok else "Pick a date and time in the future, or publish now.")


@_needs_context
def reason_required(article: Article, ctx: dict[str, Any]) -> RuleResult:
    ok = bool((ctx.get("reason") or "").strip())
    return RuleResult("reason_required", ok, "A reason is given." if ok else "This step needs a reason.",
                      "" if ok else "Say why; the reason is kept in the audit trail.")


@_needs_context
def reason_required_to_void(article: Article, ctx: dict[str, Any]) -> RuleResult:
    if article.state not in (ArticleState.APPROVED, ArticleState.SCHEDULED):
        return RuleResult("reason_required_to_void", True, "No approval is voided.")
    ok = bool((ctx.get("reason") or "").strip())
    return RuleResult("reason_required_to_void", ok, "A reason for voiding the approvals is given." if ok
                      else "Revising an approved article voids its approvals and needs a reason.",
                      "" if ok else "Say why the approved text must change.")


@_needs_context
def reason_required_to_archive_live(article: Article, ctx: dict[str, Any]) -> RuleResult:
    """Archiving takes a live text down for good, like a withdrawal: readers and API clients get a
    tombstone with its reason. A never-published article archives without one."""
    if article.live_snapshot_id is None:
        return RuleResult("reason_required_to_archive_live", True, "Nothing live is taken down.")
    ok = bool((ctx.get("reason") or "").strip())
    return RuleResult("reason_required_to_archive_live", ok, "A reason for taking the live text down is given."
                      if ok else "Archiving a live article takes its text down and needs a reason.",
                      "" if ok else "Say why readers no longer get this article; the reason is shown with it.")


def has_live_text(article: Article, ctx: dict[str, Any]) -> RuleResult:
    ok = article.live_snapshot_id is not None
    return RuleResult("has_live_text", ok, "The article is live." if ok else "Nothing is published to withdraw.",
                      "" if ok else "Archive the article instead.")


TRANSITION_RULES: dict[str, list[Rule]] = {
    "submit": [working_revision_exists, citations_resolve],
    "start_review": [working_revision_exists, assignments_reach_quorum, assignments_cover_specialties],
    "request_changes": [],
    "approve": [quorum_met, required_specialties_approved],
    "publish": [revision_approved, no_retracted_citations],
    "schedule": [revision_approved, no_retracted_citations, publish_at_in_future],
    "flag_review_due": [],
    "request_re_review": [reason_required],  # published only (the state machine): there is a live text
    "withdraw": [has_live_text, reason_required],
    "revise": [reason_required_to_void],
    "archive": [reason_required_to_archive_live],
}


def checklist(article: Article, name: str, **ctx: Any) -> list[RuleResult]:
    """Every rule of transition `name`, met or not (context rules included when ctx is given)."""
    return [rule(article, ctx) for rule in TRANSITION_RULES[name]]


# What each context rule asks of whoever runs the transition: shown before it is run, as an unmet
# item of its checklist, when the rule is not met without it.
_ASKS = {
    "reason_required": "reason",
    "reason_required_to_void": "reason",
    "reason_required_to_archive_live": "reason",
    "publish_at_in_future": "publish_at",
}
_ASKED = {
    "reason": RuleResult("reason_required", False, "This step needs a reason.",
                         "Say why in the reason field; it is kept in the audit trail."),
    "publish_at": RuleResult("publish_at_in_future", False, "Needs a publication time.",
                             "Pick a date and time in the future."),
}


def asks(article: Article, name: str) -> list[str]:
    """What running `name` on `article` now needs from the person running it ("reason",
    "publish_at"): the context rules of `name` that are not met without it. A revision of a
    draft needs no reason, of an approved text it does (`reason_required_to_void`)."""
    wanted = []
    for rule in TRANSITION_RULES[name]:
        if rule.__name__ in _CONTEXT_RULES and not rule(article, {}).ok and _ASKS[rule.__name__] not in wanted:
            wanted.append(_ASKS[rule.__name__])
    return wanted


def checklist_before(article: Article, name: str) -> list[RuleResult]:
    """The checklist shown before `name` is run: each of its rules that needs no context, met or
    not, then what it asks for (a reason, a publication time) as unmet items."""
    return ([rule(article, {}) for rule in TRANSITION_RULES[name] if rule.__name__ not in _CONTEXT_RULES]
            + [_ASKED[wanted] for wanted in asks(article, name)])


def is_context_rule(rule: str) -> bool:
    """Is `rule` met only by what the request gives (a reason, a time), not by the article?"""
    return rule in _CONTEXT_RULES


def transition_allowed(article: Article, name: str) -> bool:
    """The FSM condition: every rule of `name` that needs no request context holds."""
    return all(rule(article, {}).ok for rule in TRANSITION_RULES[name] if rule.__name__ not in _CONTEXT_RULES)


def state_allows(article: Article, name: str) -> bool:
    """Does the state machine have transition `name` from the article's state (conditions aside)?"""
    return can_proceed(getattr(article, name), check_conditions=False)


def check(article: Article, name: str, **ctx: Any) -> None:
    """Raise TransitionRefused naming the first unmet rule of transition `name`. A transition the
    state machine does not have from the current state is refused as `state_allows_transition`
    before any other rule, so "publish a draft" is not misreported as "not approved yet"."""
    if not state_allows(article, name):
        raise TransitionRefused(f"'{name}' is not possible from '{article.get_state_display()}'.",
                                rule="state_allows_transition")
    for rule in TRANSITION_RULES[name]:
        result = rule(article, ctx)
        if not result.ok:
            message = f"{result.message} {result.hint}".strip()
            raise TransitionRefused(message, rule=result.rule)


# --- reviewer eligibility (assignment and signing) ----------------------------------------------

def reviewer_refusal(member: BoardMember, article: Article, *, authors: set[int] | None = None,
                     on: dt.date | None = None) -> RuleResult | None:
    """Why `member` may neither be assigned to nor approve `article`, or None if they may."""
    on = on or timezone.localdate()
    if not member.is_active:
        return RuleResult("reviewer_active", False, f"{member.printed_name} is not an active board member.")
    if member.user_id in (authors if authors is not None else selectors.author_ids(article)):
        return RuleResult("no_self_review", False, f"{member.printed_name} wrote this article and cannot review it.")
    conflict = selectors.has_active_conflict(member, article, on)
    if conflict is not None:
        return RuleResult("no_conflict_of_interest", False,
                          f"{member.printed_name} has declared a conflict of interest on {article.topic}: "
                          f"{conflict.get_nature_display()}.")
    if not member.credentials_verified:
        return RuleResult("credentials_verified", False,
                          f"{member.printed_name}'s credentials have not been verified.",
                          "Someone other than the member verifies their licence and credentials first.")
    if not member.licence_valid(on):
        return RuleResult("licence_valid", False,
                          f"{member.printed_name}'s licence expired on {member.licence_expires_on:%d %b %Y}.")
    return None


@dataclass(frozen=True, slots=True)
class ReviewerFacts:
    """What a board member's eligibility is judged on (`eligible_reviewers`), read by the caller
    with the other columns it needs."""

    user_id: int
    is_active: bool
    credentials_verified_at: dt.datetime | None
    licence_expires_on: dt.date


def eligible_reviewers(candidates: Iterable[tuple[int, int, int, int]], facts: Mapping[int, ReviewerFacts], *,
                       on: dt.date | None = None) -> set[tuple[int, int]]:
    """`reviewer_refusal` for many at once. Of the candidates (article id, its topic id, its
    creator's user id, board member id), the (article id, member id) pairs where the member may
    be assigned to and approve the article: active, credentials verified, licence valid on `on`,
    no active conflict of interest on its topic, not one of its authors (its creator or the
    writer of one of its revisions). Two queries (conflicts, revision writers) however many."""
    on = on or timezone.localdate()
    candidates = [c for c in candidates if _may_review_at_all(facts[c[3]], on)]
    if not candidates:
        return set()
    members = {member_id for *_, member_id in candidates}
    conflicts = set(ConflictOfInterest.objects.filter(member_id__in=list(members),
                                                      topic_id__in={topic for _, topic, _, _ in candidates})
                    .filter(ConflictOfInterest.active_q(on)).values_list("member_id", "topic_id"))
    authors: dict[int, set[int]] = {}
    for article_id, _, created_by, _ in candidates:
        authors.setdefault(article_id, set()).add(created_by)
    # Only whether a candidate wrote a revision matters: read just those (article, writer) pairs.
    for article_id, user_id in Revision.objects.filter(
            rows.any_of("article_id", list(authors)), created_by_id__in={facts[m].user_id for m in members}
    ).values_list("article_id", "created_by_id").order_by():
        authors[article_id].add(user_id)
    return {(article_id, member_id) for article_id, topic_id, _, member_id in candidates
            if (member_id, topic_id) not in conflicts and facts[member_id].user_id not in authors[article_id]}


def _may_review_at_all(member: ReviewerFacts, on: dt.date) -> bool:
    """The rules of `reviewer_refusal` that are about the member alone."""
    return member.is_active and member.credentials_verified_at is not None and member.licence_expires_on >= on


# --- configuration: what may be deleted or changed in place -------------------------------------

def uses_of(obj: Model) -> list[str]:
    """What refers to `obj`, e.g. ["3 articles", "1 review policy"]: every relation to its model,
    so a relation added later (a new model citing a topic) keeps it from being deleted too."""
    uses = []
    for relation in obj._meta.related_objects:
        count = relation.related_model._default_manager.filter(**{relation.field.name: obj}).count()
        if count:
            meta = relation.related_model._meta
            uses.append(f"{count} {meta.verbose_name if count == 1 else meta.verbose_name_plural}")
    return uses


def _unused(rule: str, obj: Model, what: str) -> RuleResult:
    uses = uses_of(obj)
    if not uses:
        return RuleResult(rule, True, f"Nothing uses the {what} {obj}.")
    return RuleResult(rule, False, f"The {what} {obj} is used by {', '.join(uses)}.",
                      f"Remove it from them (or archive them) first; the {what} is kept.")


def topic_unused(topic: Any) -> RuleResult:
    """A topic is deleted only when no article, review policy or declaration (nothing) uses it."""
    return _unused("topic_unused", topic, "topic")


def specialty_unused(specialty: Any) -> RuleResult:
    """A specialty is deleted only when no board member, review policy or review cycle (nothing)
    uses it: removing it would silently change who may approve what."""
    return _unused("specialty_unused", specialty, "specialty")


def reference_uncited(reference: Reference) -> RuleResult:
    """A reference is deleted only when no revision cites it (citations keep the row)."""
    return _unused("reference_uncited", reference, "reference")


def reference_not_reviewed(reference: Reference) -> RuleResult:
    """A reference's bibliographic details change in place only while no revision handed over for
    review cites it: its reviewers read those details and the revision hash covers them, so a
    correction goes through a new revision of the article instead."""
    if reference.pk is None or not reference.reviewed_citations().exists():
        return RuleResult("reference_not_reviewed", True, "No reviewed text cites this reference.")
    return RuleResult("reference_not_reviewed", False,
                      f"'{reference.title}' is cited by a revision handed over for review, whose reviewers read "
                      "these details.", "Correct it through a new revision of the article in the editor.")


def verification_refusal(member: BoardMember, actor: Any) -> RuleResult | None:
    """Why `actor` may not verify `member`'s eligibility facts (licence, credentials, specialties,
    whether they sit on the board), or None. Nobody certifies their own: not a member, not a
    managing editor who is that member."""
    if getattr(actor, "pk", None) is not None and actor.pk == member.user_id:
        return RuleResult("no_self_verification", False,
                          f"{member.printed_name}'s credentials are verified by someone else, never by themselves.",
                          "Propose the change; the managing editor or a credentials verifier verifies it.")
    return None


# --- the e-signature's password re-check (governance.workflow.signatures) --------------------------------

def signing_window() -> dt.timedelta:
    """How far back failed password re-checks count (IMPRIMATUR_SIGNATURE_FAILURE_WINDOW_MINUTES)."""
    return dt.timedelta(minutes=settings.IMPRIMATUR_SIGNATURE_FAILURE_WINDOW_MINUTES)


def signing_failure_limit() -> int:
    """Failed re-checks within the window that lock signing (IMPRIMATUR_SIGNATURE_FAILURE_LIMIT)."""
    return settings.IMPRIMATUR_SIGNATURE_FAILURE_LIMIT


def signing_counted_since(now: dt.datetime, counted_from: dt.datetime | None) -> dt.datetime:
    """Failures after this moment count: those within the window, and after the last unlock."""
    start = now - signing_window()
    return max(start, counted_from) if counted_from is not None else start


def signing_locked_until(counted_failures: list[dt.datetime]) -> dt.datetime | None:
    """Rule `signing_locked`: a user with `limit` counted failures (the times of the failures
    after `signing_counted_since`, newest first) may not sign until the oldest of their `limit`
    newest failures leaves the window, when fewer than `limit` are left in it. A sliding window:
    at most `limit` guesses per window, however they are spread. None: not locked."""
    limit = signing_failure_limit()
    if len(counted_failures) < limit:
        return None
    return counted_failures[limit - 1] + signing_window()
