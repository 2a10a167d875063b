"""The editor web UI (/editor/), the public article page (/articles/<slug>/) and the editorial
policy page. Views are thin: reads go through `articles.selectors`, every change of state through
`governance.workflow.services`, every permission question through `governance.workflow.policies`; a refusal
(`GovernanceError`) becomes a message that names the rule."""

from __future__ import annotations

import datetime as dt
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from articles import content, public_site, public_views, selectors
from articles.citations import format_ama
from articles.forms import (
    ArticleFilterForm,
    ArticleForm,
    AssignForm,
    ReferenceFormSet,
    TransitionForm,
    apply_content_errors,
    content_from_forms,
    parse_ris,
    reference_initial,
)
from articles.models import (
    Article,
    ArticleState,
    Audience,
    Citation,
    Reference,
    ReviewStatus,
    normalize_doi,
    review_status,
    validate_doi,
)
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


def _visible_article(request: HttpRequest, slug: str) -> Article:
    """The article, if the policy lets this user see it; 404 otherwise (no hint that it exists)."""
    return get_object_or_404(
        policies.visible_articles(request.user).select_related("topic", "created_by", "current_revision",
                                                               "live_snapshot"),
        slug=slug)


def _refused(request: HttpRequest, exc: GovernanceError) -> None:
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
        "is_managing_editor": policies.is_managing_editor(request.user),
    })


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


# --- create and edit ---------------------------------------------------------------------------

def _article_form_page(request: HttpRequest, *, article: Article | None) -> HttpResponse:
    creating = article is None
    if request.method == "POST":
        form = ArticleForm(request.POST, request.FILES, creating=creating, article=article)
        formset = ReferenceFormSet(request.POST, prefix="refs")
        action = request.POST.get("action", "save")
        if action in ("add_reference", "import_ris"):
            return _rebuild_with_references(request, form, formset, article=article, action=action)
        if form.is_valid() and formset.is_valid():
            article_content, indices = content_from_forms(form, formset)
            data = form.cleaned_data
            try:
                if creating:
                    article = services.article_create(
                        actor=request.user, topic=data["topic"], content=article_content,
                        change_note=data["change_note"] or "First version", is_major_change=data["is_major_change"],
                        slug=data["slug"] or None, risk_tier=data["risk_tier"], related=list(data["related"]))
                    messages.success(request, gettext("Draft “%(title)s” created (revision 1).") % {"title": article.title})
                else:
                    before = article.current_revision_id
                    # A refused link leaves the text unsaved too, and the form comes back with everything typed.
                    article, relinks = services.article_edit_with_related(
                        article=article, actor=request.user, content=article_content, related=list(data["related"]),
                        change_note=data["change_note"], is_major_change=data["is_major_change"],
                        base_revision_id=data.get("base_revision"))
                    if article.current_revision_id != before:
                        messages.success(request, gettext("Saved as revision %(number)s.") % {
                            "number": article.current_revision.number})
                    elif not relinks:
                        messages.info(request, gettext("Nothing changed, so no new revision was made."))
                    if relinks:
                        messages.success(request, gettext("Related articles changed; the live page lists them now.")
                                         if article.live_snapshot_id else gettext("Related articles changed."))
                return redirect("articles:detail", slug=article.slug)
            except ContentInvalid as exc:
                for message in apply_content_errors(exc.errors, form, formset, indices, article_content.variants):
                    form.add_error(None, message)
            except GovernanceError as exc:
                _refused(request, exc)
    else:
        if creating:
            form = ArticleForm(creating=True)
            formset = ReferenceFormSet(prefix="refs")
        else:
            current = services.content_of(article)
            initial = {"title": current.title, "summary": current.summary, "body_markdown": current.body_markdown,
                       "origin": current.origin, "base_revision": article.current_revision_id,
                       "related": list(article.related.values_list("pk", flat=True))}
            for variant in current.variants:
                initial[f"variant_{variant.audience}_summary"] = variant.summary
                initial[f"variant_{variant.audience}_body"] = variant.body_markdown
            form = ArticleForm(initial=initial, creating=False, article=article)
            formset = ReferenceFormSet(prefix="refs", initial=reference_initial(current.references))
    return _render_form(request, form, formset, article=article)


def _render_form(request: HttpRequest, form: ArticleForm, formset, *, article: Article | None,
                 status: int = 200) -> HttpResponse:
    return render(request, "articles/editor/article_form.html", {
        "form": form, "formset": formset, "article": article, "nav": "articles" if article else "new",
        "editing_live": article is not None and article.live_snapshot_id is not None,
        "voids_approval": article is not None and article.state in (ArticleState.APPROVED, ArticleState.SCHEDULED),
    }, status=status)


