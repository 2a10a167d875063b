"""Checks on the images the managing editor uploads for the public site (the site logo, board
members' photos): the type is read from the content by Pillow, never from the file name; SVG (which
can carry script) is not accepted at all; size and pixel limits keep a decompression bomb out."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
MIN_SIDE = 32
# What browsers show everywhere, by Pillow's name for the format it found in the bytes.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


# SVG and other XML images can carry script: named in the refusal rather than called unreadable.
_MARKUP_START = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<(?:\?xml|svg|!DOCTYPE\s+svg|!--)", re.I)


def validate_web_image(upload: Any, *, max_bytes: int | None = None, max_pixels: int | None = None) -> None:
    """A JPEG, PNG or WebP image (by its content) of at most `max_bytes` and `max_pixels` (default
    MAX_BYTES, MAX_PIXELS), each side at least MIN_SIDE pixels; a ValidationError naming what is
    wrong otherwise."""
    if not upload:
        return
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(f"The image is {size / 1024 / 1024:.1f} MB; at most {max_bytes // 1024 // 1024} MB "
                              "is accepted.", code="image_too_large")
    position = upload.tell() if hasattr(upload, "tell") else None
    try:
        upload.seek(0)
        if _MARKUP_START.match(upload.read(512)):
            raise ValidationError("This file is not one of JPEG, PNG or WebP: SVG and other markup images are not "
                                  "accepted (they can carry script).", code="image_svg")
        upload.seek(0)
        # Pillow refuses (DecompressionBombError) or warns past its own limit; ours is lower.
        with Image.open(upload) as image:
            kind, (width, height) = image.format, image.size
            if width * height > max_pixels:
                raise ValidationError(f"The image is {width} x {height} pixels; at most {max_pixels:,} pixels "
                                      "are accepted.", code="image_too_many_pixels")
            image.verify()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise ValidationError("Upload a JPEG, PNG or WebP image (this file is not one, whatever its name; SVG is "
                              "not accepted).", code="image_not_readable") from exc
    finally:
        if position is not None:
            upload.seek(position)
    if kind not in FORMATS:
        raise ValidationError(f"Upload a JPEG, PNG or WebP image (this one is {kind}).", code="image_format")
    if min(width, height) < MIN_SIDE:
        raise ValidationError(f"The image is {width} x {height} pixels; each side must be at least {MIN_SIDE}.",
                              code="image_too_small")


def content_type_of(image_file: Any) -> str:
    """The media type of a stored image, from its content (the upload was checked by validate_web_image)."""
    image_file.open("rb")
    try:
        with Image.open(image_file) as image:
            return FORMATS.get(image.format or "", "application/octet-stream")
    except (UnidentifiedImageError, OSError):
        return "application/octet-stream"
    finally:
        image_file.close()
