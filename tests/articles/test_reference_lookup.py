"""Filling a reference from its DOI (Crossref) or PMID (NCBI E-utilities), against a real HTTP
server on 127.0.0.1 that serves answers recorded from both services."""

from __future__ import annotations

import pytest

from articles.lookup import LookupUnavailable, ReferenceNotFound, lookup_reference
from tests.lookup_services import DOWN, PMID_DOWN, PMID_RATE_LIMITED, PMID_SLOW, RATE_LIMITED, SLOW

pytestmark = pytest.mark.usefixtures("lookup_services")


def test_it_fills_a_journal_article_from_its_doi_with_the_pubmed_cross_links():
    reference = lookup_reference(doi="https://doi.org/10.1056/NEJMoa2034577")

    assert {name: reference[name] for name in ("kind", "title", "container", "year", "volume", "issue", "pages",
                                               "doi", "pmid", "pmcid", "source", "retraction_status")} == {
        "kind": "research", "title": "Safety and Efficacy of the BNT162b2 mRNA Covid-19 Vaccine",
        "container": "N Engl J Med", "year": 2020, "volume": "383", "issue": "27", "pages": "2603-2615",
        "doi": "10.1056/nejmoa2034577", "pmid": "33301246", "pmcid": "PMC7745181", "source": "crossref",
        "retraction_status": "none"}
    assert reference["authors"] == ["Polack FP", "Thomas SJ", "Kitchin N", "C4591001 Clinical Trial Group"]


def test_it_fills_a_reference_from_its_pmid_with_the_crossref_record():
    reference = lookup_reference(pmid="33301246")

    assert reference["title"] == "Safety and Efficacy of the BNT162b2 mRNA Covid-19 Vaccine"
    assert reference["authors"] == ["Polack FP", "Thomas SJ", "Kitchin N"]
    assert (reference["doi"], reference["pmcid"], reference["volume"], reference["pages"]) == (
        "10.1056/nejmoa2034577", "PMC7745181", "383", "2603-2615")
    assert reference["source"] == "pubmed"


def test_it_reads_a_retraction_and_a_concern_from_crossrefs_updated_by():
    reference = lookup_reference(doi="10.1016/S0140-6736(20)31180-6")

    assert reference["retraction_status"] == "retracted"
    assert [(n["type"], n["doi"]) for n in reference["notices"]] == [
        ("retraction", "10.1016/s0140-6736(20)31324-6"), ("expression_of_concern", "10.1016/s0140-6736(20)31249-6")]


def test_it_reads_a_correction_and_an_article_number():
    reference = lookup_reference(doi="10.1001/jama.2021.0001")

    assert (reference["retraction_status"], reference["pages"]) == ("corrected", "e210001")


def test_it_sends_the_polite_user_agent_with_the_contact_and_the_ncbi_key_when_set(lookup_services, settings):
    settings.IMPRIMATUR_NCBI_API_KEY = "ncbi-key-1"
    lookup_reference(pmid="33301246")

    (esummary, *rest) = lookup_services.requests
    assert esummary[0] == "/eutils/esummary.fcgi"
    assert esummary[1]["api_key"] == "ncbi-key-1" and esummary[1]["email"] == "editors@imprimatur.example"
    crossref = next(r for r in rest if r[0].startswith("/crossref/"))
    assert "mailto:editors@imprimatur.example" in crossref[2]


def test_it_keeps_answers_in_the_cache(lookup_services):
    lookup_reference(doi="10.1056/NEJMoa2034577")
    asked = len(lookup_services.requests)
    again = lookup_reference(doi="10.1056/nejmoa2034577")

    assert len(lookup_services.requests) == asked
    assert again["pmid"] == "33301246"


def test_it_says_when_a_doi_is_unknown_and_remembers_it(lookup_services):
    for _ in range(2):
        with pytest.raises(ReferenceNotFound, match=r"Crossref has no record of the DOI 10\.1056/unknown"):
            lookup_reference(doi="10.1056/unknown")

    assert len([r for r in lookup_services.requests if r[0].startswith("/crossref/")]) == 1


def test_it_says_when_a_pmid_is_unknown():
    with pytest.raises(ReferenceNotFound, match="PubMed has no record of the PMID 999999999"):
        lookup_reference(pmid="999999999")


@pytest.mark.parametrize(("identifier", "message", "retry_after"), [
    ({"doi": RATE_LIMITED}, "Crossref is limiting our requests; try again in 120 s", 120),
    ({"doi": DOWN}, "Crossref answered 503", 60),
    ({"doi": SLOW}, "Crossref did not answer within 1 s", 60),
    ({"pmid": PMID_RATE_LIMITED}, "PubMed is limiting our requests; try again in 30 s", 30),
    ({"pmid": PMID_DOWN}, "PubMed answered 503", 60),
    ({"pmid": PMID_SLOW}, "PubMed did not answer within 1 s", 60),
])
def test_it_says_clearly_when_a_service_is_limited_down_or_slow(identifier, message, retry_after):
    with pytest.raises(LookupUnavailable, match=message) as unavailable:
        lookup_reference(**identifier)

    assert unavailable.value.retry_after == retry_after
    assert "type the reference by hand" in unavailable.value.message


def test_it_does_not_keep_an_outage_in_the_cache(lookup_services):
    with pytest.raises(LookupUnavailable):
        lookup_reference(doi=DOWN)
    with pytest.raises(LookupUnavailable):
        lookup_reference(doi=DOWN)

    assert len(lookup_services.requests) == 2


@pytest.mark.parametrize("identifier", [{"doi": "10.12/x"}, {"pmid": "PMID1"}, {}])
def test_it_refuses_a_malformed_identifier_before_asking(identifier, lookup_services):
    with pytest.raises(ValueError):
        lookup_reference(**identifier)

    assert lookup_services.requests == []
