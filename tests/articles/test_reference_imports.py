"""Importing what users export (RIS, BibTeX, CSL-JSON from Zotero/Mendeley, PubMed's .nbib),
refusing a bad file whole with the line or record named; exporting an article's references as
RIS and CSL-JSON; duplicates found by DOI, PMID, PMCID, or title + year + first author."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import rispy
from django.core.exceptions import ValidationError

from articles import bibliography, importers
from articles.models import Article
from tests.articles.test_editor_articles import form_data

FILES = Path(__file__).parent.parent / "fixtures" / "imports"


def upload(name: str) -> io.BytesIO:
    file = io.BytesIO((FILES / name).read_bytes())
    file.name = name
    return file


def test_it_imports_a_zotero_csl_json_export():
    polack, nice = importers.parse_references(upload("zotero.json"))

    assert (polack["title"], polack["authors"], polack["container"], polack["year"]) == (
        "Safety and Efficacy of the BNT162b2 mRNA Covid-19 Vaccine", "Polack FP\nThomas SJ", "N Engl J Med", 2020)
    assert (polack["doi"], polack["pmid"], polack["pmcid"], polack["volume"], polack["issue"], polack["pages"]) == (
        "10.1056/nejmoa2034577", "33301246", "PMC7745181", "383", "27", "2603-2615")
    assert (nice["kind"], nice["publisher"], nice["place"], nice["accessed"], nice["authors"]) == (
        "guideline", "National Institute for Health and Care Excellence", "London", "2024-03-01",
        "National Institute for Health and Care Excellence")


def test_it_imports_a_pubmed_nbib_export():
    polack, nice = importers.parse_references(upload("pubmed.nbib"))

    assert (polack["title"], polack["authors"], polack["container"], polack["year"]) == (
        "Safety and Efficacy of the BNT162b2 mRNA Covid-19 Vaccine", "Polack FP\nThomas SJ\nC4591001 Clinical Trial Group",
        "N Engl J Med", 2020)
    assert (polack["doi"], polack["pmid"], polack["pmcid"], polack["volume"], polack["pages"]) == (
        "10.1056/nejmoa2034577", "33301246", "PMC7745181", "383", "2603-2615")
    assert (nice["kind"], nice["pmid"], nice["year"]) == ("guideline", "30165516", 2018)


def test_it_imports_a_bibtex_file():
    article, book = importers.parse_references(upload("library.bib"))

    assert (article["authors"], article["pages"], article["issue"], article["doi"]) == (
        "McMurray JJV\nSolomon SD", "1995-2008", "21", "10.1056/nejmoa1911303")
    assert (book["kind"], book["edition"], book["publisher"], book["place"]) == ("textbook", "21st", "McGraw Hill", "New York")


@pytest.mark.parametrize(("name", "message"), [
    ("broken.bib", "Line 1 of the BibTeX file cannot be read"),
    ("broken.nbib", "Line 3 of the MEDLINE file is not a `TAG - value` line"),
    ("untitled.json", "Item 2 of the CSL-JSON file has no title"),
])
def test_it_refuses_a_bad_file_whole_naming_the_line_or_record(name, message):
    with pytest.raises(ValidationError) as refused:
        importers.parse_references(upload(name))

    assert message in refused.value.messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["zotero.json", "pubmed.nbib", "library.bib"])
def test_the_editor_imports_each_format_without_saving(client, writer, topic, name):
    client.force_login(writer)
    data = form_data(topic, action="import_ris", **{"refs-TOTAL_FORMS": "1", "refs-0-key": "", "refs-0-title": "",
                                                     "refs-0-doi": "", "refs-0-url": ""})
    data["ris_file"] = upload(name)
    response = client.post("/editor/articles/new/", data)

    assert response.status_code == 200 and not Article.objects.exists()
    assert f"Imported 2 reference(s) from {name}" in response.content.decode()


@pytest.mark.django_db
def test_the_editor_says_which_record_of_a_bad_file_failed_and_adds_none(client, writer, topic):
    client.force_login(writer)
    data = form_data(topic, action="import_ris")
    data["ris_file"] = upload("untitled.json")
    response = client.post("/editor/articles/new/", data)

    assert "Item 2 of the CSL-JSON file has no title" in response.content.decode()
    assert len([f for f in response.context["formset"].forms if f.initial]) == 2  # only the two typed by hand


@pytest.mark.parametrize(("one", "other"), [
    ({"doi": "https://doi.org/10.1056/NEJMoa1"}, {"doi": "10.1056/nejmoa1", "title": "Other"}),
    ({"pmid": "123"}, {"pmid": "123"}),
    ({"pmcid": "pmc77"}, {"pmcid": "PMC77"}),
    ({"title": "Heart failure: a review!", "year": 2020, "authors": ["Smith J"]},
     {"title": "heart failure — a review", "year": 2020, "authors": "Smith JA\nOkafor A"}),
])
def test_it_finds_duplicates_by_identifier_or_by_title_year_and_first_author(one, other):
    assert bibliography.duplicate_keys(one) & bibliography.duplicate_keys(other)


def test_it_does_not_take_other_years_or_authors_for_duplicates():
    base = {"title": "Heart failure", "year": 2020, "authors": ["Smith J"]}
    assert not bibliography.duplicate_keys(base) & bibliography.duplicate_keys({**base, "year": 2021})
    assert not bibliography.duplicate_keys(base) & bibliography.duplicate_keys({**base, "authors": ["Jones K"]})


@pytest.mark.django_db
def test_it_exports_the_references_as_ris_and_csl_json_that_import_back(client, writer, make_article):
    article = make_article()
    client.force_login(writer)

    ris = client.get(f"/editor/articles/{article.slug}/references.ris")
    csl = client.get(f"/editor/articles/{article.slug}/references.json")

    assert ris.status_code == 200 and ris["Content-Disposition"].endswith('-references.ris"')
    entries = rispy.loads(ris.content.decode())
    assert [e["title"] for e in entries] == ["SGLT2 inhibitors in heart failure", "Chronic heart failure in adults"]
    items = json.loads(csl.content)
    assert items[0]["DOI"] == "10.1056/nejmoa0000001" and items[0]["PMID"] == "31535829"
    back = importers.csljson.parse(csl.content.decode())
    assert [r["title"] for r in back] == [e["title"] for e in entries]


@pytest.mark.django_db
def test_it_exports_nothing_of_an_article_one_may_not_see(client, colleague, make_article):
    article = make_article()
    client.force_login(colleague)

    assert client.get(f"/editor/articles/{article.slug}/references.ris").status_code == 404
