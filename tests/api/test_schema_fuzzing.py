"""The OpenAPI schema is the contract: every endpoint is documented, the Swagger UI works offline,
and schemathesis fuzzes the live schema (public endpoints with an API key; every editorial endpoint
with the token of a managing editor, a writer and a board member, each operation alone and then
statefully, following the schema's links from a created article or assignment to what acts on it)
expecting no 5xx and only documented, schema-conforming responses. Each test prints its number of
cases."""

import re

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from governance.workflow import services
from tests.api.conftest import editorial_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES_PER_OPERATION = 25


def test_it_serves_the_schema_and_docs_without_a_key(db):
    client = APIClient()

    schema = client.get("/api/schema/", {"format": "json"})
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/articles/", "/api/v1/articles/{slug}/", "/api/v1/changes/", "/api/v1/board/",
                 "/api/v1/topics/", "/api/v1/policy/", "/api/v1/editorial/articles/",
                 "/api/v1/editorial/articles/{slug}/", "/api/v1/editorial/articles/{slug}/transitions/{name}/",
                 "/api/v1/editorial/articles/{slug}/assignments/", "/api/v1/editorial/assignments/{id}/review/",
                 "/api/v1/editorial/articles/{slug}/audit/"):
        assert path in paths, path
    assert docs.status_code == 200


def test_it_documents_headers_and_errors(db):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    detail = schema["paths"]["/api/v1/articles/{slug}/"]["get"]

    assert {"200", "304", "400", "401", "404", "410", "429"} <= set(detail["responses"])
    assert {"ETag", "Last-Modified", "Cache-Control"} <= set(detail["responses"]["200"]["headers"])
    assert "Retry-After" in detail["responses"]["429"]["headers"]
    assert "application/ld+json" in detail["responses"]["200"]["content"]
    assert {p["name"] for p in detail["parameters"]} >= {"slug", "audience", "format", "If-None-Match"}
    transition = schema["paths"]["/api/v1/editorial/articles/{slug}/transitions/{name}/"]["post"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(transition["responses"])
    assert "ApiKeyAuth" in schema["components"]["securitySchemes"]


def test_it_serves_the_swagger_ui_from_local_static_files_only(db):
    client = APIClient()
    page = client.get("/api/docs/").content.decode()
    script_url = re.search(r'<script src="([^"]*\?[^"]*script=[^"]*)"', page).group(1).replace("&amp;", "&")
    init_script = client.get(script_url).content.decode()

    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls and all(url.startswith(("/static/", "/api/docs/")) for url in urls), urls
    assert "<script>" not in page  # the init script is a separate file: no inline script for the CSP
    assert not re.search(r"https?://", page)
    assert "/api/schema/" in init_script
    assert not re.search(r"https?://(?!localhost|testserver)", init_script)
    for url in urls:
        if url.startswith("/static/"):
            served = client.get(url)
            assert served.status_code == 200, url
            served.getvalue()  # read to its end: the client closes the file (a bare close() closes the test's DB connection)


@pytest.fixture
def wsgi_in_test_transaction():
    # The WSGI app runs in this thread on the test's connection; Django would close that
    # connection at the end of each request (it is not in autocommit), ending the test transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def content(make_article, drive, chief):
    """Something of each kind for the fuzzer to find: live, withdrawn, draft, in review."""
    live = drive(make_article(title="Live article"), "published")
    gone = drive(make_article(title="Withdrawn article"), "published")
    services.article_withdraw(article=gone, actor=chief, reason="Superseded")
    drive(make_article(title="Draft article"), "draft")
    drive(make_article(title="Under review"), "in_review")
    return live


def _fuzz(schema, headers: dict[str, str], mode: GenerationMode) -> int:
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            nonlocal ran
            ran += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
    return ran


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_it_survives_fuzzing_of_the_public_api(wsgi_in_test_transaction, content, api_key, settings, mode):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"api_key": "100000/min", "anon_public": "100000/min"}}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_in_test_transaction)

    ran = _fuzz(schema.include(tag="public"), {"Authorization": f"Api-Key {api_key}"}, mode)

    print(f"schemathesis ({mode.value}): {ran} cases against the public API")
    assert ran > 0


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize("persona", ["chief", "writer", "reviewer"])
def test_it_survives_fuzzing_of_the_editorial_api(wsgi_in_test_transaction, content, chief, writer, board, mode,
                                                  persona):
    user = {"chief": chief, "writer": writer, "reviewer": board[0].user}[persona]
    token = editorial_token(user)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_in_test_transaction)
    editorial = schema.include(tag="editorial")
    operations = {result.ok().label for result in editorial.get_all_operations()}

    ran = _fuzz(editorial, {"Authorization": f"Token {token}"}, mode)

    print(f"schemathesis ({mode.value}, {persona}): {ran} cases against {len(operations)} editorial operations")
    assert len(operations) == len(EDITORIAL_ROUTES) and ran >= len(operations) * 5


# Every route of the editorial API: a new one fails the count above until the schema documents it.
EDITORIAL_ROUTES = [
    "GET /api/v1/editorial/articles/", "POST /api/v1/editorial/articles/", "GET /api/v1/editorial/articles/{slug}/",
    "PATCH /api/v1/editorial/articles/{slug}/", "PUT /api/v1/editorial/articles/{slug}/related/",
    "POST /api/v1/editorial/articles/{slug}/transitions/{name}/", "POST /api/v1/editorial/articles/{slug}/assignments/",
    "GET /api/v1/editorial/articles/{slug}/audit/", "GET /api/v1/editorial/articles/{slug}/dossier/",
    "POST /api/v1/editorial/articles/{slug}/images/",
    "GET /api/v1/editorial/assignments/", "POST /api/v1/editorial/assignments/{id}/review/",
    "GET /api/v1/editorial/references/lookup/",
]


def test_every_editorial_route_is_in_the_schema(db):
    from django.urls import get_resolver

    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    documented = {f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item
                  if "/editorial/" in path}
    routed = {str(p.pattern) for p in get_resolver().url_patterns}  # the dossier is mounted at the root
    assert documented == set(EDITORIAL_ROUTES)
    assert any("dossier" in route for route in routed)


STATEFUL_STEPS = 20


@pytest.mark.parametrize("persona", ["chief", "writer"])
def test_it_survives_stateful_fuzzing_of_the_editorial_api(wsgi_in_test_transaction, content, chief, writer, persona):
    """Sequences of calls along the schema's links: create an article, then read, edit, relate,
    transition, assign, audit and export it; an assignment's id to sign it."""
    user = {"chief": chief, "writer": writer}[persona]
    token = editorial_token(user)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_in_test_transaction)
    headers = {"Authorization": f"Token {token}"}
    steps = []

    class EditorialStateMachine(schema.include(tag="editorial").as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            steps.append(f"{case.method} {case.operation.path} {response.status_code}")

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    EditorialStateMachine.run(settings=settings(max_examples=STATEFUL_STEPS, stateful_step_count=6, deadline=None,
                                                database=None, derandomize=True, suppress_health_check=list(HealthCheck)))

    followed = {step.rsplit(" ", 1)[0] for step in steps}
    print(f"schemathesis (stateful, {persona}): {len(steps)} calls in {STATEFUL_STEPS} scenarios, "
          f"{len(followed)} operations reached")
    assert "POST /api/v1/editorial/articles/" in followed and len(followed) > 3
