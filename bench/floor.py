"""The framework floor: a bare Django view that returns the public detail response's bytes from
memory, through the same settings and middleware as the API (only bench/settings.py routes it),
and its twin for the public site's HTML pages, returning the article page's bytes.

`bench/apibench.py` saves the real detail body to a file and starts gunicorn with
BENCH_FLOOR_BODY pointing at it; the view reads it once, at import.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse

_path = os.environ.get("BENCH_FLOOR_BODY", "")
BODY = Path(_path).read_bytes() if _path else b'{"detail": "BENCH_FLOOR_BODY is not set"}'
# The public article page's bytes (BENCH_FLOOR_PAGE): the floor of the site's HTML pages.
_page = os.environ.get("BENCH_FLOOR_PAGE", "")
PAGE = Path(_page).read_bytes() if _page else b"<!doctype html><title>BENCH_FLOOR_PAGE is not set</title>"


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BODY, content_type="application/json")


def floor_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE, content_type="text/html; charset=utf-8")
