"""Figures in articles: upload checks, storage and resizing, the revision hash covering the file,
a replaced image voiding approval, and an unapproved figure never public (page, API, file)."""

from __future__ import annotations

import json

import pytest
from django.core.files.storage import default_storage

from articles.figures import FigureInput
from articles.figures.models import Figure, FigureImage
from governance.models import AuditEvent
from governance.workflow import services
from governance.workflow.exceptions import ContentInvalid, NotPermitted
from governance.workflow.services import figures
from reviewers.models import Review
from tests.articles.figure_helpers import SVG, image_bytes, upload, with_figure

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def fetch(client, path: str, **extra):
    """GET a figure's file and read the streamed response to its end, which closes its file (the
    test client's wrapper closes it with the request's connection handling held off; a bare
    `close()` would also close the database connection of the test's transaction)."""
    response = client.get(path, **extra)
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def _path(image: FigureImage, width: int) -> str:
    return f"/figures/{image.sha256}/{width}.{image.extension}"


# --- upload checks ---------------------------------------------------------------------------------

def test_it_stores_an_upload_with_its_resized_copies_and_audits_it(make_article, writer):
    article = make_article()
    image, created = figures.figure_image_upload(article=article, actor=writer, upload=upload())
    assert created and image.content_type == "image/png" and (image.width, image.height) == (1200, 800)
    assert image.widths == [480, 960, 1200]
    for width in image.widths:
        assert default_storage.exists(image.rendition_name(width))
    assert default_storage.exists(image.original)
    event = AuditEvent.objects.get(action="figure_image.upload")
    assert event.data["sha256"] == image.sha256 and event.actor == writer
    again, created_again = figures.figure_image_upload(article=article, actor=writer, upload=upload())
    assert again.pk == image.pk and not created_again
    assert AuditEvent.objects.filter(action="figure_image.upload").count() == 1


def test_it_never_enlarges_and_caps_the_widest_copy(make_article, writer):
    article = make_article()
    small, _ = figures.figure_image_upload(article=article, actor=writer, upload=upload(image_bytes(300, 200)))
    big, _ = figures.figure_image_upload(article=article, actor=writer, upload=upload(image_bytes(2400, 1200)))
    assert small.widths == [300]
    assert big.widths == [480, 960, 1600]


def test_it_reads_the_type_from_the_content_not_the_name(make_article, writer):
    article = make_article()
    jpeg_named_png, _ = figures.figure_image_upload(
        article=article, actor=writer, upload=upload(image_bytes(kind="JPEG"), name="photo.png"))
    assert jpeg_named_png.content_type == "image/jpeg" and jpeg_named_png.extension == "jpg"
    with pytest.raises(ContentInvalid) as refused:
        figures.figure_image_upload(article=article, actor=writer, upload=upload(b"MZ\x90\x00not an image" * 20,
                                                                                  name="chart.png"))
    assert "file" in refused.value.errors


@pytest.mark.parametrize("data", [SVG, b"\xef\xbb\xbf  " + SVG, b"<svg onload='alert(1)'></svg>"])
def test_it_refuses_svg_by_name_whatever_the_file_is_called(make_article, writer, data):
    with pytest.raises(ContentInvalid) as refused:
        figures.figure_image_upload(article=make_article(), actor=writer, upload=upload(data, name="chart.png"))
    assert "SVG" in refused.value.errors["file"][0]
    assert not FigureImage.objects.exists()


def test_it_refuses_a_file_over_the_size_or_pixel_limit(make_article, writer, settings):
    article = make_article()
    settings.IMPRIMATUR_FIGURE_MAX_BYTES = 1000
    with pytest.raises(ContentInvalid) as too_big:
        figures.figure_image_upload(article=article, actor=writer, upload=upload(image_bytes(colour="red") + b"\0" * 2000))
    assert "MB" in too_big.value.errors["file"][0]
    settings.IMPRIMATUR_FIGURE_MAX_BYTES = 10 * 1024 * 1024
    settings.IMPRIMATUR_FIGURE_MAX_PIXELS = 100 * 100
    with pytest.raises(ContentInvalid) as too_many:
        figures.figure_image_upload(article=article, actor=writer, upload=upload(image_bytes(200, 100)))
    assert "pixels" in too_many.value.errors["file"][0]


def test_it_lets_only_those_who_may_edit_upload(make_article, colleague):
    with pytest.raises(NotPermitted):
        figures.figure_image_upload(article=make_article(), actor=colleague, upload=upload())


# --- the revision: checks, hash, markup --------------------------------------------------------------

