"""Checking an uploaded figure, storing it and its resized copies through Django's storage API,
and what readers are sent: the <figure> markup (srcset) and the public documents' `figures[]`.

Pillow does the reading and resizing: the type comes from the bytes (never the name), EXIF
orientation is applied, and re-encoding drops the file's metadata (a phone photo's GPS position
never reaches readers)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from html import escape
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image, ImageOps

from articles import images
from articles.figures.models import EXTENSIONS, Figure, FigureImage, rendition_name

# Readers' screens: the column of an article page is at most 48rem (768 CSS px; 2x screens take the next).
SIZES = "(max-width: 50rem) 100vw, 48rem"
DEFAULT_WIDTH = 960


@dataclass(frozen=True)
class CheckedImage:
    """An upload that passed the checks: its bytes, their hash, type and (oriented) size."""

    data: bytes
    sha256: str
    content_type: str
    width: int
    height: int


def check_upload(upload: Any) -> CheckedImage:
    """The upload, if it is a JPEG, PNG or WebP image by its content within the figure limits
    (IMPRIMATUR_FIGURE_MAX_BYTES, IMPRIMATUR_FIGURE_MAX_PIXELS); a ValidationError naming what is
    wrong otherwise (SVG refused by name: it can carry script)."""
    if not upload:
        raise ValidationError("Choose an image file to upload.", code="image_missing")
    images.validate_web_image(upload, max_bytes=settings.IMPRIMATUR_FIGURE_MAX_BYTES,
                              max_pixels=settings.IMPRIMATUR_FIGURE_MAX_PIXELS)
    upload.seek(0)
    data = upload.read()
    if len(data) > settings.IMPRIMATUR_FIGURE_MAX_BYTES:  # a stream that did not say its size
        raise ValidationError("The image is larger than the limit.", code="image_too_large")
    with Image.open(io.BytesIO(data)) as image:
        content_type = images.FORMATS[image.format]
        width, height = ImageOps.exif_transpose(image).size
    return CheckedImage(data, hashlib.sha256(data).hexdigest(), content_type, width, height)


def rendition_widths(width: int) -> list[int]:
    """The widths to store: each of IMPRIMATUR_FIGURE_WIDTHS narrower than the image, and the image's
    own width up to the widest of them (never enlarged)."""
    wanted = sorted(settings.IMPRIMATUR_FIGURE_WIDTHS)
    return sorted({w for w in wanted if w < width} | {min(width, wanted[-1])})


def _encoded(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    extra = {"icc_profile": icc} if icc else {}
    if content_type == "image/jpeg":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=82, optimize=True, progressive=True, **extra)
    elif content_type == "image/png":
        image.save(out, "PNG", optimize=True, **extra)
    else:
        image.save(out, "WEBP", quality=80, method=4, **extra)
    return out.getvalue()


def store(checked: CheckedImage) -> tuple[str, list[int]]:
    """Write the original and its resized copies (content-addressed names: a file already there is
    the same bytes and is left alone). Returns the original's storage name and the widths."""
    extension = EXTENSIONS[checked.content_type]
    original = f"figures/{checked.sha256[:2]}/{checked.sha256}/original.{extension}"
    if not default_storage.exists(original):
        default_storage.save(original, ContentFile(checked.data))
    widths = rendition_widths(checked.width)
    with Image.open(io.BytesIO(checked.data)) as source:
        oriented = ImageOps.exif_transpose(source)
        oriented.load()
        for width in widths:
            name = rendition_name(checked.sha256, width, extension)
            if default_storage.exists(name):
                continue
            height = max(1, round(checked.height * width / checked.width))
            resized = oriented if width == oriented.width else oriented.resize((width, height), Image.Resampling.LANCZOS)
            resized.info = oriented.info
            default_storage.save(name, ContentFile(_encoded(resized, checked.content_type)))
    return original, widths


# --- what readers are sent ------------------------------------------------------------------------

def figure_url(image: FigureImage, width: int) -> str:
    return settings.SITE_URL + reverse("articles:figure", args=[image.sha256, width, image.extension])


def figure_document(figure: Figure) -> dict[str, Any]:
    """A figure as the public API lists it (`figures[]`) and the page shows it."""
    image = figure.image
    src_width = max([w for w in image.widths if w <= DEFAULT_WIDTH] or image.widths[:1])
    largest = image.widths[-1]
    renditions = [{"width": w, "height": image.rendition_height(w), "url": figure_url(image, w)} for w in image.widths]
    return {
        "slug": figure.slug, "alt": figure.alt, "caption": figure.caption, "credit": figure.credit,
        "image": image.sha256, "content_type": image.content_type,
        "width": largest, "height": image.rendition_height(largest),
        "src": figure_url(image, src_width),
        "srcset": ", ".join(f"{r['url']} {r['width']}w" for r in renditions),
        "sizes": SIZES, "renditions": renditions,
    }


def figure_documents(revision: Any) -> list[dict[str, Any]]:
    """The revision's figures, by slug (one query)."""
    return [figure_document(f) for f in revision.figures.select_related("image").order_by("slug")]


def figure_markup(revision: Any) -> dict[str, str]:
    """The revision's figures as the body shows them (slug → <figure>), for a rendering of it."""
    return {document["slug"]: figure_html(document) for document in figure_documents(revision)}


def figure_html(document: dict[str, Any]) -> str:
    """The <figure> the body shows at `![](figure:<slug>)`: srcset over the stored widths, the
    intrinsic size (no layout shift), lazy loading, the caption and the credit line."""
    e = lambda value: escape(str(value), quote=True)  # noqa: E731
    return (
        f'<figure class="figure" id="figure-{e(document["slug"])}">'
        f'<img src="{e(document["src"])}" srcset="{e(document["srcset"])}" sizes="{e(document["sizes"])}" '
        f'width="{document["width"]}" height="{document["height"]}" alt="{e(document["alt"])}" '
        f'loading="lazy" decoding="async">'
        f'<figcaption>{e(document["caption"])} <span class="figure-credit">{e(document["credit"])}</span></figcaption>'
        "</figure>\n"
    )
