"""Figures through the editorial API (upload, PATCH figures[]) and in the public API (only the
approved, live revision's figures; their files 404 before)."""

from __future__ import annotations

import pytest

from tests.articles.figure_helpers import SVG, image_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(client, slug, data=None, name="chart.png"):
    return client.post(f"/api/v1/editorial/articles/{slug}/images/", {"file": upload(data, name=name)},
                       format="multipart")


def test_it_uploads_an_image_then_shows_it_from_a_new_revision(as_writer, make_article, client):
    article = make_article()
    response = _upload(as_writer, article.slug)
    assert response.status_code == 201, response.content
    uploaded = response.json()
    assert uploaded["content_type"] == "image/png" and uploaded["widths"] == [480, 960, 1200]
    assert _upload(as_writer, article.slug).status_code == 200  # the same bytes: the stored image
    assert client.get(uploaded["preview_url"].removeprefix("http://testserver")).status_code == 404  # not public
    body = article.current_revision.body_markdown + "\n\n![](figure:chart)\n"
    figure = {"slug": "chart", "image": uploaded["image"], "alt": "Chart of readings", "caption": "Readings by week.",
              "credit": "Imprimatur demo, CC BY 4.0"}
    patched = as_writer.patch(f"/api/v1/editorial/articles/{article.slug}/", {"body_markdown": body, "figures": [figure]},
                              format="json")
    assert patched.status_code == 200, patched.content
    document = patched.json()
    assert [f["slug"] for f in document["figures"]] == ["chart"]
    assert document["figures"][0]["alt"] == "Chart of readings"
    assert 'alt="Chart of readings"' in document["body_html"]
    # Unsent figures are kept by a PATCH of other fields.
    kept = as_writer.patch(f"/api/v1/editorial/articles/{article.slug}/", {"title": "A new title"}, format="json")
    assert kept.status_code == 200 and len(kept.json()["figures"]) == 1


def test_upload_errors_name_the_file_field(as_writer, make_article):
    article = make_article()
    svg = _upload(as_writer, article.slug, SVG, name="chart.png")
    assert svg.status_code == 400 and "SVG" in svg.json()["errors"]["file"][0]
    text = _upload(as_writer, article.slug, b"plain text, not an image " * 10, name="chart.jpg")
    assert text.status_code == 400 and "file" in text.json()["errors"]
    missing = as_writer.post(f"/api/v1/editorial/articles/{article.slug}/images/", {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["errors"]


def test_a_figure_without_alt_text_is_a_field_error(as_writer, make_article):
    article = make_article()
    image = _upload(as_writer, article.slug).json()["image"]
    body = article.current_revision.body_markdown + "\n\n![](figure:chart)\n"
    response = as_writer.patch(f"/api/v1/editorial/articles/{article.slug}/", {"body_markdown": body, "figures": [
        {"slug": "chart", "image": image, "alt": " ", "caption": "c", "credit": "c"}]}, format="json")
    assert response.status_code == 400
    assert "figures[0].alt" in response.json()["errors"]


def test_others_cannot_upload_into_an_article(make_article, colleague):
    from tests.api.conftest import token_client

    article = make_article()
    assert _upload(token_client(colleague), article.slug).status_code == 404


def test_the_public_api_lists_only_the_live_revisions_figures(site, as_writer, make_article, writer, drive, chief):
    from tests.articles.figure_helpers import with_figure

    article, first = with_figure(make_article(), writer)
    article = drive(article, "published")
    detail = site.get(f"/api/v1/articles/{article.slug}/").json()
    assert [f["image"] for f in detail["figures"]] == [first.sha256]
    figure = detail["figures"][0]
    assert figure["alt"] == "A bar chart of blood pressure" and figure["credit"] == "Imprimatur demo, CC BY 4.0"
    assert figure["srcset"].count("w,") == 2 and figure["width"] == 1200
    served = site.get(figure["src"].removeprefix("http://testserver"))
    b"".join(served.streaming_content)  # read to its end: the client's wrapper closes the file
    assert served.status_code == 200
    second = _upload(as_writer, article.slug, image_bytes(colour="navy")).json()
    as_writer.patch(f"/api/v1/editorial/articles/{article.slug}/", {"figures": [
        {"slug": "chart", "image": second["image"], "alt": "x", "caption": "y", "credit": "z"}]}, format="json")
    again = site.get(f"/api/v1/articles/{article.slug}/").json()
    assert [f["image"] for f in again["figures"]] == [first.sha256]  # the approved one, until a new one is published
    assert site.get(second["preview_url"].removeprefix("http://testserver")).status_code == 404
