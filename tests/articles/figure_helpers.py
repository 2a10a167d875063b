"""Images made in memory for the figure tests (Pillow), and a helper that puts one into an article."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from articles.figures import FigureInput
from governance.workflow import services
from governance.workflow.services import figures

SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
       b'<script>alert(1)</script><rect width="100" height="100"/></svg>')


def image_bytes(width: int = 1200, height: int = 800, *, kind: str = "PNG", colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, kind)
    return out.getvalue()


def upload(data: bytes | None = None, name: str = "chart.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else image_bytes(), content_type=content_type)


def with_figure(article, actor, *, colour: str = "teal", slug: str = "chart", alt: str = "A bar chart of blood pressure"):
    """Upload an image and show it from a new revision of the article; returns (article, image)."""
    image, _ = figures.figure_image_upload(article=article, actor=actor, upload=upload(image_bytes(colour=colour)))
    content = services.content_of(article)
    content.figures = [f for f in content.figures if f.slug != slug] + [
        FigureInput(slug, image.sha256, alt, "Blood pressure by age group.", "Imprimatur demo, CC BY 4.0")]
    if f"figure:{slug}" not in content.body_markdown:
        content.body_markdown += f"\n\n![](figure:{slug})\n"
    article = services.article_edit(article=article, actor=actor, content=content, change_note="Figure")
    return article, image


def chart_bytes(width: int = 1200, height: int = 600) -> bytes:
    """A plain bar chart (drawn with Pillow), for the browser test and the README's screenshot."""
    from PIL import ImageDraw

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(80, height - 60), (width - 40, height - 60)], fill="#333333", width=3)
    draw.line([(80, 40), (80, height - 60)], fill="#333333", width=3)
    for i, value in enumerate([118, 124, 131, 138, 144]):
        left = 140 + i * 200
        top = height - 60 - (value - 100) * 10
        draw.rectangle([left, top, left + 120, height - 62], fill="#1f6f8b")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
