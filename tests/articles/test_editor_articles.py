"""Creating and editing articles in the editor: saves through the services, field errors kept
on the form, references by DOI/PMID/manual entry and RIS import, the live preview."""

from __future__ import annotations

import io

import pytest

from articles.models import Article, Reference
from tests.conftest import BODY

pytestmark = pytest.mark.django_db


def form_data(topic, **overrides):
    data = {
        "title": "Living with heart failure", "summary": "What it is.", "topic": str(topic.pk),
        "risk_tier": "standard", "slug": "", "origin": "human", "body_markdown": BODY,
        "change_note": "First version", "is_major_change": "true",
        "refs-TOTAL_FORMS": "2", "refs-INITIAL_FORMS": "0", "refs-MIN_NUM_FORMS": "0", "refs-MAX_NUM_FORMS": "1000",
        "refs-0-key": "trial2021", "refs-0-kind": "research", "refs-0-title": "SGLT2 inhibitors in heart failure",
        "refs-0-authors": "Smith J\nOkafor A", "refs-0-container": "N Engl J Med", "refs-0-year": "2021",
        "refs-0-doi": "10.1056/NEJMoa0000001", "refs-0-pmid": "", "refs-0-pmcid": "", "refs-0-url": "",
        "refs-1-key": "nice2018", "refs-1-kind": "guideline", "refs-1-title": "Chronic heart failure in adults",
        "refs-1-authors": "NICE", "refs-1-container": "NICE", "refs-1-year": "2018", "refs-1-doi": "",
        "refs-1-pmid": "", "refs-1-pmcid": "", "refs-1-url": "https://www.nice.org.uk/guidance/ng106",
        "action": "save",
    }
    for audience in ("patient", "caregiver", "clinician"):
        data[f"variant_{audience}_summary"] = ""
        data[f"variant_{audience}_body"] = ""
    data.update(overrides)
    return data


def test_it_creates_a_draft_with_numbered_citations(client, writer, topic):
    client.force_login(writer)
    response = client.post("/editor/articles/new/", form_data(topic))
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/editor/articles/{article.slug}/"
    assert article.state == "draft" and article.created_by == writer
    citations = {c.key: c.number for c in article.current_revision.citations.all()}
    assert citations == {"trial2021": 1, "nice2018": 2}


def test_it_links_related_published_articles_at_creation(client, writer, topic, make_article, drive):
    published = drive(make_article(title="Heart failure medicines"), "published")
    client.force_login(writer)
    data = form_data(topic, title="Living well with heart failure")
    data["related"] = [str(published.pk)]
    client.post("/editor/articles/new/", data)
    article = Article.objects.get(title="Living well with heart failure")
    assert list(article.related.all()) == [published]


def test_it_keeps_the_input_and_names_the_unresolved_marker(client, writer, topic):
    client.force_login(writer)
    body = BODY + "\nMore [@missing2020].\n"
    response = client.post("/editor/articles/new/", form_data(topic, body_markdown=body))
    html = response.content.decode()
    assert response.status_code == 200
    assert not Article.objects.exists()
    assert "Cited key &#x27;missing2020&#x27; matches no reference" in html
    assert "SGLT2 inhibitors in heart failure" in html  # what was typed is still there
    assert "missing2020" in response.context["form"]["body_markdown"].value()


def test_it_marks_an_uncited_reference_and_a_bad_doi_on_their_fields(client, writer, topic):
    client.force_login(writer)
    response = client.post("/editor/articles/new/", form_data(topic, **{"refs-0-doi": "not-a-doi"}))
    formset = response.context["formset"]
    assert "Enter a DOI" in formset.forms[0].errors["doi"][0]
    response = client.post("/editor/articles/new/", form_data(topic, body_markdown="No citations at all."))
    assert "never cited" in response.content.decode()
    assert not Article.objects.exists()


def test_it_flags_the_same_doi_listed_twice(client, writer, topic):
    client.force_login(writer)
    response = client.post("/editor/articles/new/", form_data(topic, **{"refs-1-doi": "10.1056/nejmoa0000001"}))
    assert response.context["formset"].forms[1].errors["doi"] == [
        "Reference 1 already has this DOI: remove one of the two."]
    assert not Article.objects.exists()


def test_it_reuses_a_reference_already_in_the_library(client, writer, topic):
    existing = Reference.objects.create(title="SGLT2 inhibitors in heart failure", doi="10.1056/nejmoa0000001")
    client.force_login(writer)
    check = client.get("/editor/references/check/", {"refs-0-doi": "https://doi.org/10.1056/NEJMoa0000001"})
    assert "Already in the library" in check.content.decode()
    client.post("/editor/articles/new/", form_data(topic))
    article = Article.objects.get()
    assert article.current_revision.citations.get(key="trial2021").reference == existing
    assert Reference.objects.filter(doi="10.1056/nejmoa0000001").count() == 1


