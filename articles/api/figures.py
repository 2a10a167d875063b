"""The editorial API's figures: upload an image into an article (multipart `file`), then show it
from a revision with PATCH `figures[]` and `![](figure:<slug>)` in the body (see the README's
"Figures in articles"). Thin: the checks and the audit live in governance.workflow.services.figures."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response

from articles.figures.models import FigureImage
from articles.figures.processing import figure_url
from governance.workflow.services import figures as figure_services

from .editorial import ERRORS, INVALID, NOT_FOUND, SLUG, EditorialView, _visible_article


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG or WebP (by content, whatever the name); no SVG; at most "
                                 "IMPRIMATUR_FIGURE_MAX_BYTES (10 MB) and IMPRIMATUR_FIGURE_MAX_PIXELS (40 MP).")


class UploadedImageSerializer(serializers.Serializer):
    image = serializers.CharField(help_text="SHA-256 of the file: name it in `figures[].image`.")
    content_type = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    bytes = serializers.IntegerField()
    widths = serializers.ListField(child=serializers.IntegerField(), help_text="The stored copies' widths.")
    preview_url = serializers.URLField(help_text="The widest copy: for editors who may see the article; 404 for "
                                       "anyone else until a revision showing it is approved and published.")


def uploaded_document(image: FigureImage) -> dict[str, Any]:
    return {"image": image.sha256, "content_type": image.content_type, "width": image.width, "height": image.height,
            "bytes": image.bytes, "widths": image.widths, "preview_url": figure_url(image, image.widths[-1])}


class ImageUploadView(EditorialView):
    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        operation_id="editorial_articles_images_create", tags=["editorial"], parameters=[SLUG],
        summary="Upload an image into an article",
        description="Stores the file (checked by its content: JPEG, PNG or WebP; SVG refused; size and pixel "
        "limits) and its copies resized to IMPRIMATUR_FIGURE_WIDTHS; audited. Nothing changes in the text: PATCH "
        "the article with `figures[]` naming the returned `image` and show it with `![](figure:<slug>)`. The same "
        "bytes again answer 200 with the stored image. Its addresses are public only while an approved, published "
        "revision shows it.",
        request={"multipart/form-data": UploadSerializer},
        responses={201: UploadedImageSerializer, 200: UploadedImageSerializer, **INVALID, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Any, slug: str) -> Any:
        article = _visible_article(request.user, slug)
        image, created = figure_services.figure_image_upload(article=article, actor=request.user,
                                                             upload=request.FILES.get("file"))
        return Response(uploaded_document(image), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
