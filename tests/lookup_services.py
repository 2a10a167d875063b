"""Crossref and NCBI E-utilities played by a real HTTP server on 127.0.0.1 (pytest-httpserver),
serving answers recorded from both services (tests/fixtures/lookup/). A few identifiers stand for
the ways a service fails: rate-limited (429 with Retry-After), down (503), slow (past the timeout)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from werkzeug import Request, Response

FIXTURES = Path(__file__).parent / "fixtures" / "lookup"
RATE_LIMITED, DOWN, SLOW = "10.9999/rate-limited", "10.9999/down", "10.9999/slow"
PMID_RATE_LIMITED, PMID_DOWN, PMID_SLOW = "429429", "503503", "808808"


def _slug(doi: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", doi.lower()).strip("-")


def _json(name: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response((FIXTURES / name).read_text(), status=status, headers=headers or {},
                    content_type="application/json;charset=UTF-8")


def _failure(key: str, rate_limited: str, down: str, slow: str) -> Response | None:
    if key == rate_limited:
        return Response('{"message":"rate limit"}', status=429, headers={"Retry-After": "120"},
                        content_type="application/json")
    if key == down:
        return Response("<html>Service Unavailable</html>", status=503, content_type="text/html")
    if key == slow:
        time.sleep(1.5)  # the tests set a one-second timeout
        return Response("{}", content_type="application/json")
    return None


def crossref(request: Request) -> Response:
    doi = request.path.split("/works/", 1)[1].lower()
    failed = _failure(doi, RATE_LIMITED, DOWN, SLOW)
    if failed is not None:
        return failed
    path = FIXTURES / f"crossref-{_slug(doi)}.json"
    if not path.exists():
        return Response((FIXTURES / "crossref-404.txt").read_text(), status=404, content_type="text/plain")
    return _json(path.name)


def eutils(request: Request) -> Response:
    if request.path.endswith("/esearch.fcgi"):
        doi = request.args.get("term", "").removesuffix("[doi]")
        path = FIXTURES / f"pubmed-esearch-{_slug(doi)}.json"
        return _json(path.name if path.exists() else "pubmed-esearch-none.json")
    pmid = request.args.get("id", "")
    if pmid == PMID_RATE_LIMITED:
        return _json("pubmed-429.json", status=429, headers={"Retry-After": "30"})
    failed = _failure(pmid, "", PMID_DOWN, PMID_SLOW)
    if failed is not None:
        return failed
    path = FIXTURES / f"pubmed-esummary-{pmid}.json"
    return _json(path.name if path.exists() else "pubmed-esummary-unknown.json")


class Recorder:
    """What the services were asked: (path, query, User-Agent) of each request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict, str]] = []

    def wrap(self, handler):
        def handle(request: Request) -> Response:
            self.requests.append((request.path, dict(request.args), request.headers.get("User-Agent", "")))
            return handler(request)
        return handle


@pytest.fixture
def lookup_services(httpserver, settings):
    """Both services on one loopback server; the settings point at it. Returns the Recorder."""
    recorder = Recorder()
    httpserver.expect_request(re.compile(r"^/crossref/works/.+")).respond_with_handler(recorder.wrap(crossref))
    httpserver.expect_request(re.compile(r"^/eutils/e(summary|search)\.fcgi$")).respond_with_handler(
        recorder.wrap(eutils))
    settings.IMPRIMATUR_CROSSREF_URL = httpserver.url_for("/crossref")
    settings.IMPRIMATUR_PUBMED_URL = httpserver.url_for("/eutils")
    settings.IMPRIMATUR_LOOKUP_TIMEOUT = 1
    settings.IMPRIMATUR_LOOKUP_CONTACT = "editors@imprimatur.example"
    cache.clear()
    yield recorder
    cache.clear()


def recorded_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())
