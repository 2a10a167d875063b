"""Control characters in a query parameter or a form field are refused before any view runs (an
HTML 400 page naming the parameter outside /api/), so no page answers 500 on them: on PostgreSQL
a NUL in the DOI check, a report filter or an admin filter used to reach the database and fail.
Tab, CR and LF stay allowed in form fields (text areas), never in query parameters."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests import factories


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


def _assert_refused_page(response, name: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "control character" in page
    assert name in page


@pytest.mark.parametrize("url", [
    "/editor/references/check/?doi=10.1000/%00",
    "/editor/references/check/?pmid=1%01",
    "/editor/reports/currency/?bucket=overdue&topic=%00",
    "/editor/articles/?q=a%0Ab",
    "/search/?q=%00",
])
def test_it_refuses_control_characters_in_editor_and_report_parameters(client, chief, url):
    client.force_login(chief)

    _assert_refused_page(client.get(url), url.rsplit("?", 1)[1].split("&")[-1].split("=")[0])


def _admin_filter_urls() -> list[str]:
    """Every registered change list, with a NUL in its search box and in each of its list filters'
    parameters (field filters by their lookups, as the admin's own links spell them)."""
    urls = []
    for model, model_admin in admin.site._registry.items():
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        urls.append(f"{changelist}?q=%00")
        for entry in model_admin.list_filter:
            if isinstance(entry, str):
                urls += [f"{changelist}?{entry}=%00", f"{changelist}?{entry}__exact=%00"]
            elif isinstance(entry, tuple):
                urls.append(f"{changelist}?{entry[0]}__id__exact=%00")
            else:
                urls.append(f"{changelist}?{entry.parameter_name}=%00")
    return urls


def test_it_refuses_a_nul_in_every_admin_filter(client, superuser):
    client.force_login(superuser)
    urls = _admin_filter_urls()

    answers = {url: client.get(url).status_code for url in urls}

    assert len(urls) > 40
    assert {url: code for url, code in answers.items() if code != 400} == {}


def test_it_refuses_control_characters_in_form_fields_but_keeps_line_breaks(client, writer):
    refused = client.post("/editor/login/", {"username": "wri\x01ter", "password": "x"})
    kept = client.post("/editor/login/", {"username": "writer", "password": "line\r\nbreak\tand tab"})

    _assert_refused_page(refused, "username")
    assert kept.status_code == 200  # a wrong password, shown as a form error
    assert "control character" not in kept.content.decode()


def test_it_refuses_a_control_character_in_an_admin_form(client, superuser, topic):
    client.force_login(superuser)
    url = reverse("admin:articles_topic_change", args=[topic.pk])

    _assert_refused_page(client.post(url, {"name": "Heart\x00", "slug": topic.slug}), "name")


def test_it_answers_an_oversized_form_with_413(client, writer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000

    response = client.post("/editor/login/", {"username": "writer", "password": "x" * 5_000})

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