def _rebuild_with_references(request: HttpRequest, form: ArticleForm, formset, *, article: Article | None,
                             action: str) -> HttpResponse:
    """'Add a reference' and 'Import RIS' re-render the form with more reference rows, keeping
    everything typed so far; nothing is saved."""
    rows = [{name: f.data.get(f.add_prefix(name), "") for name in f.fields if name != "DELETE"}
            for f in formset.forms if not f.data.get(f.add_prefix("DELETE"))]
    rows = [row for row in rows if any(str(row.get(n) or "").strip() for n in ("key", "title", "doi", "pmid", "url"))]
    if action == "import_ris":
        # Through the form's own validation (clean_ris_file holds the size limit), not request.FILES.
        form.is_valid()
        upload = form.cleaned_data.get("ris_file") if "ris_file" not in form.errors else None
        if "ris_file" in form.errors:
            messages.error(request, form.errors["ris_file"][0])
        elif upload is None:
            messages.error(request, gettext("Choose a .ris file to import first."))
        else:
            try:
                imported = parse_ris(upload)
            except ValidationError as exc:
                messages.error(request, exc.messages[0])
            else:
                _import_rows(request, rows, imported, upload.name)
    new_formset = ReferenceFormSet(prefix="refs", initial=rows)
    if action == "add_reference":
        new_formset.extra = 1
    else:
        new_formset.extra = 0 if rows else 1
    # An unbound form initialised with what was typed: the text comes back, without error marks
    # for fields the author has not finished yet.
    kept = ArticleForm(initial={name: _posted(request, form.fields[name], name) for name in form.fields
                                if name in request.POST}, creating=article is None, article=article)
    return _render_form(request, kept, new_formset, article=article)


def _posted(request: HttpRequest, field: Any, name: str) -> Any:
    """A posted value as a form's initial: every selected value of a multi-select, else the value."""
    if getattr(field.widget, "allow_multiple_selected", False):
        return request.POST.getlist(name)
    return request.POST.get(name)


def _identity(ref: dict[str, Any]) -> set[tuple[str, str]]:
    """What makes two references the same: DOI, PMID; failing both, title and year."""
    keys = set()
    if ref.get("doi"):
        keys.add(("doi", normalize_doi(str(ref["doi"]))))
    if str(ref.get("pmid") or "").strip():
        keys.add(("pmid", str(ref["pmid"]).strip()))
    if not keys and str(ref.get("title") or "").strip():
        keys.add(("title", f"{str(ref['title']).strip().casefold()}|{ref.get('year') or ''}"))
    return keys


def _import_rows(request: HttpRequest, rows: list[dict[str, Any]], imported: list[dict[str, Any]],
                 filename: str) -> None:
    """Append the imported references to `rows`, skipping those already listed on the form and
    those the RIS file itself repeats; say how many of each were skipped."""
    known = {key for row in rows for key in _identity(row) if key[0] != "title"}
    in_file: set[tuple[str, str]] = set()
    fresh, listed, repeated = [], 0, 0
    for ref in imported:
        keys = _identity(ref)
        if keys & known:
            listed += 1
        elif keys & in_file:
            repeated += 1
        else:
            fresh.append(ref)
            in_file |= keys
    rows.extend(fresh)
    message = gettext("Imported %(count)s reference(s) from %(file)s") % {"count": len(fresh), "file": filename}
    skipped = []
    if listed:
        skipped.append(gettext("%(count)s already listed") % {"count": listed})
    if repeated:
        skipped.append(gettext("%(count)s repeated within the file") % {"count": repeated})
    message += (gettext("; skipped %(what)s.") % {"what": gettext(" and ").join(skipped)} if skipped else ".")
    message += " " + gettext("Give each a key and cite it in the body.")
    messages.success(request, message)


@editor_required
def article_create(request: HttpRequest) -> HttpResponse:
    if not policies.may_create_article(request.user):
        raise Http404
    return _article_form_page(request, article=None)


@editor_required
def article_edit(request: HttpRequest, slug: str) -> HttpResponse:
    article = _visible_article(request, slug)
    if not policies.may_edit(request.user, article):
        messages.error(request, gettext("You may not edit this article. (rule: may_edit)"))
        return redirect("articles:detail", slug=slug)
    return _article_form_page(request, article=article)


