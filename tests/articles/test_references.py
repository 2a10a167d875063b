"""References: DOI/PMID/PMCID validated by their published formats; unique by DOI and by PMID."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from articles.models import Reference, validate_doi, validate_pmcid, validate_pmid
from governance.workflow.exceptions import ContentInvalid
from tests.factories import ReferenceFactory

VALID_DOIS = ["10.1056/NEJMoa2034577", "10.1001/jama.2020.1585", "10.1093/eurheartj/ehab368", "10.12345678/x(y)z"]
INVALID_DOIS = ["10.12/short-registrant", "11.1056/abc", "10.1056/", "10.1056/has space", "NEJMoa2034577", "doi"]


@pytest.mark.parametrize("doi", VALID_DOIS)
def test_it_accepts_dois_of_the_published_form(doi):
    validate_doi(doi)


@pytest.mark.parametrize("doi", INVALID_DOIS)
def test_it_refuses_malformed_dois(doi):
    with pytest.raises(ValidationError):
        validate_doi(doi)


@pytest.mark.parametrize("pmid", ["1", "33301246", "999999999"])
def test_it_accepts_pmids(pmid):
    validate_pmid(pmid)


@pytest.mark.parametrize("pmid", ["0", "0123", "1234567890", "PMID33301246", "3330-1246", ""])
def test_it_refuses_malformed_pmids(pmid):
    with pytest.raises(ValidationError):
        validate_pmid(pmid)


@pytest.mark.parametrize("pmcid", ["PMC7745181", "PMC1"])
def test_it_accepts_pmcids(pmcid):
    validate_pmcid(pmcid)


@pytest.mark.parametrize("pmcid", ["7745181", "PMC", "PMCX123", "PMC7745181a"])
def test_it_refuses_malformed_pmcids(pmcid):
    with pytest.raises(ValidationError):
        validate_pmcid(pmcid)


def cited(**reference) -> dict:
    return {"body_markdown": "Claim [@src].", "references": [{"key": "src", "title": "A study", "year": 2020, **reference}]}


@pytest.mark.parametrize(("field", "value"), [("doi", "10.12/x"), ("pmid", "abc"), ("pmcid", "123")])
def test_it_refuses_a_bad_identifier_naming_the_field(make_article, field, value):
    with pytest.raises(ContentInvalid) as invalid:
        make_article(**cited(**{field: value}))

    assert list(invalid.value.errors) == [f"references[0].{field}"]


def test_it_stores_identifiers_normalized(make_article):
    article = make_article(**cited(doi="https://doi.org/10.1056/NEJMoa2034577", pmid=" 33301246 ", pmcid="pmc7745181"))
    reference = article.current_revision.citations.get().reference

    assert (reference.doi, reference.pmid, reference.pmcid) == ("10.1056/nejmoa2034577", "33301246", "PMC7745181")


def test_it_reuses_a_reference_by_doi_whatever_its_case(make_article):
    first = make_article(**cited(doi="10.1056/NEJMoa2034577"))
    second = make_article(**cited(doi="doi:10.1056/nejmoa2034577"))

    ref1 = first.current_revision.citations.get().reference
    ref2 = second.current_revision.citations.get().reference
    assert ref1.pk == ref2.pk
    assert Reference.objects.count() == 1


def test_it_reuses_a_reference_stored_with_an_upper_case_doi(make_article):
    # A reference created outside the services (admin, import) may keep the DOI's original case.
    existing = ReferenceFactory(doi="10.1056/NEJMoa2034577")

    article = make_article(**cited(doi="10.1056/nejmoa2034577"))

    assert article.current_revision.citations.get().reference_id == existing.pk
    assert Reference.objects.count() == 1


def test_it_reuses_a_reference_by_pmid(make_article):
    first = make_article(**cited(pmid="33301246"))
    second = make_article(**cited(pmid="33301246", title="Same paper, retyped"))

    assert first.current_revision.citations.get().reference_id == second.current_revision.citations.get().reference_id
    assert Reference.objects.count() == 1


def test_it_keeps_distinct_references_apart(make_article):
    make_article(**cited(doi="10.1056/one"))
    make_article(**cited(doi="10.1056/two"))

    assert Reference.objects.count() == 2


def test_it_enforces_doi_uniqueness_in_the_database(db):
    ReferenceFactory(doi="10.1056/abc")

    with pytest.raises(IntegrityError), transaction.atomic():
        ReferenceFactory(doi="10.1056/abc")


def test_it_enforces_doi_uniqueness_in_the_database_whatever_the_case(db):
    ReferenceFactory(doi="10.1056/abc")

    with pytest.raises(IntegrityError), transaction.atomic():
        ReferenceFactory(doi="10.1056/ABC")


def test_it_enforces_pmid_uniqueness_in_the_database(db):
    ReferenceFactory(doi=None, pmid="123")

    with pytest.raises(IntegrityError), transaction.atomic():
        ReferenceFactory(doi=None, pmid="123")


def test_it_allows_many_references_without_doi_or_pmid(db):
    ReferenceFactory(doi=None, pmid=None)
    ReferenceFactory(doi=None, pmid=None)

    assert Reference.objects.filter(doi__isnull=True, pmid__isnull=True).count() == 2


def test_it_refuses_the_same_reference_under_two_keys(make_article):
    with pytest.raises(ContentInvalid) as invalid:
        make_article(body_markdown="A [@x] B [@y].", references=[
            {"key": "x", "title": "T", "doi": "10.1056/same"}, {"key": "y", "title": "T", "doi": "10.1056/SAME"}])

    assert invalid.value.errors["references"] == ["The same reference is listed twice under different keys."]


def test_it_reuses_a_reference_without_identifiers_when_every_field_matches(make_article, writer):
    from governance.workflow import services
    from tests.conftest import article_content

    article = make_article()
    services.article_edit(article=article, actor=writer, content=article_content(summary="Edited."))

    assert Reference.objects.filter(title="Chronic heart failure in adults").count() == 1
    assert Reference.objects.count() == 2


def test_it_keeps_references_without_identifiers_apart_when_a_field_differs(make_article):
    make_article(**cited(title="Local guideline", url="https://example.org/a"))
    make_article(**cited(title="Local guideline", url="https://example.org/b"))

    assert Reference.objects.filter(title="Local guideline").count() == 2


def _concurrent_save_creates(monkeypatch, **reference_overrides):
    """Another save citing the same new DOI commits between this save's lookup (outside the
    transaction) and its insert."""
    from governance.workflow import services
    from tests.conftest import article_content

    original = services.content._prepare
    made = []

    def prepare_then_other_save(data, article=None):
        prepared = original(data, article)
        fields = {**prepared.references[0][2], **reference_overrides}
        made.append(Reference.objects.create(**fields))
        return prepared

    monkeypatch.setattr(services.articles, "_prepare", prepare_then_other_save)  # as the edit calls it
    return made, article_content


def test_it_reuses_a_reference_another_save_created_meanwhile(make_article, monkeypatch):
    from governance.models import AuditEvent

    made, _ = _concurrent_save_creates(monkeypatch)

    article = make_article()

    cited = article.current_revision.citations.get(key="trial2021").reference
    assert cited == made[0]
    assert Reference.objects.filter(doi__iexact="10.1056/NEJMoa0000001").count() == 1
    assert not AuditEvent.objects.filter(action="reference.create", object_id=str(made[0].pk)).exists()


def test_it_refuses_cleanly_when_the_reference_created_meanwhile_differs(make_article, monkeypatch):
    from articles.models import Article

    _concurrent_save_creates(monkeypatch, authors=["Someone Else"])

    with pytest.raises(ContentInvalid) as refused:
        make_article()

    assert "someone else" in str(refused.value.errors["references"])
    assert not Article.objects.exists()
