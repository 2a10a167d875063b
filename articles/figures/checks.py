"""Checking a revision's figures against its bodies, as citations are checked against references:
every `![](figure:<slug>)` names one of the revision's figures, every figure is shown, a figure
stands alone in its paragraph, no other image is used, and each figure has its alt text, caption
and credit line and names a file uploaded into this article."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from articles import content
from articles.figures import SLUG, FigureInput
from articles.figures.models import FigureImage

LIMITS = {"alt": 500, "caption": 1000, "credit": 500}
LABELS = {"alt": "alt text", "caption": "caption", "credit": "credit and licence line"}


def _check_fields(i: int, figure: FigureInput, seen: set[str], errors: dict[str, list[str]]) -> None:
    prefix = f"figures[{i}]"
    if not SLUG.match(figure.slug or ""):
        errors.setdefault(f"{prefix}.slug", []).append(
            "Give the figure a slug of lower-case letters, digits and hyphens (at most 80), e.g. 'blood-pressure-chart'.")
    elif figure.slug in seen:
        errors.setdefault(f"{prefix}.slug", []).append(f"Figure '{figure.slug}' is given twice.")
    seen.add(figure.slug)
    for name, limit in LIMITS.items():
        value = (getattr(figure, name) or "").strip()
        if not value:
            errors.setdefault(f"{prefix}.{name}", []).append(f"The figure's {LABELS[name]} is required.")
        elif len(value) > limit:
            errors.setdefault(f"{prefix}.{name}", []).append(f"At most {limit} characters.")


def check_figures(figures: list[FigureInput], bodies: list[str], article: Any | None,
                  errors: dict[str, list[str]]) -> dict[str, FigureImage]:
    """Add the figures' errors to `errors` (field names as `figures[0].alt`, `body_markdown`);
    returns slug → the uploaded image each figure names (one query)."""
    most = settings.IMPRIMATUR_MAX_FIGURES_PER_REVISION
    if len(figures) > most:
        errors.setdefault("figures", []).append(f"The revision has {len(figures)} figures; the limit is {most}.")
        return {}
    seen: set[str] = set()
    for i, figure in enumerate(figures):
        _check_fields(i, figure, seen, errors)
    digests = {f.image for f in figures if isinstance(f.image, str)}
    uploaded = ({image.sha256: image for image in FigureImage.objects.filter(article=article, sha256__in=digests)}
                if article is not None and digests else {})
    resolved: dict[str, FigureImage] = {}
    for i, figure in enumerate(figures):
        image = uploaded.get(figure.image)
        if image is None:
            errors.setdefault(f"figures[{i}].image", []).append(
                f"No image with the hash '{figure.image}' was uploaded into this article; upload it first."
                if article is not None else "Create the draft first, then upload its figures into it.")
        else:
            resolved[figure.slug] = image
    _check_uses(figures, bodies, errors)
    return resolved


def _check_uses(figures: list[FigureInput], bodies: list[str], errors: dict[str, list[str]]) -> None:
    defined = {f.slug for f in figures}
    shown: set[str] = set()
    for body in bodies:
        for use in content.image_uses(body):
            if use.slug is None:
                errors.setdefault("body_markdown", []).append(
                    f"Images are uploaded as figures and shown with ![](figure:<slug>); '{use.src}' is not one.")
            elif use.slug not in defined:
                errors.setdefault("body_markdown", []).append(
                    f"![](figure:{use.slug}) names no figure of this revision; upload it or fix the marker.")
            elif not use.standalone:
                errors.setdefault("body_markdown", []).append(
                    f"Figure '{use.slug}' must stand alone in its paragraph (a blank line before and after).")
            shown.add(use.slug or "")
    for i, figure in enumerate(figures):
        if figure.slug in defined - shown:
            errors.setdefault(f"figures[{i}].slug", []).append(
                f"Figure '{figure.slug}' is never shown in the body; add ![](figure:{figure.slug}) where it belongs.")