def test_a_figure_is_part_of_the_revision_and_its_hash(make_article, writer):
    article = make_article()
    before = article.current_revision.content_hash
    article, image = with_figure(article, writer)
    revision = article.current_revision
    assert revision.content_hash != before
    figure = Figure.objects.get(revision=revision)
    assert (figure.slug, figure.image_id, figure.alt) == ("chart", image.pk, "A bar chart of blood pressure")
    assert '<figure class="figure" id="figure-chart">' in revision.body_html
    assert 'alt="A bar chart of blood pressure"' in revision.body_html
    assert f"http://testserver/figures/{image.sha256}/480.png 480w" in revision.body_html
    assert "<p><figure" not in revision.body_html
    assert services.stored_content_check(revision, list(revision.citations.all()), []) == "verified"
    # Same words, another file: another hash.
    other, _ = figures.figure_image_upload(article=article, actor=writer, upload=upload(image_bytes(colour="red")))
    content = services.content_of(article)
    content.figures = [FigureInput("chart", other.sha256, figure.alt, figure.caption, figure.credit)]
    edited = services.article_edit(article=article, actor=writer, content=content)
    assert edited.current_revision.content_hash not in (before, revision.content_hash)


def _refusal(article, writer, **changes) -> dict[str, list[str]]:
    content = services.content_of(article)
    for name, value in changes.items():
        setattr(content, name, value)
    with pytest.raises(ContentInvalid) as refused:
        services.article_edit(article=article, actor=writer, content=content)
    return refused.value.errors


def test_it_refuses_figures_without_their_words_or_file_or_place(make_article, writer):
    article, image = with_figure(make_article(), writer)
    body = article.current_revision.body_markdown
    blank = FigureInput("chart", image.sha256, " ", "", "")
    errors = _refusal(article, writer, figures=[blank])
    assert set(errors) >= {"figures[0].alt", "figures[0].caption", "figures[0].credit"}
    unknown = FigureInput("chart", "0" * 64, "alt", "caption", "credit")
    assert "upload it first" in _refusal(article, writer, figures=[unknown])["figures[0].image"][0]
    assert "names no figure" in _refusal(article, writer, figures=[])["body_markdown"][0]
    unshown = _refusal(article, writer, body_markdown=body.replace("![](figure:chart)", ""))
    assert "never shown" in unshown["figures[0].slug"][0]
    inline = _refusal(article, writer, body_markdown=body.replace("\n\n![](figure:chart)", " ![](figure:chart)"))
    assert "stand alone" in inline["body_markdown"][0]
    external = _refusal(article, writer, body_markdown=body + "\n\n![x](https://tracker.example/x.png)\n")
    assert "uploaded as figures" in external["body_markdown"][0]


def test_a_new_draft_cannot_name_figures_before_it_exists(writer, topic):
    from tests.conftest import article_content

    content = article_content(body_markdown=article_content().body_markdown + "\n\n![](figure:x)\n",
                              figures=[FigureInput("x", "0" * 64, "alt", "caption", "credit")])
    with pytest.raises(ContentInvalid) as refused:
        services.article_create(actor=writer, topic=topic, content=content)
    assert "Create the draft first" in refused.value.errors["figures[0].image"][0]


# --- approval covers the figure ------------------------------------------------------------------------

def test_replacing_an_approved_figure_voids_the_approval_like_a_text_edit(make_article, writer, drive):
    article, _ = with_figure(make_article(), writer)
    article = drive(article, "approved")
    approved = article.current_revision
    article = figures.article_put_figure(article=article, actor=writer, slug="chart", alt="A bar chart of blood pressure",
                                         caption="Blood pressure by age group.", credit="Imprimatur demo, CC BY 4.0",
                                         upload=upload(image_bytes(colour="orange")))
    assert article.state == "draft"
    assert article.current_revision.content_hash != approved.content_hash
    assert article.current_revision.change_note == "Figure 'chart' replaced"
    assert Review.objects.filter(revision=approved, voided_at__isnull=False).count() == 2
    assert AuditEvent.objects.filter(action="article.void", object_id=str(article.pk)).exists()


def test_changing_only_a_figures_alt_text_voids_the_approval_too(make_article, writer, drive):
    article, _ = with_figure(make_article(), writer)
    article = drive(article, "approved")
    article = figures.article_put_figure(article=article, actor=writer, slug="chart", alt="A chart",
                                         caption="Blood pressure by age group.", credit="Imprimatur demo, CC BY 4.0")
    assert article.state == "draft"


def test_removing_a_figure_takes_its_marker_out_of_the_body(make_article, writer):
    article, _ = with_figure(make_article(), writer)
    article = figures.article_remove_figure(article=article, actor=writer, slug="chart")
    assert "figure:chart" not in article.current_revision.body_markdown
    assert not article.current_revision.figures.exists()


# --- only once approved and live -------------------------------------------------------------------------

def test_an_unapproved_figure_is_never_public(client, make_article, writer, chief, drive):
    article, first = with_figure(make_article(), writer)
    assert fetch(client, _path(first, 480)).status_code == 404  # draft
    article = drive(article, "approved")
    assert fetch(client, _path(first, 480)).status_code == 404  # approved, not published
    article = services.article_publish(article=article, actor=chief)
    served = fetch(client, _path(first, 480))
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"
    assert fetch(client, _path(first, 480), HTTP_IF_NONE_MATCH=served["ETag"]).status_code == 304
    assert fetch(client, _path(first, 333)).status_code == 404  # no such width
    assert client.get(f"/figures/{first.sha256}/480.jpg").status_code == 404  # not its type

    # Replaced in a new draft: the new file stays private, the approved one is still served.
    article, second = with_figure(article, writer, colour="purple")
    refused = fetch(client, _path(second, 480))
    assert refused.status_code == 404 and refused["Cache-Control"] == "no-store"
    assert fetch(client, _path(first, 480)).status_code == 200
    page = client.get(f"/articles/{article.slug}/").content.decode()
    assert first.sha256 in page and second.sha256 not in page
    document = json.loads(article.live_snapshot.rendered_document)
    assert [f["image"] for f in document["figures"]] == [first.sha256]
    assert second.sha256 not in article.live_snapshot.rendered_document

    services.article_withdraw(article=article, actor=chief, reason="Superseded")
    assert fetch(client, _path(first, 480)).status_code == 404