def test_it_rejects_a_malformed_pmid_as_you_type(client, writer):
    client.force_login(writer)
    assert "digits only" in client.get("/editor/references/check/", {"refs-0-pmid": "12ab"}).content.decode()
    assert "new to the library" in client.get("/editor/references/check/", {"refs-0-pmid": "33301246"}).content.decode()


RIS = """TY  - JOUR
TI  - Dapagliflozin in patients with heart failure and reduced ejection fraction
AU  - McMurray, John J V
AU  - Solomon, Scott D
JO  - N Engl J Med
PY  - 2019
DO  - 10.1056/NEJMoa1911303
AN  - 31535829
ER  -
TY  - RPRT
TI  - Chronic heart failure in adults
AU  - National Institute for Health and Care Excellence
PB  - NICE
PY  - 2018
UR  - https://www.nice.org.uk/guidance/ng106
ER  -
"""


def test_it_imports_references_from_a_ris_file_without_saving(client, writer, topic):
    client.force_login(writer)
    upload = io.BytesIO(RIS.encode())
    upload.name = "pubmed.ris"
    data = form_data(topic, action="import_ris", **{"refs-TOTAL_FORMS": "1", "refs-0-key": "", "refs-0-title": "",
                                                     "refs-0-doi": "", "refs-0-url": ""})
    data["ris_file"] = upload
    response = client.post("/editor/articles/new/", data)
    assert response.status_code == 200 and not Article.objects.exists()
    forms = response.context["formset"].forms
    imported = [f.initial for f in forms if f.initial]
    assert [r["doi"] for r in imported] == ["10.1056/nejmoa1911303", ""]
    assert imported[0]["pmid"] == "31535829" and imported[0]["year"] == 2019
    assert imported[0]["authors"] == "McMurray JJV\nSolomon SD"
    assert imported[1]["kind"] == "guideline"
    assert response.context["form"]["title"].value() == "Living with heart failure"  # kept
    assert "Imported 2 reference(s)" in response.content.decode()


def test_it_refuses_a_file_that_is_not_ris(client, writer, topic):
    client.force_login(writer)
    upload = io.BytesIO(b"just some text")
    upload.name = "notes.ris"
    data = form_data(topic, action="import_ris")
    data["ris_file"] = upload
    response = client.post("/editor/articles/new/", data)
    assert "RIS" in response.content.decode() and not Article.objects.exists()


