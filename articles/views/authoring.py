"""The editor's create and edit pages (/editor/articles/new/, …/edit/): the article form with its
references (RIS import, DOI/PMID check), the live preview. A refusal becomes a message naming the rule."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from articles import bibliography, content, importers, reference_fill
from articles.citations import format_ama
from articles.figures.processing import figure_markup
from articles.forms import (
    ArticleForm,
    ReferenceFormSet,
    apply_content_errors,
    content_from_forms,
    reference_initial,
)
from articles.models import (
    Article,
    ArticleState,
    Audience,
    Reference,
    normalize_doi,
    validate_doi,
)
from articles.views.editor import editor_required, refused, visible_article
from governance.workflow import policies, services
from governance.workflow.exceptions import ContentInvalid, GovernanceError

# --- create and edit ---------------------------------------------------------------------------

def _article_form_page(request: HttpRequest, *, article: Article | None) -> HttpResponse:
    creating = article is None
    if request.method == "POST":
        form = ArticleForm(request.POST, request.FILES, creating=creating, article=article)
        formset = ReferenceFormSet(request.POST, prefix="refs")
        action = request.POST.get("action", "save")
        if action in ("add_reference", "import_ris") or action.startswith("fill-"):
            return _rebuild_with_references(request, form, formset, article=article, action=action)
        if form.is_valid() and formset.is_valid():
            article_content, indices = content_from_forms(form, formset)
            if not creating:  # figures are kept on their own page (articles.figures.views)
                article_content.figures = services.content_of(article).figures
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
                refused(request, exc)
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
    fill = int(action.removeprefix("fill-")) if action.removeprefix("fill-").isdigit() else None
    rows = []
    for index, f in enumerate(formset.forms):
        if f.data.get(f.add_prefix("DELETE")):
            continue
        row = {name: f.data.get(f.add_prefix(name), "") for name in f.fields if name != "DELETE"}
        if index == fill:  # "Fill from DOI/PMID" without JavaScript: the row comes back filled, unsaved
            filled = reference_fill.fill_row(row)
            row = filled.row
            {"ok": messages.success, "info": messages.warning}.get(filled.level, messages.error)(
                request, gettext("Reference %(number)s: %(note)s") % {"number": index + 1, "note": filled.note})
        rows.append(row)
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
                imported = importers.parse_references(upload)
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
    """What makes two references the same (`bibliography.duplicate_keys`)."""
    return bibliography.duplicate_keys(ref)


def _import_rows(request: HttpRequest, rows: list[dict[str, Any]], imported: list[dict[str, Any]],
                 filename: str) -> None:
    """Append the imported references to `rows`, skipping those already listed on the form and
    those the RIS file itself repeats; say how many of each were skipped."""
    known = {key for row in rows for key in _identity(row)}
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
    article = visible_article(request, slug)
    if not policies.may_edit(request.user, article):
        messages.error(request, gettext("You may not edit this article. (rule: may_edit)"))
        return redirect("articles:detail", slug=slug)
    return _article_form_page(request, article=article)


@editor_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """htmx: the body as readers will see it, with numbered citations and the reference list,
    rendered from the form as it stands (nothing saved), and the figures of the article being
    edited (`preview_article`; its working revision's, served to editors before approval)."""
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
    locators = content.cited_locators(bodies)
    listed = [dict(by_key[k], number=check.numbers[k], locators=locators.get(k, [])) for k in cited]
    for ref, formatted in zip(listed, format_ama(listed), strict=True):
        ref["formatted"] = formatted
        ref["kind_label"] = Reference.Kind(ref["kind"]).label if ref["kind"] in Reference.Kind.values else ref["kind"]
    return render(request, "articles/editor/_preview.html", {
        "title": request.POST.get("title", ""),
        "body_html": content.render(body, check.numbers, _working_figures(request),
                                    passages={r["key"]: r.get("passages") or [] for r in references}),
        "references": listed, "check": check, "audience": audience,
    })


def _working_figures(request: HttpRequest) -> dict[str, str]:
    article = (policies.visible_articles(request.user).select_related("current_revision")
               .filter(slug=request.POST.get("preview_article", "")).first())
    return figure_markup(article.current_revision) if article and article.current_revision else {}


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
