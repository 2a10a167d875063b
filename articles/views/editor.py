"""The editor web UI (/editor/): sign in, the dashboard and list, one article and its next steps.
Views are thin: reads go through `articles.selectors`, every change of state through
`governance.workflow.services`, every permission question through `governance.workflow.policies`; a refusal
(`GovernanceError`) becomes a message that names the rule."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from articles import selectors
from articles.forms import (
    ArticleFilterForm,
    AssignForm,
    TransitionForm,
)
from articles.models import (
    Article,
    ArticleState,
)
from articles.views.article_page import page_context
from governance.reports import charts
from governance.workflow import policies, services
from governance.workflow import selectors as governance_selectors
from governance.workflow.exceptions import ContentInvalid, GovernanceError
from governance.workflow.site import site_settings
from reviewers.models import ReviewAssignment

PAGE_SIZE = 20


def editor_required(view):
    """Signed-in writers and managing editors only; board members are sent to the admin."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not policies.is_writer(request.user):
            return render(request, "articles/editor/forbidden.html", {
                "is_board_member": policies.board_member(request.user) is not None}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def visible_article(request: HttpRequest, slug: str) -> Article:
    """The article, if the policy lets this user see it; 404 otherwise (no hint that it exists)."""
    return get_object_or_404(
        policies.visible_articles(request.user).select_related("topic", "created_by", "current_revision",
                                                               "live_snapshot"),
        slug=slug)


def refused(request: HttpRequest, exc: GovernanceError) -> None:
    messages.error(request, gettext("%(message)s (rule: %(rule)s)") % {"message": exc.message, "rule": exc.rule}
                   if exc.rule else exc.message)


# --- sign in -----------------------------------------------------------------------------------

class LoginView(auth_views.LoginView):
    template_name = "articles/editor/login.html"
    redirect_authenticated_user = True


# --- dashboard and list ------------------------------------------------------------------------

@editor_required
def dashboard(request: HttpRequest) -> HttpResponse:
    board = selectors.dashboard(request.user)
    return render(request, "articles/editor/dashboard.html", {
        "board": board, "due_windows": selectors.DUE_WINDOWS, "nav": "dashboard",
        "state_drawing": _drawing(board.state_chart), "due_drawing": _drawing(board.due_chart),
        "is_managing_editor": policies.is_managing_editor(request.user),
    })


def _drawing(chart: selectors.Chart) -> dict[str, Any]:
    """The dashboard's bar chart in the reports' geometry (one bar geometry in the project)."""
    return charts.stacked_bar_chart([bar.label for bar in chart.bars],
                                    [(chart.unit, "", [bar.value for bar in chart.bars])],
                                    width=560, label_width=130, bar_height=22, gap=8)


@editor_required
def article_list(request: HttpRequest) -> HttpResponse:
    filters = ArticleFilterForm(request.GET or None)
    criteria: dict[str, Any] = {}
    if filters.is_valid():
        data = filters.cleaned_data
        criteria = {"q": data["q"].strip(), "state": data["state"], "origin": data["origin"], "due": data["due"],
                    "topic": data["topic"].slug if data["topic"] else "", "reviewer": data["reviewer"]}
    articles = selectors.article_list(request.user, **criteria)
    page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "articles/editor/_article_rows.html" if request.htmx else "articles/editor/article_list.html"
    return render(request, template, {"filters": filters, "page": page, "query": query.urlencode(),
                                      "nav": "articles"})


# --- one article -------------------------------------------------------------------------------

@editor_required
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = visible_article(request, slug)
    may_assign = policies.may_assign(request.user, article)
    assignable = article.state in services.ASSIGNABLE_STATES
    policy = governance_selectors.policy_for(article)
    return render(request, "articles/editor/article_detail.html", {
        "article": article, "nav": "articles", "policy": policy,
        "revision": article.current_revision,
        "transitions": selectors.transition_options(request.user, article),
        "approval": (selectors.approval_progress(article, reader=request.user)
                     if article.state in selectors.IN_REVIEW_STATES else None),
        "may_edit": policies.may_edit(request.user, article),
        "may_assign": may_assign and assignable,
        "suggestions": selectors.reviewer_suggestions(article) if may_assign and assignable else [],
        "assignments": selectors.assignments_of(article),
        "reviews": selectors.signed_reviews(article),
        "timeline": selectors.audit_timeline(article),
        "may_read_audit": policies.may_read_audit(request.user, article),
        "assign_form": AssignForm(),
        "now": timezone.now(),
    })


@editor_required
@require_POST
def article_transition(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    article = visible_article(request, slug)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {errors[0]}")
        return redirect("articles:detail", slug=slug)
    publish_at = form.cleaned_data["publish_at"]
    if publish_at is not None and timezone.is_naive(publish_at):
        publish_at = timezone.make_aware(publish_at)
    try:
        article = services.article_transition(article=article, actor=request.user, name=name,
                                              reason=form.cleaned_data["reason"], publish_at=publish_at)
    except GovernanceError as exc:
        refused(request, exc)
    else:
        messages.success(request, gettext("Done: the article is now “%(state)s”.") % {
            "state": article.get_state_display()})
    return redirect("articles:detail", slug=slug)


@editor_required
@require_POST
def article_assign(request: HttpRequest, slug: str) -> HttpResponse:
    article = visible_article(request, slug)
    form = AssignForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {errors[0]}")
        return redirect(reverse("articles:detail", kwargs={"slug": slug}) + "#reviewers")
    due_at = form.cleaned_data["due_at"]
    if due_at is not None and timezone.is_naive(due_at):
        due_at = timezone.make_aware(due_at)
    try:
        assignment = services.assignment_create(article=article, actor=request.user,
                                                reviewer=form.cleaned_data["reviewer"], due_at=due_at)
    except ContentInvalid as exc:
        messages.error(request, "; ".join(f"{k}: {v[0]}" for k, v in exc.errors.items()))
    except GovernanceError as exc:
        refused(request, exc)
    else:
        messages.success(request, gettext("%(name)s is assigned, due %(date)s.") % {
            "name": assignment.reviewer.printed_name,
            "date": date_format(timezone.localtime(assignment.due_at), "DATE_FORMAT")})
    return redirect(reverse("articles:detail", kwargs={"slug": slug}) + "#reviewers")


@editor_required
@require_POST
def assignment_cancel(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    article = visible_article(request, slug)
    assignment = get_object_or_404(ReviewAssignment, pk=pk, article=article)
    try:
        services.assignment_cancel(assignment=assignment, actor=request.user,
                                   reason=request.POST.get("reason", ""))
    except GovernanceError as exc:
        refused(request, exc)
    else:
        messages.success(request, gettext("The assignment of %(name)s is cancelled.") % {
            "name": assignment.reviewer.printed_name})
    return redirect(reverse("articles:detail", kwargs={"slug": slug}) + "#reviewers")


@editor_required
def revisions(request: HttpRequest, slug: str) -> HttpResponse:
    """Every revision, and a diff between any two (or between the working draft and the live text)."""
    article = visible_article(request, slug)
    all_revisions = list(selectors.revisions_of(article))
    by_number = {r.number: r for r in all_revisions}
    live_revision = article.live_snapshot.revision if article.live_snapshot_id else None
    current = article.current_revision
    compare = request.GET.get("compare", "")
    old = new = None
    if compare == "live" and live_revision is not None:
        old, new = live_revision, current
    else:
        try:
            a, b = int(request.GET.get("a", "")), int(request.GET.get("b", ""))
        except ValueError:
            a = b = None
        if a in by_number and b in by_number:
            old, new = by_number[min(a, b)], by_number[max(a, b)]
        elif len(all_revisions) >= 2:
            old, new = all_revisions[1], all_revisions[0]
    sections = selectors.diff_sections(selectors.revision_text(old), selectors.revision_text(new)) if old and new else []
    return render(request, "articles/editor/revisions.html", {
        "article": article, "nav": "articles", "revisions": all_revisions, "old": old, "new": new,
        "sections": sections, "live_revision": live_revision, "compare": compare,
        "identical": bool(old and new and old.content_hash == new.content_hash),
    })


@editor_required
def article_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The working revision as the public page would show it, clearly marked as not approved
    when it is not the approved text."""
    article = visible_article(request, slug)
    if article.current_revision is None:
        raise Http404
    audience = request.GET.get("audience", "general")
    document = selectors.working_document(article, audience)
    # Approved means the text shown is the one the board signed (its approved review cycle), so
    # the banner, the review steps and "Medically reviewed by" all say the same thing.
    approved = document["approved_text"]
    review_due = approved and article.state == ArticleState.REVIEW_DUE
    overdue = review_due and article.next_review_due is not None and article.next_review_due < timezone.localdate()
    step = selectors.STEP_OF_STATE.get(article.state)
    if step == "approved" and not approved:
        step = None  # never the "Approved" step beside "Pending medical review"
    context = page_context(document, article=article, step=step, preview=True, approved=approved,
                            overdue=overdue, audience=audience)
    context["review_due"] = review_due
    context["rereview"] = review_due and not overdue
    context["site"] = site_settings()
    return render(request, "articles/public/article.html", context)
