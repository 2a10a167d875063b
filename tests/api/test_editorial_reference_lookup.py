"""GET /api/v1/editorial/references/lookup/?doi=…|pmid=…: a reference filled from Crossref or
NCBI, served by a real HTTP server on 127.0.0.1 with recorded answers. Nothing is saved."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from articles.models import Reference
from tests.lookup_services import DOWN, PMID_RATE_LIMITED, SLOW

URL = "/api/v1/editorial/references/lookup/"
pytestmark = pytest.mark.usefixtures("lookup_services")


def test_it_fills_a_reference_from_its_doi_and_saves_nothing(as_writer):
    response = as_writer.get(URL, {"doi": "10.1056/NEJMoa2034577"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["title"], body["container"], body["year"], body["volume"], body["issue"], body["pages"]) == (
        "Safety and Efficacy of the BNT162b2 mRNA Covid-19 Vaccine", "N Engl J Med", 2020, "383", "27", "2603-2615")
    assert (body["pmid"], body["pmcid"], body["retraction_status"], body["notices"]) == (
        "33301246", "PMC7745181", "none", [])
    assert not Reference.objects.exists()


def test_it_fills_a_reference_from_its_pmid(as_chief):
    body = as_chief.get(URL, {"pmid": "33301246"}).json()

    assert (body["doi"], body["source"], body["authors"][0]) == ("10.1056/nejmoa2034577", "pubmed", "Polack FP")


def test_it_names_a_retraction_recorded_by_crossref(as_writer):
    body = as_writer.get(URL, {"doi": "10.1016/S0140-6736(20)31180-6"}).json()

    assert body["retraction_status"] == "retracted"
    assert body["notices"][0] == {"type": "retraction", "effect": "retracted",
                                  "doi": "10.1016/s0140-6736(20)31324-6", "label": "Retraction"}


def test_it_answers_404_for_an_unknown_identifier(as_writer):
    response = as_writer.get(URL, {"pmid": "999999999"})

    assert response.status_code == 404
    assert response.json() == {"detail": "PubMed has no record of the PMID 999999999.", "code": "not_found"}


@pytest.mark.parametrize(("query", "retry_after"), [({"doi": DOWN}, "60"), ({"doi": SLOW}, "60"),
                                                     ({"pmid": PMID_RATE_LIMITED}, "30")])
def test_it_answers_503_with_retry_after_when_the_service_is_down_slow_or_limiting(as_writer, query, retry_after):
    response = as_writer.get(URL, query)

    assert response.status_code == 503
    assert response["Retry-After"] == retry_after
    assert response.json()["code"] == "service_unavailable"
    assert "type the reference by hand" in response.json()["detail"]


@pytest.mark.parametrize(("query", "field"), [({"doi": "10.12/x"}, "doi"), ({"pmid": "abc"}, "pmid"), ({}, "doi")])
def test_it_refuses_a_malformed_identifier_naming_the_field(as_writer, query, field):
    response = as_writer.get(URL, query)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_it_is_for_editorial_users_only(db):
    assert APIClient().get(URL, {"doi": "10.1056/NEJMoa2034577"}).status_code == 401