@editor_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """htmx: the body as readers will see it, with numbered citations and the reference list,
    rendered from the form as it stands (nothing saved)."""
    formset = ReferenceFormSet(request.POST, prefix="refs")
    references = []
    for form in formset.forms:
        form.is_valid()
        ref = form.as_reference() if hasattr(form, "cleaned_data") else None
        if ref is None:
            continue
        ref["key"] = ref["key"] or ref["doi"] or (f"pmid:{ref['pmid']}" if ref["pmid"] else "")
        references.append(ref)
    audience = request.POST.get("preview_audience", "general")
    body = request.POST.get("body_markdown", "")
    if audience in Audience.values and request.POST.get(f"variant_{audience}_body", "").strip():
        body = request.POST[f"variant_{audience}_body"]
    bodies = [request.POST.get("body_markdown", "")] + [request.POST.get(f"variant_{a}_body", "") for a in Audience.values]
    check = content.check_citations(bodies, [r["key"] for r in references if r["key"]])
    by_key = {r["key"]: r for r in references}
    cited = sorted((k for k in check.numbers), key=check.numbers.get)
    listed = [dict(by_key[k], number=check.numbers[k]) for k in cited]
    for ref, formatted in zip(listed, format_ama(listed), strict=True):
        ref["formatted"] = formatted
        ref["kind_label"] = Reference.Kind(ref["kind"]).label if ref["kind"] in Reference.Kind.values else ref["kind"]
    return render(request, "articles/editor/_preview.html", {
        "title": request.POST.get("title", ""), "body_html": content.render(body, check.numbers),
        "references": listed, "check": check, "audience": audience,
    })


@editor_required
@require_GET
def reference_check(request: HttpRequest) -> HttpResponse:
    """htmx: is this DOI/PMID well formed, and is it already in the library (then it is reused)?"""
    doi = next((v for k, v in request.GET.items() if k == "doi" or k.endswith("-doi")), "").strip()
    pmid = next((v for k, v in request.GET.items() if k == "pmid" or k.endswith("-pmid")), "").strip()
    note, level, match = "", "info", None
    if doi:
        doi = normalize_doi(doi)
        try:
            validate_doi(doi)
        except ValidationError as exc:
            note, level = exc.messages[0], "error"
        else:
            match = Reference.objects.filter(doi=doi).first()
    elif pmid:
        if not pmid.isdigit() or pmid.startswith("0") or len(pmid) > 9:
            note, level = gettext("Enter a PubMed ID: digits only, e.g. 33301246."), "error"
        else:
            match = Reference.objects.filter(pmid=pmid).first()
    if match is not None:
        note = gettext("Already in the library: “%(reference)s”. It will be reused, not duplicated.") % {
            "reference": match}
        if match.retracted:
            note += " " + gettext("Warning: this reference is marked RETRACTED.")
            level = "error"
    elif not note and (doi or pmid):
        note, level = gettext("Looks valid; new to the library."), "ok"
    return render(request, "articles/editor/_reference_check.html", {"note": note, "level": level})


# --- one article -------------------------------------------------------------------------------

@editor_required
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = _visible_article(request, slug)
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
    article = _visible_article(request, slug)
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
        _refused(request, exc)
    else:
        messages.success(request, gettext("Done: the article is now “%(state)s”.") % {
            "state": article.get_state_display()})
    return redirect("articles:detail", slug=slug)


@editor_required
@require_POST
def article_assign(request: HttpRequest, slug: str) -> HttpResponse:
    article = _visible_article(request, slug)
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
        _refused(request, exc)
    else:
        messages.success(request, gettext("%(name)s is assigned, due %(date)s.") % {
            "name": assignment.reviewer.printed_name,
            "date": date_format(timezone.localtime(assignment.due_at), "DATE_FORMAT")})
    return redirect(reverse("articles:detail", kwargs={"slug": slug}) + "#reviewers")


@editor_required
@require_POST
def assignment_cancel(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    article = _visible_article(request, slug)
    assignment = get_object_or_404(ReviewAssignment, pk=pk, article=article)
    try:
        services.assignment_cancel(assignment=assignment, actor=request.user,
                                   reason=request.POST.get("reason", ""))
    except GovernanceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, gettext("The assignment of %(name)s is cancelled.") % {
            "name": assignment.reviewer.printed_name})
    return redirect(reverse("articles:detail", kwargs={"slug": slug}) + "#reviewers")


@editor_required
def revisions(request: HttpRequest, slug: str) -> HttpResponse:
    """Every revision, and a diff between any two (or between the working draft and the live text)."""
    article = _visible_article(request, slug)
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
    article = _visible_article(request, slug)
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
    context = _page_context(document, article=article, step=step, preview=True, approved=approved,
                            overdue=overdue, audience=audience)
    context["review_due"] = review_due
    context["rereview"] = review_due and not overdue
    context["site"] = site_settings()
    return render(request, "articles/public/article.html", context)


# --- public pages ------------------------------------------------------------------------------