def test_it_previews_the_body_with_numbered_citations_and_references(client, writer, topic):
    client.force_login(writer)
    response = client.post("/editor/preview/", form_data(topic), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert '<a href="#ref-1" class="citation"' in html
    assert 'id="ref-2"' in html and "Guideline" in html
    response = client.post("/editor/preview/", form_data(topic, body_markdown="See [@nowhere]."))
    assert "matches no reference" in response.content.decode()


def test_it_previews_an_audience_version(client, writer, topic):
    client.force_login(writer)
    data = form_data(topic, preview_audience="patient",
                     variant_patient_body="For patients: the heart is tired [@nice2018].")
    html = client.post("/editor/preview/", data).content.decode()
    assert "For patients: the heart is tired" in html and "Heart failure means" not in html
    assert '<a href="#ref-2" class="citation"' in html  # numbered across the main text and the versions


def test_it_saves_an_edit_as_a_new_revision_with_its_change_note(client, writer, make_article, topic):
    article = make_article()
    client.force_login(writer)
    initial = client.get(f"/editor/articles/{article.slug}/edit/")
    assert initial.context["form"]["title"].value() == "Living with heart failure"
    data = form_data(topic, body_markdown=BODY + "\nAnother line [@trial2021].\n", change_note="Add a line",
                     is_major_change="false")
    data.pop("topic")
    response = client.post(f"/editor/articles/{article.slug}/edit/", data)
    assert response.status_code == 302
    article.refresh_from_db()
    revision = article.current_revision
    assert revision.number == 2 and revision.change_note == "Add a line" and not revision.is_major_change


def test_it_refuses_a_save_on_top_of_a_newer_revision_and_keeps_what_was_typed(client, writer, make_article, topic):
    article = make_article()
    client.force_login(writer)
    form = client.get(f"/editor/articles/{article.slug}/edit/").context["form"]
    base = form["base_revision"].value()
    assert base == article.current_revision_id
    # Someone saves a newer revision while this editor is still typing.
    first = form_data(topic, body_markdown=BODY + "\nFirst editor's line [@trial2021].\n", change_note="First",
                      base_revision=str(base))
    first.pop("topic")
    assert client.post(f"/editor/articles/{article.slug}/edit/", first).status_code == 302
    second = form_data(topic, body_markdown=BODY + "\nSecond editor's line [@nice2018].\n", change_note="Second",
                       base_revision=str(base))
    second.pop("topic")
    response = client.post(f"/editor/articles/{article.slug}/edit/", second)
    assert response.status_code == 200
    assert "rule: stale_revision" in response.content.decode()
    assert "Second editor&#x27;s line" in response.content.decode() or "Second editor's line" in response.content.decode()
    article.refresh_from_db()
    assert article.current_revision.number == 2 and article.current_revision.change_note == "First"


def test_it_does_not_let_a_colleague_edit_someone_elses_draft(client, colleague, make_article):
    article = make_article()
    client.force_login(colleague)
    assert client.get(f"/editor/articles/{article.slug}/").status_code == 404
    assert client.get(f"/editor/articles/{article.slug}/edit/").status_code == 404


def test_it_refuses_a_ris_file_over_the_size_limit(client, writer, topic):
    from articles.forms import MAX_RIS_BYTES

    client.force_login(writer)
    upload = io.BytesIO(RIS.encode() + b"\n" * (MAX_RIS_BYTES + 1 - len(RIS.encode())))
    upload.name = "huge.ris"
    data = form_data(topic, action="import_ris")
    data["ris_file"] = upload
    response = client.post("/editor/articles/new/", data)
    html = response.content.decode()
    assert f"the limit is {MAX_RIS_BYTES:,}" in html
    assert "Imported" not in html
    assert len([f for f in response.context["formset"].forms if f.initial]) == 2  # only the two typed by hand


def test_it_skips_references_a_ris_file_repeats(client, writer, topic):
    client.force_login(writer)
    first = RIS.split("ER  -\n")[0] + "ER  -\n"
    upload = io.BytesIO((RIS + first).encode())
    upload.name = "pubmed.ris"
    data = form_data(topic, action="import_ris", **{"refs-TOTAL_FORMS": "1", "refs-0-key": "", "refs-0-title": "",
                                                     "refs-0-doi": "", "refs-0-url": ""})
    data["ris_file"] = upload
    response = client.post("/editor/articles/new/", data)
    imported = [f.initial for f in response.context["formset"].forms if f.initial]
    assert [r["doi"] for r in imported] == ["10.1056/nejmoa1911303", ""]
    assert "Imported 2 reference(s) from pubmed.ris; skipped 1 repeated within the file." in response.content.decode()


def test_it_skips_imported_references_already_on_the_form(client, writer, topic):
    client.force_login(writer)
    upload = io.BytesIO(RIS.encode())
    upload.name = "pubmed.ris"
    data = form_data(topic, action="import_ris", **{"refs-0-doi": "https://doi.org/10.1056/NEJMoa1911303"})
    data["ris_file"] = upload
    response = client.post("/editor/articles/new/", data)
    assert "Imported 1 reference(s) from pubmed.ris; skipped 1 already listed." in response.content.decode()


@pytest.mark.parametrize("action", ["add_reference", "import_ris"])
def test_it_keeps_every_related_article_when_adding_references(client, writer, chief, topic, make_article, drive,
                                                               action):
    first = drive(make_article(title="Heart failure medicines"), "published")
    second = drive(make_article(title="Salt and heart failure"), "published")
    client.force_login(writer)
    data = form_data(topic, action=action, related=[str(first.pk), str(second.pk)])
    if action == "import_ris":
        upload = io.BytesIO(RIS.encode())
        upload.name = "pubmed.ris"
        data["ris_file"] = upload
    response = client.post("/editor/articles/new/", data)
    assert sorted(int(v) for v in response.context["form"]["related"].value()) == sorted([first.pk, second.pk])
    html = response.content.decode()
    for article in (first, second):
        assert f'<option value="{article.pk}" selected>' in html


def test_it_never_derives_the_reserved_slug_new_from_a_title(client, writer, topic):
    client.force_login(writer)
    response = client.post("/editor/articles/new/", form_data(topic, title="New!"))
    article = Article.objects.get()
    assert article.slug == "new-2"
    assert response.url == f"/editor/articles/{article.slug}/"
    assert client.get(response.url).context["article"] == article


def test_it_refuses_the_reserved_slug_new(client, writer, topic):
    client.force_login(writer)
    response = client.post("/editor/articles/new/", form_data(topic, slug="new"))
    assert response.status_code == 200 and not Article.objects.exists()
    assert "reserved for the editor" in response.context["form"].errors["slug"][0]


@pytest.mark.parametrize(("query", "level"), [({"refs-0-pmid": "12ab"}, "error"),
                                              ({"refs-0-pmid": "33301246"}, "ok")])
def test_it_colours_the_reference_check_note_it_swaps_in(client, writer, query, level):
    import re
    from pathlib import Path

    from django.conf import settings

    client.force_login(writer)
    html = client.get("/editor/references/check/", query).content.decode()
    assert re.search(rf'<span class="{level}">', html)
    # The note is swapped into the (otherwise unstyled) div.ref-note: a rule must reach the span inside it.
    css = (Path(settings.BASE_DIR) / "static" / "css" / "imprimatur.css").read_text()
    assert re.search(rf"\.ref-note \.{level}\s*\{{", css)
