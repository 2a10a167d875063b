"""FigureImage (an uploaded file, stored once per article by its hash) and Figure (one revision's
use of it, with the words shown beside it: part of the immutable revision)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from articles.models import RevisionPart

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class FigureImage(models.Model):
    """An image file uploaded into an article. Its bytes never change: a new file is a new row
    (another SHA-256), so a revision that names this row names exactly these bytes."""

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="figure_images")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the uploaded file's bytes.")
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveIntegerField()
    original = models.CharField(max_length=200, help_text="Storage name of the file as uploaded.")
    widths = models.JSONField(default=list, help_text="The widths resized copies were stored at, ascending.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "sha256"], name="figure_image_unique_per_article")]
        indexes = [models.Index(fields=["sha256"], name="figure_image_sha256")]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.width} x {self.height})"

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]

    def rendition_name(self, width: int) -> str:
        return rendition_name(self.sha256, width, self.extension)

    def rendition_height(self, width: int) -> int:
        return max(1, round(self.height * width / self.width))


def rendition_name(sha256: str, width: int, extension: str) -> str:
    """Where a resized copy lives in storage (a content address: never overwritten)."""
    return f"figures/{sha256[:2]}/{sha256}/{width}.{extension}"


class Figure(RevisionPart):
    """A figure as one revision shows it: the image, its slug in the body (`![](figure:<slug>)`),
    and its alt text, caption and credit/licence line, all covered by the revision's hash."""

    revision = models.ForeignKey("articles.Revision", on_delete=models.CASCADE, related_name="figures")
    slug = models.SlugField(max_length=80)
    image = models.ForeignKey(FigureImage, on_delete=models.PROTECT, related_name="placements")
    alt = models.CharField("alt text", max_length=500)
    caption = models.CharField(max_length=1000)
    credit = models.CharField("credit and licence", max_length=500)

    class Meta:
        ordering = ["revision", "slug"]
        constraints = [models.UniqueConstraint(fields=["revision", "slug"], name="figure_slug_unique")]

    def __str__(self) -> str:
        return f"{self.revision} figure {self.slug}"

    def as_input(self) -> Any:
        from articles.figures import FigureInput

        return FigureInput(self.slug, self.image.sha256, self.alt, self.caption, self.credit)
