"""Public `review_status` and `review_reason`: `approved` (within its review interval),
`review_overdue` (past `next_review_due`, still served), `under_review` (a re-review is open for
another reason, named in `review_reason`: `reference_retracted`, `editor_request`). The API's
list and detail (the whole list and its filters), its list filter and the public page say the same thing,
from the stored snapshot: one SQL statement per request."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article, PublishedSnapshot
from governance.background import staleness
from governance.workflow import services
from tests.conftest import article_content

RETRACTIONS_CSV = Path(__file__).resolve().parent.parent / "fixtures" / "retractions.csv"
DETAIL = "/api/v1/articles/{}/"


def retract_its_trial() -> None:
    """Retraction Watch retracts the trial every test article cites (doi:10.1056/NEJMoa0000001)."""
    call_command("import_retractions", str(RETRACTIONS_CSV), "--no-progress", stdout=io.StringIO(),
                 stderr=io.StringIO())


def listed(site, slug: str, **params) -> dict | None:
    items = site.get("/api/v1/articles/", {"page_size": 100, **params}).json()["results"]
    return next((item for item in items if item["slug"] == slug), None)


def page_cautions(client, slug: str) -> tuple[set[str], str]:
    html = client.get(f"/articles/{slug}/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return set(re.findall(r'id="caution-(\w+)"', html)), text


# (scenario, review_status, review_reason, the page's caution)
SCENARIOS = [
    ("approved", "approved", None, set()),
    ("overdue", "review_overdue", None, {"overdue"}),
    ("retracted", "under_review", "reference_retracted", {"rereview"}),
    ("retracted_and_being_revised", "under_review", "reference_retracted", {"rereview"}),
    ("editor_request", "under_review", "editor_request", {"rereview"}),
]


@pytest.fixture
def scenario(make_article, drive, chief, writer):
    def make(name: str) -> Article:
        article = drive(make_article(), "published")
        if name == "overdue":  # its review date passed (as the approval set it, on the article and its text)
            Article.objects.filter(pk=article.pk).update(next_review_due=dt.date(2020, 1, 1))
            PublishedSnapshot.objects.filter(pk=article.live_snapshot_id).update(next_review_due=dt.date(2020, 1, 1))
            staleness.flag_stale_articles()
        elif name.startswith("retracted"):
            retract_its_trial()
            if name == "retracted_and_being_revised":  # the writer replaces the retracted trial: a draft
                article.refresh_from_db()
                content = article_content(
                    body_markdown="Guidelines recommend four classes of medicine [@nice2018].\n",
                    references=[article_content().references[1]])
                services.article_edit(article=article, actor=writer, content=content, change_note="Trial retracted")
                assert Article.objects.get(pk=article.pk).state == "draft"
        elif name == "editor_request":
            services.article_transition(article=article, actor=chief, name="request_re_review",
                                        reason="New NICE guidance on SGLT2 inhibitors (internal note)")
        return Article.objects.get(pk=article.pk)

    return make


@pytest.mark.parametrize(("name", "status", "reason", "caution"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_the_api_and_the_page_say_the_same(site, client, scenario, name, status, reason, caution):
    article = scenario(name)

    detail = site.get(DETAIL.format(article.slug)).json()
    item = listed(site, article.slug)
    assert (detail["review_status"], detail["review_reason"]) == (status, reason)
    assert (item["review_status"], item["review_reason"]) == (status, reason)
    assert listed(site, article.slug, review_status=status) is not None
    for other in {"approved", "review_overdue", "under_review"} - {status}:
        assert listed(site, article.slug, review_status=other) is None, other
    cautions, text = page_cautions(client, article.slug)
    assert cautions == caution
    if reason == "reference_retracted":
        assert "a source it cites was retracted" in text
    if reason == "editor_request":
        assert "editors asked our advisory board to check it again" in text
        assert "internal note" not in text and "internal note" not in str(detail)


def test_the_etag_changes_with_the_status_and_a_cached_copy_revalidates(site, scenario, make_article, drive):
    article = drive(make_article(), "published")
    before = site.get(DETAIL.format(article.slug))
    retract_its_trial()
    after = site.get(DETAIL.format(article.slug), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after.json()["review_status"] == "under_review"
    assert site.get(DETAIL.format(article.slug), HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_a_new_approved_publication_ends_the_re_review(site, client, scenario, chief, board, password):
    article = scenario("editor_request")
    article = services.article_start_review(article=article, actor=chief)  # the approvers were asked again
    for assignment in article.assignments.filter(status="open"):
        services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                               password=password)
    article.refresh_from_db()
    services.article_publish(article=article, actor=chief)

    detail = site.get(DETAIL.format(article.slug)).json()
    assert (detail["review_status"], detail["review_reason"]) == ("approved", None)
    assert page_cautions(client, article.slug)[0] == set()


@pytest.mark.parametrize("name", ["retracted", "editor_request", "overdue"])
def test_the_whole_list_and_its_filter_serve_the_same_item(site, scenario, name):
    # The whole list is read by one statement, a filtered one through the ORM: the same stored
    # item, with the same status spliced in.
    article = scenario(name)
    status = site.get(DETAIL.format(article.slug)).json()["review_status"]
    whole = site.get("/api/v1/articles/").json()["results"]
    filtered = site.get("/api/v1/articles/", {"review_status": status}).json()["results"]

    assert status != "approved"
    assert [item for item in whole if item["slug"] == article.slug] == filtered


def test_a_re_review_costs_no_extra_query(site, scenario):
    article = scenario("retracted")
    url = DETAIL.format(article.slug)
    etag = site.get(url)["ETag"]  # the key verified and cached
    for path, headers in [(url, {}), (url, {"HTTP_IF_NONE_MATCH": etag}), ("/api/v1/articles/", {})]:
        with CaptureQueriesContext(connection) as queries:
            response = site.get(path, **headers)
        assert response.status_code in (200, 304)
        assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]


def test_the_schema_documents_the_statuses_and_reasons(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    item = schema["components"]["schemas"]["ArticleListItem"]["properties"]
    assert set(_enum(schema, item["review_status"])) == {"approved", "review_overdue", "under_review"}
    assert set(_enum(schema, item["review_reason"])) >= {"reference_retracted", "editor_request"}
    assert item["review_reason"].get("nullable") or "null" in str(item["review_reason"])
    parameters = schema["paths"]["/api/v1/articles/"]["get"]["parameters"]
    review_status = next(p for p in parameters if p["name"] == "review_status")
    assert "under_review" in review_status["schema"]["enum"]


def _enum(schema: dict, prop: dict) -> list:
    """The enum of a property, following drf-spectacular's $ref / allOf / oneOf to the component."""
    if "enum" in prop:
        return prop["enum"]
    for key in ("allOf", "oneOf", "anyOf"):
        for part in prop.get(key, []):
            values = _enum(schema, part)
            if values:
                return values
    if "$ref" in prop:
        return _enum(schema, schema["components"]["schemas"][prop["$ref"].rsplit("/", 1)[1]])
    return []


def test_the_migration_marks_the_live_texts_citing_a_retracted_reference(make_article, drive):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    citing = drive(make_article(), "published")
    other = drive(make_article(title="Guidelines only", body_markdown="Four classes of medicine [@nice2018].\n",
                               references=[article_content().references[1]]), "published")
    retract_its_trial()
    PublishedSnapshot.objects.update(review_reason="")  # as stored before the column existed

    migration = importlib.import_module("articles.migrations.0010_publishedsnapshot_review_reason")
    migration.backfill(apps, SimpleNamespace(connection=connection))

    live = [Article.objects.get(pk=a.pk).live_snapshot_id for a in (citing, other)]
    assert list(PublishedSnapshot.objects.filter(pk__in=live).order_by("pk").values_list("review_reason", flat=True)) \
        == ["reference_retracted", ""]
