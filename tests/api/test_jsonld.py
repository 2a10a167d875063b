import pytest
from pyld import jsonld

from tests.api.jsonld_context import local_loader

S = "http://schema.org/"


def _expand(document):
    return jsonld.expand(document, {"documentLoader": local_loader})


def _values(node, term):
    return [v.get("@value", v.get("@id")) for v in node.get(S + term, [])]


@pytest.fixture
def published(make_article, drive):
    return drive(make_article(), "published")


def test_it_serves_json_ld_on_accept_and_expands_it_with_schema_org(site, published):
    response = site.get(f"/api/v1/articles/{published.slug}/", HTTP_ACCEPT="application/ld+json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    [page] = _expand(response.json())
    assert page["@type"] == [S + "MedicalWebPage"]
    assert _values(page, "name") == ["Living with heart failure"]
    assert _values(page, "lastReviewed") == [published.last_reviewed_at.date().isoformat()]
    assert page[S + "lastReviewed"][0]["@type"] == S + "Date"
    reviewers = page[S + "reviewedBy"]
    assert len(reviewers) == 2
    assert all(r["@type"] == [S + "Person"] for r in reviewers)
    assert sorted(_values(r, "name")[0] for r in reviewers) == sorted(
        r.signed_name for r in published.reviews.all())
    assert _values(reviewers[0], "honorificSuffix") == ["MD"]
    citations = page[S + "citation"]
    assert [c["@type"] for c in citations] == [[S + "ScholarlyArticle"]] * 2
    identifiers = {(_values(i, "propertyID")[0], _values(i, "value")[0]) for i in citations[0][S + "identifier"]}
    assert identifiers == {("DOI", "10.1056/nejmoa0000001"), ("PMID", "31535829")}
    assert page[S + "audience"][0]["@type"] == [S + "MedicalAudience"]
    assert _values(page[S + "about"][0], "name") == ["Heart health"]


def test_it_serves_json_ld_with_the_format_parameter_and_its_own_etag(site, published):
    url = f"/api/v1/articles/{published.slug}/"

    as_json = site.get(url)
    as_ld = site.get(url, {"format": "jsonld"})

    assert as_ld.json()["@type"] == "MedicalWebPage"
    assert as_ld["ETag"] != as_json["ETag"]
    assert site.get(url, {"format": "jsonld"}, HTTP_IF_NONE_MATCH=as_ld["ETag"]).status_code == 304


def _terms(node) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_terms(n) for n in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    return {k for k in node if not k.startswith("@")} | set().union(*(_terms(v) for v in node.values()))


def test_every_term_it_serves_is_a_schema_org_term(site, published):
    """Expansion silently drops a term the context does not define: every property the API puts
    in its JSON-LD must be one schema.org defines, or a consumer never sees it."""
    import json

    from tests.api.jsonld_context import CONTEXT_FILE

    document = site.get(f"/api/v1/articles/{published.slug}/", HTTP_ACCEPT="application/ld+json").json()
    defined = set(json.loads(CONTEXT_FILE.read_text())["@context"])

    assert document["@context"] in ("https://schema.org", "https://schema.org/", "http://schema.org")
    served = _terms({k: v for k, v in document.items() if k != "@context"})
    assert {"name", "reviewedBy", "citation", "lastReviewed"} <= served
    assert served - defined == set()