def test_an_editor_who_may_see_the_article_previews_its_unapproved_figure(client, make_article, writer, colleague):
    _, image = with_figure(make_article(), writer)
    client.force_login(writer)
    preview = fetch(client, _path(image, 960))
    assert preview.status_code == 200 and preview["Cache-Control"] == "private, no-store"
    client.force_login(colleague)  # another writer does not see this draft
    assert fetch(client, _path(image, 960)).status_code == 404


def test_the_live_preview_shows_the_working_figures_image_to_those_who_may_see_the_article(client, make_article,
                                                                                           writer, colleague):
    article, image = with_figure(make_article(), writer)
    data = {"title": "T", "body_markdown": "Before.\n\n![](figure:chart)\n\n![](figure:nowhere)\n",
            "refs-TOTAL_FORMS": "0", "refs-INITIAL_FORMS": "0", "preview_article": article.slug}
    client.force_login(writer)
    html = client.post("/editor/preview/", data, HTTP_HX_REQUEST="true").content.decode()
    assert 'alt="A bar chart of blood pressure"' in html and f"/figures/{image.sha256}/" in html
    assert "[figure nowhere]" in html and "[figure chart]" not in html  # an unknown slug still says so
    assert fetch(client, _path(image, 960)).status_code == 200  # the address the preview shows answers the editor
    form = client.get(f"/editor/articles/{article.slug}/edit/").content.decode()
    assert f'name="preview_article" value="{article.slug}"' in form
    client.force_login(colleague)  # another writer does not see this draft: no image, the placeholder
    html = client.post("/editor/preview/", data, HTTP_HX_REQUEST="true").content.decode()
    assert "[figure chart]" in html and image.sha256 not in html


# --- the editor's figures page ------------------------------------------------------------------------

def test_the_editor_adds_replaces_and_removes_a_figure_on_its_page(client, make_article, writer):
    article = make_article()
    client.force_login(writer)
    url = f"/editor/articles/{article.slug}/figures/"
    assert "No figures yet." in client.get(url).content.decode()
    words = {"slug": "chart", "alt": "A chart of readings", "caption": "Readings by week.", "credit": "CC BY 4.0"}
    added = client.post(url, {**words, "file": upload()})
    assert added.status_code == 302
    article.refresh_from_db()
    assert article.current_revision.body_markdown.rstrip().endswith("![](figure:chart)")
    page = client.get(url).content.decode()
    assert 'alt="A chart of readings"' in page and "figure:chart" in page
    # The article's own form keeps the figure when the text is saved.
    assert client.get(f"/editor/articles/{article.slug}/").status_code == 200
    refused = client.post(url, {**words, "alt": "", "file": upload(SVG, name="chart.png")})
    assert refused.status_code == 400 and "SVG" in refused.content.decode()
    removed = client.post(url, {"slug": "chart", "action": "remove"})
    assert removed.status_code == 302
    article.refresh_from_db()
    assert not article.current_revision.figures.exists()


def test_the_articles_form_keeps_its_figures_when_the_text_is_saved(client, make_article, writer, topic):
    from tests.articles.test_editor_articles import form_data

    article, image = with_figure(make_article(), writer)
    client.force_login(writer)
    data = form_data(topic, title="Living with heart failure, revised",
                     body_markdown=article.current_revision.body_markdown, change_note="Title",
                     base_revision=str(article.current_revision_id))
    data.pop("topic")
    saved = client.post(f"/editor/articles/{article.slug}/edit/", data)
    assert saved.status_code == 302
    article.refresh_from_db()
    assert article.title.endswith("revised")
    assert [f.image.sha256 for f in article.current_revision.figures.all()] == [image.sha256]


@pytest.mark.postgres
def test_postgresql_refuses_to_change_or_delete_a_signed_revisions_figure(make_article, writer, drive):
    from django.db import DatabaseError, connection, transaction

    article, _ = with_figure(make_article(), writer)
    figure = drive(article, "approved").current_revision.figures.get()
    refused = []
    for sql in ("UPDATE articles_figure SET alt = 'Something else' WHERE id = %s",
                "DELETE FROM articles_figure WHERE id = %s"):
        with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [figure.pk])
        refused.append(str(exc.value))
    assert "immutable revision" in refused[0] and "signed reviews" in refused[1]
    with pytest.raises(Exception, match="immutable revision"):
        figure.save()
