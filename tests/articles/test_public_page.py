"""The public article page: the live snapshot only (never the working revision), review steps,
caution banners, dates, reviewers, audience switch, numbered typed references, JSON-LD; and the
editorial policy page."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.utils import timezone

from articles.models import Reference
from governance.models import EditorialPolicy
from governance.workflow import services
from governance.workflow.services import VariantInput
from tests.conftest import BODY, article_content

pytestmark = pytest.mark.django_db


def test_it_answers_404_for_an_article_never_published(client, make_article, drive):
    article = drive(make_article(), "approved")
    assert client.get(f"/articles/{article.slug}/").status_code == 404
    assert client.get("/articles/no-such-article/").status_code == 404


def test_it_answers_410_for_a_withdrawn_article(client, chief, make_article, drive):
    article = drive(make_article(), "published")
    services.article_withdraw(article=article, actor=chief, reason="Superseded by new guidance")
    response = client.get(f"/articles/{article.slug}/")
    assert response.status_code == 410
    assert "Superseded by new guidance" in response.content.decode()


def test_it_shows_the_approved_step_reviewers_and_numbered_references(client, make_article, drive, board):
    article = drive(make_article(), "published")
    html = client.get(f"/articles/{article.slug}/").content.decode()
    assert re.search(r'<li class="done" aria-current="step">Approved</li>', html)
    assert html.count('aria-current="step"') == 1
    for member in board[:2]:
        assert member.printed_name in html
    assert "Cardiology" in html
    assert '<li id="ref-1" value="1">' in html and '<li id="ref-2" value="2">' in html
    assert "Research" in html and "Guideline" in html
    assert 'href="https://doi.org/10.1056/nejmoa0000001"' in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/31535829/"' in html
    assert '<a href="#ref-1" class="citation"' in html
    assert "Pending medical review" not in html and "Review overdue" not in html
    assert "does not replace advice" in html  # the disclaimer
    assert 'href="/editorial-policy/"' in html


def test_it_puts_schema_org_json_ld_in_the_head(client, make_article, drive):
    article = drive(make_article(), "published")
    html = client.get(f"/articles/{article.slug}/").content.decode()
    head = html.split("</head>")[0]
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', head, re.S).group(1)
    data = json.loads(block)
    assert data["@type"] == "MedicalWebPage" and data["name"] == "Living with heart failure"
    assert len(data["reviewedBy"]) == 2 and len(data["citation"]) == 2


def test_it_escapes_json_ld_so_it_cannot_close_the_script(client, writer, make_article, drive):
    title = "Heart </script><script>alert(1)</script> failure"
    article = drive(make_article(title=title), "published")
    response = client.get(f"/articles/{article.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "</script><script>alert(1)" not in html
    # The title is all there, escaped: the JSON-LD block parses back to it, and the page shows it.
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert json.loads(block)["name"] == title
    assert "Heart &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; failure" in html


def test_it_keeps_serving_the_approved_text_while_a_new_revision_is_drafted(client, writer, make_article, drive):
    article = drive(make_article(), "published")
    before = client.get(f"/articles/{article.slug}/").content.decode()
    services.article_edit(article=article, actor=writer, content=article_content(
        body_markdown=BODY + "\nAn unreviewed claim [@trial2021].\n"), change_note="New claim")
    after = client.get(f"/articles/{article.slug}/").content.decode()
    assert "An unreviewed claim" not in after
    assert after == before


def test_it_warns_when_the_review_is_overdue(client, make_article, drive):
    article = drive(make_article(), "published")
    with time_machine.travel(article.next_review_due + dt.timedelta(days=3)):
        html = client.get(f"/articles/{article.slug}/").content.decode()
    assert "Review overdue" in html
    assert 'aria-current="step">Approved' in html


def test_it_warns_while_a_published_article_is_re_reviewed(client, make_article, drive, chief):
    article = drive(make_article(), "published")
    services.article_transition(article=article, actor=chief, name="request_re_review", reason="New guidance")
    html = client.get(f"/articles/{article.slug}/").content.decode()
    assert "Being re-reviewed" in html and "Review overdue" not in html


def test_it_switches_to_the_audience_variant(client, writer, make_article, drive):
    article = make_article(variants=[VariantInput("patient", "In plain words: the heart is tired [@trial2021].",
                                                  "A short guide for patients.")])
    article = drive(article, "published")
    general = client.get(f"/articles/{article.slug}/").content.decode()
    assert "Which best describes you?" in general and "In plain words" not in general
    patient = client.get(f"/articles/{article.slug}/?audience=patient").content.decode()
    assert "In plain words" in patient and "A short guide for patients." in patient
    assert '<option value="patient" selected>' in patient
    unknown = client.get(f"/articles/{article.slug}/?audience=martian").content.decode()
    assert "no version for “martian”" in unknown and "Heart failure means" in unknown


def test_it_flags_a_reference_retracted_after_publication(client, make_article, drive):
    article = drive(make_article(), "published")
    assert "[Retracted]" not in client.get(f"/articles/{article.slug}/").content.decode()
    Reference.objects.filter(doi="10.1056/nejmoa0000001").update(
        retraction_status="retracted", retraction_updated_at=timezone.now())
    html = client.get(f"/articles/{article.slug}/").content.decode()
    first = html.split('<li id="ref-1"')[1].split("</li>")[0]
    second = html.split('<li id="ref-2"')[1].split("</li>")[0]
    assert "[Retracted]" in first and "[Retracted]" not in second


def test_it_is_responsive_and_labelled(client, make_article, drive):
    article = drive(make_article(), "published")
    html = client.get(f"/articles/{article.slug}/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<html lang="en-gb">' in html  # LANGUAGE_CODE
    assert 'aria-label="Review status"' in html
    assert html.count("<h1") == 1


def test_it_shows_the_editorial_policy_with_its_version_and_the_state_diagram(client, chief):
    EditorialPolicy.objects.create(version="2.1", effective_at=timezone.now() - dt.timedelta(days=1),
                                   body_markdown="x", body_html="<p>We review everything.</p><script>x()</script>")
    html = client.get("/editorial-policy/").content.decode()
    assert "Version 2.1" in html and "We review everything." in html
    assert "<script>x()" not in html
    assert "/static/img/state-diagram.svg" in html
    served = client.get("/static/img/state-diagram.svg")
    assert served.status_code == 200
    served.getvalue()  # read to its end: the client closes the file (a bare close() closes the test's DB connection)


def test_it_draws_every_state_and_transition_in_the_state_diagram():
    from django.conf import settings

    from articles.models import Article, ArticleState

    svg = (settings.BASE_DIR / "static" / "img" / "state-diagram.svg").read_text()
    for _, label in ArticleState.choices:
        assert f">{label}</text>" in svg, label
    for transition in Article._meta.get_field("state").get_all_transitions(Article):
        if transition.name != "archive":  # drawn once, "from any state"
            assert transition.name.replace("_", " ") in svg, transition.name
