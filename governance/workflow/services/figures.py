"""Figures in articles: uploading an image into an article, and the editor UI's one-step "put a
figure" and "remove a figure", which make a new revision through `services.article_edit` (so a
figure added to or replaced in an approved text voids the approval, exactly as a text edit does).

The image's file is checked and stored here (articles.figures.processing); which figures a revision
shows, and their words, are part of its content (`ArticleContent.figures`), hashed and checked with
the rest by the services."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from articles.figures import FigureInput
from articles.figures.models import FigureImage
from articles.figures.processing import check_upload, store
from articles.models import Article
from governance.workflow import audit, policies, services
from governance.workflow.exceptions import ContentInvalid, NotPermitted


def figure_image_upload(*, article: Article, actor: Any, upload: Any) -> tuple[FigureImage, bool]:
    """Check the upload (type by content, size, pixels; no SVG), store it with its resized copies
    and record it for the article; audited `figure_image.upload`. The same bytes uploaded again
    give the stored image back (created False). Nothing is public until an approved revision that
    shows it is published."""
    if not policies.may_edit(actor, article):
        raise NotPermitted("You may not add images to this article.", rule="may_edit")
    try:
        checked = check_upload(upload)
    except ValidationError as exc:
        raise ContentInvalid({"file": exc.messages}) from exc
    existing = FigureImage.objects.filter(article=article, sha256=checked.sha256).first()
    if existing is not None:
        return existing, False
    # Files first, outside the transaction: their names are content addresses, so a file left by a
    # rolled-back upload is the same bytes the next upload of it would write.
    original, widths = store(checked)
    fields = {"content_type": checked.content_type, "width": checked.width, "height": checked.height,
              "bytes": len(checked.data), "original": original, "widths": widths}
    try:
        with transaction.atomic():
            image = FigureImage.objects.create(article=article, sha256=checked.sha256, uploaded_by=actor, **fields)
            audit.record(action="figure_image.upload", obj=image, actor=actor, article=article,
                         data={"sha256": image.sha256, **{k: v for k, v in fields.items() if k != "original"}})
    except IntegrityError:  # the same file, uploaded at the same moment by another request
        return FigureImage.objects.get(article=article, sha256=checked.sha256), False
    return image, True


def _marker(slug: str) -> re.Pattern[str]:
    return re.compile(r"^[ \t]*!\[[^\]\n]*\]\(figure:" + re.escape(slug) + r"\)[ \t]*\n?", re.M)


def article_put_figure(*, article: Article, actor: Any, slug: str, alt: str, caption: str, credit: str,
                       upload: Any = None, change_note: str = "", base_revision_id: int | None = None) -> Article:
    """Add figure `slug` to the working text, or change it (a new file, or new words): a new
    revision. A new figure is shown at the end of the body (`![](figure:<slug>)`), for the editor
    to move. Without `upload` the figure keeps its image (a new figure needs one: `file`)."""
    current = services.content_of(article)
    existing = next((f for f in current.figures if f.slug == slug), None)
    if upload:
        image, _ = figure_image_upload(article=article, actor=actor, upload=upload)
        digest = image.sha256
    elif existing is not None:
        digest = existing.image
    else:
        raise ContentInvalid({"file": ["Choose the image file for the new figure."]})
    figure = FigureInput(slug=slug, image=digest, alt=alt, caption=caption, credit=credit)
    current.figures = [f for f in current.figures if f.slug != slug] + [figure]
    bodies = [current.body_markdown, *(v.body_markdown for v in current.variants)]
    if not any(_marker(slug).search(body) for body in bodies):
        current.body_markdown = current.body_markdown.rstrip("\n") + f"\n\n![]({'figure:' + slug})\n"
    note = change_note or (f"Figure '{slug}' replaced" if existing and upload else
                           f"Figure '{slug}' edited" if existing else f"Figure '{slug}' added")
    return services.article_edit(article=article, actor=actor, content=current, change_note=note,
                                 is_major_change=False, base_revision_id=base_revision_id)


def article_remove_figure(*, article: Article, actor: Any, slug: str, base_revision_id: int | None = None) -> Article:
    """Take figure `slug` out of the working text, and its `![](figure:<slug>)` lines out of the
    body and the audience versions: a new revision. Its stored file stays (earlier revisions name it)."""
    current = services.content_of(article)
    if not any(f.slug == slug for f in current.figures):
        raise ContentInvalid({"slug": [f"The working text has no figure '{slug}'."]})
    current.figures = [f for f in current.figures if f.slug != slug]
    current.body_markdown = _marker(slug).sub("", current.body_markdown)
    for variant in current.variants:
        variant.body_markdown = _marker(slug).sub("", variant.body_markdown)
    return services.article_edit(article=article, actor=actor, content=current, change_note=f"Figure '{slug}' removed",
                                 is_major_change=False, base_revision_id=base_revision_id)