def _page_context(document: dict[str, Any], *, article: Article, step: str | None, preview: bool, approved: bool,
                  overdue: bool, audience: str) -> dict[str, Any]:
    def date(value: str | None) -> dt.date | None:
        return dt.datetime.fromisoformat(value).date() if value else None

    kind_labels = dict(Reference.Kind.choices)
    references = [dict(ref, kind_label=kind_labels.get(ref["kind"], ref["kind"])) for ref in document["references"]]
    return {
        "doc": document, "article": article, "preview": preview, "approved": approved, "overdue": overdue,
        "steps": selectors.review_steps(step), "references": references,
        "audience_choices": [(a, label) for a, label in Audience.choices if a in document.get("audiences", [])],
        "audience": document.get("audience", "general"), "requested_audience": audience,
        "updated": date(document.get("updated_at")), "last_reviewed": date(document.get("last_reviewed_at")),
        "next_review": date(document.get("next_review_due")),
        "history": [{"at": date(item.get("at")), "note": item.get("note", "")} for item in document.get("change_history", [])],
        "policy": governance_selectors.current_editorial_policy(),
    }


PAGE_UNREAD_SNAPSHOT_FIELDS = ("rendered_document", "rendered_variants", "rendered_jsonld", "rendered_list_item",
                               "search_text", "search_vector")


def article_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The published text: always the live snapshot, never the working revision. 404 if it was
    never published, 410 if it was withdrawn."""
    # The page reads the stored documents; the API's response texts and the search columns (a
    # tsvector, the body as text) stay in the database.
    article = get_object_or_404(Article.objects.select_related("live_snapshot", "topic").defer(
        *(f"live_snapshot__{name}" for name in PAGE_UNREAD_SNAPSHOT_FIELDS)), slug=slug)
    snapshot = article.live_snapshot
    if snapshot is None:
        if article.withdrawn_at is not None:
            context = public_views.site_context(request, title=gettext("Article withdrawn"))
            return render(request, "articles/public/gone.html", {**context, "article": article}, status=410)
        raise Http404("This article is not published.")
    audience = request.GET.get("audience", "general")
    document = snapshot.variant_documents.get(audience) or snapshot.document
    # The status the public API gives (from the same snapshot columns), so the page says the same.
    status = review_status(snapshot.next_review_due, snapshot.review_reason, timezone.localdate())
    context = _page_context(document, article=article, step="approved", preview=False, approved=True,
                            overdue=status == ReviewStatus.REVIEW_OVERDUE, audience=audience)
    context["review_reason"] = snapshot.review_reason
    # A retraction is a fact about the source, not part of the approved text: readers see it as
    # soon as it is known, while the article itself goes back for re-review.
    retracted_now = set(Citation.objects.filter(
        revision_id=snapshot.revision_id, reference__retraction_status=Reference.RetractionStatus.RETRACTED,
    ).values_list("number", flat=True))
    for ref in context["references"]:
        ref["retracted"] = ref.get("retracted") or ref["number"] in retracted_now
    context["rereview"] = status == ReviewStatus.UNDER_REVIEW
    context["jsonld"] = snapshot.jsonld.get(document.get("audience", "general")) or snapshot.jsonld.get("general")
    profiles = public_site.reviewer_profiles(snapshot.revision_id)
    context["reviewers"] = [dict(r, profile=profiles.get(r["name"])) for r in document.get("reviewed_by", [])]
    context.update(public_views.site_context(request, title=document["title"], description=document.get("summary", ""),
                                             og_type="article", canonical_path=request.path))
    # Everything the page shows besides the stored document (whose hash is the snapshot's ETag).
    etag_source = [snapshot.etag, document.get("audience"), audience, status, snapshot.review_reason, sorted(retracted_now),
                   profiles, context["policy"].version if context["policy"] else None, article.topic.slug,
                   article.topic.name]
    return public_views.public_page(request, "articles/public/article.html", context, etag_source=etag_source)


def editorial_policy(request: HttpRequest) -> HttpResponse:
    """The editorial policy in effect (or an earlier version, `?version=`), with its `#` title as
    the page's heading, every version published so far, and the state diagram."""
    versions = governance_selectors.editorial_policy_versions()
    wanted = request.GET.get("version")
    policy = next((p for p in versions if p.version == wanted), None) if wanted else (versions[0] if versions else None)
    if wanted and policy is None:
        raise Http404("No such version of the editorial policy.")
    title, body = content.split_title(content.sanitize(policy.body_html, document=True)) if policy else ("", "")
    context = public_views.site_context(request, title=title or gettext("Editorial policy"),
                                        canonical_path=request.path)
    context.update(policy=policy, policy_title=title, policy_html=body, versions=versions,
                   current=versions[0] if versions else None)
    return public_views.public_page(request, "articles/public/editorial_policy.html", context, etag_source=[
        [(p.version, p.effective_at) for p in versions], policy.version if policy else None, body])


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without an icon link (the admin); send our icon."""
    return redirect(static("img/favicon.svg"), permanent=True)
