"""The editor's "Fill from DOI/PMID": without JavaScript (the whole form posted back) and with
htmx (one row swapped), against Crossref and PubMed played on 127.0.0.1. Nothing is saved until
the editor saves the article."""

from __future__ import annotations

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from articles.models import Article, Reference
from tests.articles.test_editor_articles import form_data
from tests.lookup_services import DOWN

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lookup_services")]


def one_row(topic, **row):
    fields = {"key": "", "kind": "research", "title": "", "authors": "", "container": "", "year": "", "doi": "",
              "pmid": "", "pmcid": "", "url": "", **row}
    return form_data(topic, **{"refs-TOTAL_FORMS": "1", **{f"refs-0-{k}": v for k, v in fields.items()}},
                     action="fill-0")


def test_it_fills_the_row_from_the_doi_without_javascript_and_saves_nothing(client, writer, topic):
    client.force_login(writer)
    response = client.post("/editor/articles/new/", one_row(topic, key="polack", doi="10.1056/NEJMoa2034577"))

    assert response.status_code == 200
    assertContains(response, 'value="Safety and Efficacy of the BNT162b2 mRNA Covid-19 Vaccine"')
    assertContains(response, 'name="refs-0-volume" value="383"')
    assertContains(response, 'name="refs-0-pages" value="2603-2615"')
    assertContains(response, 'name="refs-0-pmid" value="33301246"')
    assertContains(response, 'name="refs-0-key" value="polack"')  # the editor's key stays
    assertContains(response, "Filled from Crossref: check the fields, then save the article.")
    assert not Article.objects.exists() and not Reference.objects.exists()


def test_it_fills_one_row_with_htmx(client, writer):
    client.force_login(writer)
    response = client.post("/editor/references/fill/2/", {"refs-2-pmid": "33301246", "refs-2-kind": "research"},
                           HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div class="reference-row" id="ref-row-3">')
    assertContains(response, 'name="refs-2-doi" value="10.1056/nejmoa2034577"')
    assertContains(response, "Polack FP\nThomas SJ\nKitchin N")
    assertContains(response, "Filled from PubMed")


def test_it_warns_of_a_retraction_when_filling(client, writer):
    client.force_login(writer)
    response = client.post("/editor/references/fill/0/", {"refs-0-doi": "10.1016/S0140-6736(20)31180-6"})

    assertContains(response, "Crossref records a retraction of this work (10.1016/s0140-6736(20)31324-6")


def test_it_keeps_what_was_typed_when_the_service_is_down(client, writer, topic):
    client.force_login(writer)
    response = client.post("/editor/articles/new/", one_row(topic, doi=DOWN, title="Typed by hand"))

    assertContains(response, 'value="Typed by hand"')
    assertContains(response, "Crossref answered 503; try again later, or type the reference by hand.")
    assertNotContains(response, "Filled from")


def test_it_is_for_editors_only(client, outsider):
    client.force_login(outsider)
    response = client.post("/editor/references/fill/0/", {"refs-0-doi": "10.1056/NEJMoa2034577"})

    assert response.status_code in (302, 403, 404)
    assertNotContains(response, "BNT162b2", status_code=response.status_code)
