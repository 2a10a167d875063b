"""Property: no GET route of the API answers 5xx, whatever its path parameters and query string hold
(control characters, huge and negative numbers, malformed cursors, any text). The routes are read
from the URLconf, so a new one is covered the day it is added. The number of cases tried is printed."""

from __future__ import annotations

import base64
import re
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from governance.workflow import services
from tests.api.conftest import editorial_token

EXAMPLES_PER_ROUTE = 60
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def api_get_routes() -> list[str]:
    """Every route under /api/v1/ whose view answers GET, as its URLconf pattern (`<slug:slug>`…)."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                view = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
                if route.startswith("api/v1/") and view is not None and hasattr(view, "get"):
                    found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


ROUTES = api_get_routes()

# NUL first: PostgreSQL cannot take it, so it is the one that reached a query and failed.
control_text = st.one_of(st.just("\x00"),
                         st.text(alphabet=st.characters(codec="utf-8", categories=["Cc"]), min_size=1, max_size=4))
any_text = st.text(max_size=40)
numbers = st.one_of(st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from([0, -1, 2**63, 2**64, 10**100]))
encoded = st.binary(max_size=60).map(lambda raw: base64.urlsafe_b64encode(raw).decode())
hostile_text = st.one_of(control_text, st.tuples(any_text, control_text, any_text).map("".join), any_text)
drf_cursors = st.tuples(hostile_text, numbers, st.sampled_from(["0", "1", "x"])).map(
    lambda parts: base64.b64encode(f"p={parts[0]}&o={parts[1]}&r={parts[2]}".encode("utf-8", "surrogatepass")).decode())
feed_cursors = st.one_of(numbers, hostile_text).map(lambda seq: base64.urlsafe_b64encode(f"seq:{seq}".encode(
    "utf-8", "surrogatepass")).decode().rstrip("="))
known_values = st.sampled_from(["json", "jsonld", "pdf", "patient", "approved", "open", "2026-01-01T00:00:00Z", "",
                                "%00", "\x00"])
values = st.one_of(hostile_text, numbers.map(str), encoded, drf_cursors, feed_cursors, known_values)
NAMES = ["cursor", "page_size", "since", "topic", "audience", "updated_since", "q", "review_status", "format",
         "status", "doi", "pmid"]
names = st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=12))
# The parameters the routes read, each often present with a hostile value, plus any others.
read_parameters = st.fixed_dictionaries({}, optional={
    "cursor": st.one_of(drf_cursors, values), "since": st.one_of(feed_cursors, values),
    "page_size": st.one_of(numbers.map(str), values)})
queries = st.tuples(read_parameters, st.dictionaries(names, st.one_of(values, st.lists(values, min_size=2, max_size=3)),
                                                     max_size=3)).map(lambda pair: {**pair[1], **pair[0]})


@pytest.fixture
def catalogue(make_article, drive, chief):
    live = drive(make_article(title="Live article"), "published")
    gone = drive(make_article(title="Withdrawn article"), "published")
    services.article_withdraw(article=gone, actor=chief, reason="Superseded")
    draft = drive(make_article(title="Draft article"), "in_review")
    return [live.slug, gone.slug, draft.slug]


def path_values(converter: str, slugs: list[str]):
    if converter == "int":
        return st.one_of(numbers.filter(lambda n: n >= 0).map(str), st.integers(0, 50).map(str))
    if converter == "slug":
        return st.one_of(st.sampled_from(slugs), st.from_regex(r"[-a-zA-Z0-9_]{1,60}", fullmatch=True))
    return st.one_of(st.sampled_from(["submit", "publish", "withdraw"]), any_text.filter(bool))


@pytest.mark.parametrize("route", ROUTES)
def test_no_get_route_answers_a_server_error(route, catalogue, api_key, chief, settings_override_rates):
    token = editorial_token(chief)
    client = APIClient()
    client.raise_request_exception = False
    auth = f"Token {token}" if "/editorial/" in route else f"Api-Key {api_key}"
    parameters = CONVERTER.findall(route)
    tried: list[int] = []

    @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(path=st.fixed_dictionaries({name: path_values(converter or "str", catalogue)
                                       for converter, name in parameters}),
           query=queries, if_none_match=st.one_of(st.none(), any_text, st.just('W/"x"')))
    def request_it(path, query, if_none_match):
        url = CONVERTER.sub(lambda m: quote(path[m.group(2)], safe=""), route)
        extra = {"HTTP_AUTHORIZATION": auth}
        if if_none_match is not None:
            extra["HTTP_IF_NONE_MATCH"] = if_none_match.encode("utf-8", "surrogatepass").decode("latin-1")
        response = client.get(url, query, **extra)
        tried.append(response.status_code)
        assert response.status_code < 500, (url, query, response.content[:500])

    request_it()
    print(f"property (GET {route}): {len(tried)} cases, statuses {sorted(set(tried))}")
    assert len(tried) >= EXAMPLES_PER_ROUTE // 2


def test_every_api_get_route_is_covered():
    assert {"/api/v1/articles/", "/api/v1/articles/<slug:slug>/", "/api/v1/changes/", "/api/v1/board/",
            "/api/v1/topics/", "/api/v1/policy/", "/api/v1/editorial/articles/",
            "/api/v1/editorial/articles/<slug:slug>/", "/api/v1/editorial/articles/<slug:slug>/audit/",
            "/api/v1/editorial/articles/<slug:slug>/dossier/"} <= set(ROUTES)
