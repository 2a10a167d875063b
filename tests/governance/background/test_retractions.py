"""Retraction watch: the Retraction Watch CSV marks our references; citing articles go to review."""

from __future__ import annotations

import functools
import io
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from articles.models import Article, Reference
from governance.background import retractions
from governance.models import AuditEvent, ChangeEvent, Notification, RetractionImport
from governance.workflow import audit
from reviewers.models import ReviewAssignment
from tests import factories

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"  # tests/fixtures
CSV = FIXTURES / "retractions.csv"


@pytest.fixture
def references(db):
    return {
        "pmid": factories.ReferenceFactory(doi=None, pmid="27000001", title="Statins after stroke"),
        "eoc": factories.ReferenceFactory(doi="10.1136/bmj.eoc1", title="Aspirin in primary prevention"),
        "twice": factories.ReferenceFactory(doi="10.1136/bmj.twice", title="Vitamin D and falls"),
        "clean": factories.ReferenceFactory(doi="10.1136/bmj.clean", title="A sound trial"),
    }


def run_import(*args: str) -> str:
    out = io.StringIO()
    call_command("import_retractions", str(CSV), "--no-progress", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_marks_references_by_doi_and_pmid(make_article, drive, references):
    article = drive(make_article(), "published")  # cites 10.1056/NEJMoa0000001 (PMID 31535829)
    output = run_import()

    trial = Reference.objects.get(doi="10.1056/nejmoa0000001")
    assert trial.retraction_status == "retracted"
    assert "Retraction Watch record 90001" in trial.retraction_notice
    assert "Concerns/Issues About Data" in trial.retraction_notice
    statuses = {key: Reference.objects.get(pk=ref.pk).retraction_status for key, ref in references.items()}
    assert statuses == {"pmid": "corrected", "eoc": "expression_of_concern", "twice": "retracted", "clean": "none"}
    assert "7 notices read" not in output  # the row with no DOI and no PMID is skipped
    assert "6 notices read; 4 of our references matched; 4 changed; 1 article(s) moved to review_due" in output
    record = RetractionImport.objects.get()
    assert (record.rows, record.matched, record.changed, record.articles_flagged) == (6, 4, 4, 1)
    assert article.slug in output


def test_a_published_article_citing_a_retracted_reference_goes_to_review(make_article, drive, board, references):
    article = drive(make_article(), "published")
    run_import()

    article.refresh_from_db()
    assert article.state == "review_due" and article.live_snapshot_id is not None
    event = AuditEvent.objects.get(action="article.flag_review_due", article_id=article.pk)
    assert event.reason == 'cited reference retracted: "SGLT2 inhibitors in heart failure" (doi:10.1056/nejmoa0000001)'
    assert ChangeEvent.objects.filter(type="review_due", slug=article.slug).exists()
    assert ReviewAssignment.objects.filter(article=article, status="open").count() == 2
    notified = Notification.objects.filter(kind="review_requested", article=article)
    assert {n.recipient_id for n in notified} == {m.user_id for m in board[:2]}
    assert "SGLT2 inhibitors in heart failure" in notified.first().body
    changes = AuditEvent.objects.filter(action="reference.retraction_status")
    assert {(e.data["from"], e.data["to"]) for e in changes} == {
        ("none", "retracted"), ("none", "corrected"), ("none", "expression_of_concern")}
    assert audit.verify().ok


def test_it_does_not_flag_for_a_correction_or_an_unpublished_article(make_article, drive, references, writer):
    body = "Statins help after a stroke [@statins]. Guidance agrees [@nice2018]."
    refs = [{"key": "statins", "title": "Statins after stroke", "pmid": "27000001", "year": 2020},
            {"key": "nice2018", "title": "Stroke guideline", "url": "https://www.nice.org.uk/guidance/ng128"}]
    corrected = drive(make_article(title="Statins", body_markdown=body, references=refs), "published")
    draft = make_article(title="Draft citing the retracted trial")
    run_import()
    assert Article.objects.get(pk=corrected.pk).state == "published"
    assert Article.objects.get(pk=draft.pk).state == "draft"


def test_importing_the_same_file_twice_changes_nothing_more(make_article, drive, references):
    drive(make_article(), "published")
    run_import()
    events = AuditEvent.objects.count()
    assert "0 changed; 0 article(s) moved to review_due" in run_import()
    assert AuditEvent.objects.count() == events


def test_it_names_what_is_wrong_with_the_file(db):
    with pytest.raises(CommandError, match=r"missing column.*OriginalPaperDOI"):
        call_command("import_retractions", str(FIXTURES / "retractions_bad_header.csv"), "--no-progress",
                     stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_retractions", str(FIXTURES / "nope.csv"), stdout=io.StringIO())
    assert RetractionImport.objects.get().error  # the failed run is recorded with its error


def test_it_shows_a_progress_bar(db, references):
    err = io.StringIO()
    call_command("import_retractions", str(CSV), stdout=io.StringIO(), stderr=err)
    assert "retractions: 100%" in err.getvalue()


def test_the_daily_check_flags_articles_citing_a_retracted_reference(make_article, drive):
    article = drive(make_article(), "published")
    Reference.objects.filter(doi="10.1056/nejmoa0000001").update(retraction_status="retracted")
    summary = retractions.check_reference_integrity(url="")
    assert summary == {"downloaded": False, "flagged_now": [article.slug]}
    assert retractions.check_reference_integrity(url="")["flagged_now"] == []


def test_the_daily_check_downloads_the_csv_from_the_configured_url(make_article, drive, settings):
    article = drive(make_article(), "published")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(FIXTURES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.IMPRIMATUR_RETRACTIONS_URL = f"http://127.0.0.1:{server.server_address[1]}/retractions.csv"
        from governance.background.tasks import check_reference_integrity

        summary = check_reference_integrity()
    finally:
        server.shutdown()
        server.server_close()
    assert summary["downloaded"] is True and summary["flagged"] == 1
    assert Article.objects.get(pk=article.pk).state == "review_due"
    assert RetractionImport.objects.get().source == settings.IMPRIMATUR_RETRACTIONS_URL


def test_an_article_already_in_review_due_gets_the_reason_and_its_reviewers_are_told(make_article, drive, board,
                                                                                     references):
    import datetime as dt

    from governance.background import staleness

    article = drive(make_article(), "published")
    Article.objects.filter(pk=article.pk).update(next_review_due=dt.date(2020, 1, 1))
    assert staleness.flag_stale_articles().flagged == [article.slug]
    reviewers = set(ReviewAssignment.objects.filter(article=article, status="open").values_list(
        "reviewer__user_id", flat=True))
    assert reviewers == {m.user_id for m in board[:2]}
    run_import()

    assert Article.objects.get(pk=article.pk).state == "review_due"
    assert AuditEvent.objects.filter(action="article.flag_review_due", article_id=article.pk).count() == 1
    event = AuditEvent.objects.get(action="article.reference_retracted", article_id=article.pk)
    assert event.reason == 'cited reference retracted: "SGLT2 inhibitors in heart failure" (doi:10.1056/nejmoa0000001)'
    assert event.from_state == event.to_state == ""
    told = Notification.objects.filter(kind="reference_retracted", article=article)
    assert {n.recipient_id for n in told} == reviewers
    assert "SGLT2 inhibitors in heart failure" in told.first().body
    assert audit.verify().ok

    run_import()  # the same file again: nothing new is retracted, nobody is told twice
    assert AuditEvent.objects.filter(action="article.reference_retracted").count() == 1
    assert told.count() == 2


@pytest.mark.postgres
def test_the_flag_selects_the_articles_with_one_array_parameter(make_article, drive, references):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    drive(make_article(), "published")
    Reference.objects.filter(doi="10.1056/nejmoa0000001").update(retraction_status="retracted")
    with CaptureQueriesContext(connection) as queries:
        assert len(retractions.flag_articles_citing_retracted().flagged) == 1
    [flag] = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "review_due" in q["sql"]]
    assert "= ANY(" in flag and " IN (" not in flag  # not one parameter per article (65,535 at most)
