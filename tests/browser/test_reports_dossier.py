"""In a real browser (Playwright + Debian's Chromium): the managing editor opens the reports,
follows a number to the articles behind it and downloads an article's audit dossier as PDF and
JSON; no Content-Security-Policy violation on the way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_it_opens_the_reports_and_downloads_a_dossier(open_session, make_article, drive, chief, tmp_path: Path):
    article = drive(make_article(), "published")
    session = open_session()
    page = session.page

    page.goto("/editor/login/?next=/editor/reports/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()

    page.get_by_role("link", name="Content currency").first.click()
    expect(page.get_by_role("heading", name="Content currency")).to_be_visible()
    expect(page.locator("svg.rp-chart")).to_be_visible()
    page.locator("tr.total a[href*='bucket=within']").click()
    expect(page.get_by_text(article.title)).to_be_visible()

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="PDF").first.click()
    pdf = tmp_path / "dossier.pdf"
    pdf_download.value.save_as(pdf)
    with page.expect_download() as json_download:
        page.get_by_role("link", name="JSON").first.click()
    as_json = tmp_path / "dossier.json"
    json_download.value.save_as(as_json)

    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf_download.value.suggested_filename.startswith(f"dossier-{article.slug}-")
    dossier = json.loads(as_json.read_text())
    assert dossier["article"]["slug"] == article.slug
    assert dossier["audit_chain"]["ok"] is True
    assert session.problems == []
