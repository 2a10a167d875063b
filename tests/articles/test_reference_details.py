"""Bibliographic detail fields: AMA output against a table of expected strings (modelled on the
AMA Manual of Style's examples), and revisions written before the fields keep their hashes."""

from __future__ import annotations

import datetime as dt

import pytest

from articles.citations import format_ama
from articles.models import BIBLIOGRAPHIC_FIELDS, Citation, Reference
from governance.workflow import services
from governance.workflow.exceptions import ContentInvalid
from tests.conftest import article_content

AMA_EXAMPLES = [
    pytest.param(
        {"kind": "research", "title": "Safety and efficacy of the BNT162b2 mRNA Covid-19 vaccine",
         "authors": ["Polack FP", "Thomas SJ", "Kitchin N"], "container": "N Engl J Med", "year": 2020,
         "volume": "383", "issue": "27", "pages": "2603-2615", "doi": "10.1056/NEJMoa2034577"},
        "Polack FP, Thomas SJ, Kitchin N. Safety and efficacy of the BNT162b2 mRNA Covid-19 vaccine. "
        "N Engl J Med. 2020;383(27):2603-2615. doi:10.1056/NEJMoa2034577", id="journal article"),
    pytest.param(
        {"kind": "research", "title": "Association of step volume and intensity with mortality",
         "authors": ["Saint-Maurice PF"], "container": "JAMA Netw Open", "year": 2021, "volume": "4",
         "issue": "3", "pages": "e211234"},
        "Saint-Maurice PF. Association of step volume and intensity with mortality. JAMA Netw Open. "
        "2021;4(3):e211234.", id="journal article with an article number"),
    pytest.param(
        {"kind": "textbook", "title": "Harrison's principles of internal medicine",
         "authors": ["Loscalzo J", "Fauci A", "Kasper D"], "edition": "21st", "publisher": "McGraw Hill",
         "place": "New York", "year": 2022},
        "Loscalzo J, Fauci A, Kasper D. Harrison's Principles of Internal Medicine. 21st ed. McGraw Hill; 2022.",
        id="book"),
    pytest.param(
        {"kind": "guideline", "title": "Hypertension in adults: diagnosis and management",
         "issuing_body": "National Institute for Health and Care Excellence", "version": "NICE guideline NG136",
         "year": 2019, "url": "https://www.nice.org.uk/guidance/ng136", "accessed": "2024-03-01"},
        "National Institute for Health and Care Excellence. Hypertension in Adults: Diagnosis and Management. "
        "NICE Guideline NG136. National Institute for Health and Care Excellence; 2019. Accessed March 1, 2024. "
        "https://www.nice.org.uk/guidance/ng136", id="guideline by an organisation"),
    pytest.param(
        {"kind": "website", "title": "Flu vaccine safety information",
         "authors": ["Centers for Disease Control and Prevention"], "container": "CDC", "year": 2020,
         "url": "https://www.cdc.gov/flu/prevent/general.htm", "accessed": dt.date(2020, 11, 1)},
        "Centers for Disease Control and Prevention. Flu vaccine safety information. CDC. 2020. "
        "Accessed November 1, 2020. https://www.cdc.gov/flu/prevent/general.htm", id="web page"),
    pytest.param(
        {"kind": "textbook", "title": "Plant science", "authors": ["Forster E"], "container": "Springer",
         "year": 2015},
        "Forster E. Plant Science. Springer; 2015.", id="book typed before the detail fields"),
]


@pytest.mark.parametrize(("reference", "expected"), AMA_EXAMPLES)
def test_it_formats_each_kind_as_the_ama_style_writes_it(reference, expected):
    assert format_ama([reference]) == [expected]


def test_it_keeps_the_hash_of_a_revision_written_before_the_detail_fields(make_article):
    article = make_article()
    revision = article.current_revision
    citations = list(revision.citations.all())
    # A copy frozen before the detail fields existed holds only the core fields.
    before = [Citation(key=c.key, number=c.number, reference=c.reference,
                       cited={k: v for k, v in c.cited.items() if k in Citation.details_of(c.reference)
                              and k not in ("volume", "issue", "pages", "edition", "publisher", "place",
                                            "issuing_body", "version", "accessed")})
              for c in citations]

    assert services.stored_content_check(revision, before, list(revision.variants.all())) == "verified"
    assert before[0].as_cited.volume == ""
    assert before[0].as_cited.accessed is None


def test_it_covers_the_detail_fields_in_the_hash_once_filled(make_article):
    plain = make_article(title="Without a volume").current_revision.content_hash
    content = article_content(title="Without a volume")
    content.references[0]["volume"] = "384"
    with_volume = make_article(title="Without a volume", references=content.references).current_revision

    assert with_volume.content_hash != plain
    assert with_volume.citations.get(key="trial2021").cited["volume"] == "384"
    assert Reference.objects.get(doi="10.1056/nejmoa0000001").volume == "384"


def test_it_refuses_a_bad_accessed_date_naming_the_field(make_article):
    content = article_content()
    content.references[1]["accessed"] = "last Tuesday"
    with pytest.raises(ContentInvalid) as invalid:
        make_article(references=content.references)

    assert list(invalid.value.errors) == ["references[1].accessed"]


def test_it_lists_every_field_once_for_the_admin():
    from articles.admin import ReferenceAdmin

    assert ReferenceAdmin.bibliographic_fields is BIBLIOGRAPHIC_FIELDS
