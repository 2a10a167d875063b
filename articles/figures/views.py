"""Serving figures, and the editor's figures page of an article.

`/figures/<sha256>/<width>.<ext>` answers only while the live snapshot of some article shows the
image (its revision's figures): one query, then the file through Django's storage API with
immutable cache headers (the address is the file's hash, so it never changes meaning). Before
that, or after a withdrawal, it is 404 to the public; an editor who may see an article holding
the image gets it with `private, no-store`, for previews."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.utils.http import quote_etag
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from articles.figures.models import FigureImage
from articles.figures.processing import figure_documents
from articles.models import Article
from articles.views.editor import editor_required
from governance.workflow import figures as figure_services
from governance.workflow import policies
from governance.workflow.exceptions import ContentInvalid, GovernanceError

IMMUTABLE = "public, max-age=31536000, immutable"


def _live_revisions() -> Any:
    return Article.objects.filter(live_snapshot__isnull=False).values("live_snapshot__revision_id")


def _not_found() -> HttpResponse:
    response = HttpResponseNotFound("No such figure.", content_type="text/plain; charset=utf-8")
    # Not kept by a shared cache: the same address answers once the figure is approved and live.
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def figure(request: HttpRequest, sha256: str, width: str, extension: str) -> HttpResponse:
    """A stored width of an approved, live figure (see the module's docstring)."""
    width_ = int(width)
    row = (FigureImage.objects.filter(sha256=sha256, placements__revision_id__in=_live_revisions())
           .values("content_type", "widths").first())
    cache_control = IMMUTABLE
    if row is None:
        user = request.user
        editor_copy = user.is_authenticated and (
            FigureImage.objects.filter(sha256=sha256, article__in=policies.visible_articles(user))
            .values("content_type", "widths").first())
        if not editor_copy:
            return _not_found()
        row, cache_control = editor_copy, "private, no-store"
    image = FigureImage(sha256=sha256, content_type=row["content_type"], widths=row["widths"], width=1, height=1)
    if width_ not in row["widths"] or extension != image.extension:
        return _not_found()
    etag = quote_etag(f"{sha256[:32]}-{width_}")
    if cache_control == IMMUTABLE and etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = FileResponse(default_storage.open(image.rendition_name(width_), "rb"),
                                content_type=row["content_type"])
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the editor's page: the working text's figures ----------------------------------------------

@editor_required
def editor_figures(request: HttpRequest, slug: str) -> HttpResponse:
    """List the working revision's figures; add, replace (a new file), re-word or remove one, each
    a new revision (an approved text goes back to draft and its approvals are voided)."""
    article = policies.visible_articles(request.user).select_related("current_revision", "topic").filter(
        slug=slug).first()
    if article is None:
        return HttpResponseNotFound(gettext("No such article."))
    may_edit = policies.may_edit(request.user, article)
    form: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and may_edit:
        post = request.POST
        form = {name: post.get(name, "").strip() for name in ("slug", "alt", "caption", "credit")}
        try:
            if post.get("action") == "remove":
                figure_services.article_remove_figure(article=article, actor=request.user, slug=form["slug"])
                messages.success(request, gettext("Figure “%(slug)s” removed: saved as a new revision.") % form)
            else:
                figure_services.article_put_figure(article=article, actor=request.user, upload=request.FILES.get("file"),
                                                   **form)
                messages.success(request, gettext("Figure “%(slug)s” saved as a new revision. It is public only once "
                                                  "this revision is approved and published.") % form)
            return redirect("articles:figures", slug=article.slug)
        except ContentInvalid as exc:
            errors = exc.errors
        except GovernanceError as exc:
            messages.error(request, f"{exc.message} (rule: {exc.rule})" if exc.rule else exc.message)
    revision = article.current_revision
    return render(request, "articles/editor/figures.html", {
        "article": article, "figures": figure_documents(revision) if revision else [], "may_edit": may_edit,
        "form": form, "errors": errors, "nav": "articles",
        "voids_approval": article.state in ("approved", "scheduled"),
    }, status=400 if errors else 200)
