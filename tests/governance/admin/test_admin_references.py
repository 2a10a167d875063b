"""The reference admin: a reference cited by a revision handed over for review is read-only
(its reviewers read it; a correction goes through a new revision), and retraction fields only
change through the audited retraction import."""

from __future__ import annotations

import pytest
from django.urls import reverse

from articles.models import Reference
from governance.workflow import configuration
from governance.workflow.exceptions import ConfigurationRefused
from tests import factories


def _form(reference: Reference, **changes) -> dict[str, str]:
    data = {"kind": reference.kind, "title": reference.title, "authors": '["Smith J", "Okafor A"]',
            "container": reference.container, "year": str(reference.year or ""), "doi": reference.doi or "",
            "pmid": reference.pmid or "", "pmcid": reference.pmcid, "url": reference.url,
            "retraction_status": reference.retraction_status, "retraction_notice": reference.retraction_notice}
    data.update(changes)
    return data


def _cited(article) -> Reference:
    return article.current_revision.citations.get(key="trial2021").reference


def test_it_refuses_admin_edits_of_a_reference_a_signed_revision_cites(client, chief, make_article, drive):
    reference = _cited(drive(make_article(), "approved"))
    client.force_login(chief)
    url = reverse("admin:articles_reference_change", args=[reference.pk])

    page = client.get(url)
    response = client.post(url, _form(reference, title="A different title", authors='["Someone Else"]',
                                      kind="guideline"))

    assert {"title", "authors", "kind", "doi"} <= set(page.context["adminform"].readonly_fields)
    assert response.status_code == 302
    reference.refresh_from_db()
    assert (reference.title, reference.authors, reference.kind) == (
        "SGLT2 inhibitors in heart failure", ["Smith J", "Okafor A"], "research")


def test_it_refuses_admin_edits_once_the_citing_revision_is_submitted(client, chief, make_article, drive):
    reference = _cited(drive(make_article(), "submitted"))
    client.force_login(chief)
    url = reverse("admin:articles_reference_change", args=[reference.pk])

    page = client.get(url)
    response = client.post(url, _form(reference, title="Changed"))

    # The page is the editable admin (the managing editor may change references), the details
    # read-only because the submitted revision cites them; the post saves without changing them.
    assert page.status_code == 200 and "title" in page.context["adminform"].readonly_fields
    assert response.status_code == 302
    reference.refresh_from_db()
    assert reference.title == "SGLT2 inhibitors in heart failure"
    # The service behind the admin refuses it too, naming the rule (a form that let it through).
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.reference_update(actor=chief, reference=reference, fields={"title": "Changed"})
    assert refused.value.rule == "reference_not_reviewed"
    reference.refresh_from_db()
    assert reference.title == "SGLT2 inhibitors in heart failure"


def test_the_service_corrects_a_reference_only_drafts_cite(chief, make_article):
    reference = _cited(make_article())
    configuration.reference_update(actor=chief, reference=reference, fields={"title": "Corrected"})
    reference.refresh_from_db()
    assert reference.title == "Corrected"


def test_it_lets_the_admin_correct_a_reference_only_drafts_cite(client, chief, make_article):
    reference = _cited(make_article())
    client.force_login(chief)

    response = client.post(reverse("admin:articles_reference_change", args=[reference.pk]),
                           _form(reference, title="SGLT2 inhibitors in chronic heart failure"))

    assert response.status_code == 302
    reference.refresh_from_db()
    assert reference.title == "SGLT2 inhibitors in chronic heart failure"


def test_it_never_changes_the_retraction_status_in_the_admin(client, chief):
    reference = factories.ReferenceFactory(kind="research")
    client.force_login(chief)
    url = reverse("admin:articles_reference_change", args=[reference.pk])

    client.post(url, _form(reference, authors="[]", retraction_status="retracted", retraction_notice="Fraud"))

    reference.refresh_from_db()
    assert (reference.retraction_status, reference.retraction_notice) == ("none", "")
    assert "retraction_status" in client.get(url).context["adminform"].readonly_fields
