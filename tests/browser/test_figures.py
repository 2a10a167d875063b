"""An approved figure in a real browser: the public page shows the image (loaded from its srcset,
at its intrinsic ratio) with its alt text, caption and credit; axe finds no WCAG 2.1 A/AA
violation; and the README's screenshot of a figure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from governance.workflow.services import figures
from tests.articles.figure_helpers import chart_bytes, upload
from tests.browser import axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ALT = "Bar chart: average systolic blood pressure rises from 118 to 144 mmHg across five age groups."


def test_an_approved_figure_shows_with_its_alt_text(open_session, make_article, writer, drive, settings, tmp_path,
                                                    artifacts):
    settings.MEDIA_ROOT = tmp_path / "media"
    article = make_article(title="Blood pressure and age")
    article = figures.article_put_figure(article=article, actor=writer, slug="bp-by-age", alt=ALT,
                                         caption="Average systolic blood pressure by age group.",
                                         credit="Imprimatur demo data, CC BY 4.0",
                                         upload=upload(chart_bytes(), name="chart.png"))
    draft_image = article.current_revision.figures.get().image
    session = open_session()
    page = session.page
    # Not yet approved: its address is not public.
    assert page.goto(f"/figures/{draft_image.sha256}/480.png").status == 404
    session.problems.clear()  # that 404, asked for on purpose

    drive(article, "published")
    assert page.goto(f"/articles/{article.slug}/").status == 200
    image = page.locator("figure.figure img")
    expect(image).to_have_attribute("alt", ALT)
    expect(image).to_be_visible()
    image.scroll_into_view_if_needed()
    page.wait_for_function("() => { const i = document.querySelector('figure.figure img'); "
                           "return i && i.complete && i.naturalWidth > 0; }")
    assert "480w" in image.get_attribute("srcset")
    expect(page.locator("figure.figure figcaption")).to_contain_text("Imprimatur demo data, CC BY 4.0")
    assert axe.violations(page) == []
    assert session.problems == []
    figure = page.locator("figure.figure")
    path = artifacts / "public-figure.png"
    figure.screenshot(path=str(path))
    if os.environ.get("IMPRIMATUR_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(path, DOCS_SCREENSHOTS / path.name)
