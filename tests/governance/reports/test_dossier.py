"""The audit dossier of an article: JSON content matches the database; the PDF is a real PDF."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from articles.models import Reference
from governance.reports import dossier
from governance.workflow import audit, services
from reviewers.models import Review
from tests import factories
from tests.conftest import article_content

pytestmark = pytest.mark.django_db


@pytest.fixture
def republished(make_article, drive, chief, writer, board):
    """Published, edited (approvals kept: the live text stays), re-reviewed and re-published."""
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=True):
        article = drive(make_article(), "published")
    with time_machine.travel(dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC), tick=True):
        edited = article_content(summary="What heart failure is, how it is treated, and what to expect.")
        article = services.article_edit(article=article, actor=writer, content=edited,
                                        change_note="Added what to expect", is_major_change=True)
        article = drive(article, "published", reviewers=[board[0], board[2]])
    return article


def test_it_matches_the_database_after_publish_edit_and_republish(republished, chief, board):
    d = dossier.build(republished, exported_by=chief)

    assert d["schema"] == "imprimatur.dossier/1"
    assert d["article"]["slug"] == republished.slug
    assert d["exported_by"]["username"] == "chief"
    revisions = list(republished.revisions.order_by("number"))
    assert [r["number"] for r in d["revisions"]] == [1, 2]
    assert [r["content_hash"] for r in d["revisions"]] == [r.content_hash for r in revisions]
    assert d["revisions"][1]["change_note"] == "Added what to expect"
    assert d["revisions"][1]["is_major_change"] is True
    assert d["revisions"][1]["created_by"]["username"] == "writer"
    assert len(d["revisions"][1]["approved_at"]) == 1
    cited = d["revisions"][1]["citations"]
    assert [c["key"] for c in cited] == ["trial2021", "nice2018"]
    assert cited[0]["reference"]["doi"] == "10.1056/nejmoa0000001"
    assert cited[0]["status_at_approvals"][0]["status"] == "none"

    reviews = list(Review.objects.filter(article=republished).order_by("signed_at", "pk"))
    assert len(d["signatures"]) == len(reviews) == 4
    for doc, review in zip(d["signatures"], reviews, strict=True):
        assert doc["signed_name"] == review.signed_name
        assert doc["signed_credentials"] == review.signed_credentials
        assert doc["signed_username"] == review.signed_username
        assert doc["signed_at"] == review.signed_at.isoformat()
        assert doc["meaning"] == "approved as medically accurate"
        assert doc["revision_hash"] == review.revision_hash
        assert doc["revision_hash_matches"] is True
    assert {a["reviewer"]["username"] for a in d["assignments"]} == {"reviewer1", "reviewer2", "reviewer3"}

    snapshots = list(republished.snapshots.order_by("published_at"))
    assert [s["etag"] for s in d["snapshots"]] == [s.etag for s in snapshots]
    assert [s["is_live"] for s in d["snapshots"]] == [False, True]
    assert d["article"]["live_etag"] == snapshots[-1].etag

    actions = [t["action"] for t in d["transitions"]]
    assert actions.count("article.publish") == 2
    assert "article.revise" in actions
    assert all(t["actor"] for t in d["transitions"])
    assert d["audit_chain"] == {"ok": True, "events_checked": len(d["audit_events"]), "broken_seq": None,
                                "detail": f"audit chain intact: {len(d['audit_events'])} events"}


def test_it_lists_only_declarations_that_overlap_a_reviewers_assignment(make_article, drive, board, topic):
    article = drive(make_article(), "published")
    today = timezone.localdate()
    factories.ConflictFactory(member=board[0], topic=topic, nature="none", starts_on=today - dt.timedelta(days=5))
    factories.ConflictFactory(member=board[0], topic=topic, starts_on=today - dt.timedelta(days=400),
                              ends_on=today - dt.timedelta(days=300))
    factories.ConflictFactory(member=board[1], topic=factories.TopicFactory(slug="diabetes"))

    d = dossier.build(article)

    assert [(c["member"]["member_id"], c["nature"]) for c in d["conflicts_of_interest"]] == [(board[0].pk, "none")]
    assert d["conflicts_of_interest"][0]["blocks_assignment"] is False


def test_it_derives_the_status_at_approval_from_reference_audit_events(make_article, drive):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=True):
        article = drive(make_article(), "published")
    reference = Reference.objects.get(doi="10.1056/nejmoa0000001")
    with time_machine.travel(dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC), tick=True):
        Reference.objects.filter(pk=reference.pk).update(retraction_status="retracted",
                                                         retraction_updated_at=timezone.now())
        # As governance.background.retractions.apply_notices records it.
        audit.record(action="reference.retraction_status", obj=reference, reason="Retraction Watch import",
                     data={"from": "none", "to": "retracted", "doi": reference.doi, "pmid": reference.pmid})

    cited = dossier.build(article)["revisions"][0]["citations"][0]

    assert cited["retraction_status"] == "retracted"
    assert cited["status_changed_since_last_approval"] is True
    assert cited["status_at_approvals"][0]["status"] == "none"
    assert cited["status_at_approvals"][0]["derived_from"] == "audit"


def test_it_reports_an_unknown_status_when_a_change_after_approval_left_no_audit_event(make_article, drive):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=True):
        article = drive(make_article(), "published")
    Reference.objects.filter(doi="10.1056/nejmoa0000001").update(retraction_status="corrected",
                                                                 retraction_updated_at=timezone.now())

    cited = dossier.build(article)["revisions"][0]["citations"][0]

    assert cited["status_at_approvals"][0] == {**cited["status_at_approvals"][0], "status": "unknown",
                                               "derived_from": "unknown"}


def test_it_builds_the_dossier_in_a_fixed_number_of_queries(republished, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        dossier.build(republished)


def test_it_renders_a_paginated_pdf(republished, chief):
    built = dossier.build(republished, exported_by=chief)
    pdf = dossier.render_pdf(built)

    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    first = reader.pages[0].extract_text()
    assert "Audit dossier: Living with heart failure" in first
    assert f"Page 1 of {len(reader.pages)}" in first
    text = "".join(page.extract_text() for page in reader.pages)
    assert "approved as medically accurate" in text
    # The same content as the JSON: every signer, snapshot, change note and the chain's verdict.
    assert all(s["signed_name"] in text for s in built["signatures"])
    assert all(s["etag"] in text for s in built["snapshots"])
    assert all(r["change_note"] in text for r in built["revisions"])
    assert built["audit_chain"]["detail"] in text
    first_hash = built["revisions"][0]["content_hash"]
    assert " ".join(first_hash[i:i + 8] for i in range(0, 64, 8)) in " ".join(text.split())


def test_it_downloads_the_dossier_from_the_editor_ui(client, republished, chief):
    client.force_login(chief)

    as_json = client.get(reverse("dossier:json", args=[republished.slug]))
    as_pdf = client.get(reverse("dossier:pdf", args=[republished.slug]))

    assert as_json.status_code == 200
    assert as_json.json()["article"]["slug"] == republished.slug
    assert "attachment" in as_json["Content-Disposition"]
    assert as_pdf.status_code == 200
    assert as_pdf["Content-Type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF")


def test_it_answers_404_to_someone_who_may_not_see_the_article(client, republished, colleague, outsider):
    for user in (colleague, outsider):  # like a missing article: a 403 would say it exists
        client.force_login(user)
        assert client.get(reverse("dossier:json", args=[republished.slug])).status_code == 404
        assert client.get(reverse("dossier:pdf", args=[republished.slug])).status_code == 404


def test_it_serves_the_dossier_on_the_editorial_api(client, republished, chief, writer):
    url = f"/api/v1/editorial/articles/{republished.slug}/dossier/"
    client.force_login(chief)

    as_json = client.get(url, {"format": "json"})
    as_pdf = client.get(url, {"format": "pdf"})

    assert as_json.status_code == 200
    assert as_json.json()["signatures"][0]["meaning"] == "approved as medically accurate"
    assert as_pdf.status_code == 200
    assert as_pdf["Content-Type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF")


def test_it_answers_the_api_dossier_with_401_or_404_for_outsiders(client, republished, outsider, colleague, chief):
    url = f"/api/v1/editorial/articles/{republished.slug}/dossier/"
    assert client.get(url).status_code == 401
    for user in (outsider, colleague):  # an article they may not see does not exist for them
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.get(url, {"format": "pdf"}).status_code == 404
    client.force_login(chief)
    assert client.get("/api/v1/editorial/articles/no-such-article/dossier/").status_code == 404


def test_it_serves_the_dossier_to_the_author_and_to_an_assigned_reviewer(client, republished, writer, board):
    url = f"/api/v1/editorial/articles/{republished.slug}/dossier/"
    for user in (writer, board[2].user):
        client.force_login(user)
        assert client.get(url).json()["article"]["slug"] == republished.slug


def test_it_documents_the_dossier_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/editorial/articles/{slug}/dossier/"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "application/pdf"}
    signature = schema["components"]["schemas"]["Signature"]["properties"]
    assert {"signed_name", "signed_credentials", "signed_at", "meaning", "revision_hash", "voided_at"} <= set(signature)


# --- the API serves exactly what build() builds --------------------------------------------------

def _key_mismatches(serializer, data, path: str = "$") -> list[str]:
    """Where the built dossier and the API serializers disagree on keys (a key the serializer
    lacks would be dropped silently by `_as_is`; a field the build lacks would be documented but
    never served)."""
    from rest_framework import serializers

    if isinstance(serializer, serializers.ListSerializer):
        return [m for i, item in enumerate(data or []) for m in _key_mismatches(serializer.child, item, f"{path}[{i}]")]
    if isinstance(serializer, serializers.Serializer):
        if data is None:
            return []
        fields, keys = set(serializer.fields), set(data)
        found = [f"{path}.{k} (built, not in the serializer)" for k in sorted(keys - fields)]
        found += [f"{path}.{k} (in the serializer, not built)" for k in sorted(fields - keys)]
        return found + [m for k in sorted(fields & keys) for m in _key_mismatches(serializer.fields[k], data[k],
                                                                                   f"{path}.{k}")]
    return []


def test_it_serves_on_the_api_exactly_the_dossier_it_builds(client, republished, chief, board, topic):
    import json

    from governance.api.dossier import DossierSerializer

    # Something in every list: a declaration overlapping the reviews, so every nested serializer is checked.
    factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 1, 1))
    client.force_login(chief)
    at = dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC)

    with time_machine.travel(at, tick=False):
        served = client.get(f"/api/v1/editorial/articles/{republished.slug}/dossier/", {"format": "json"}).json()
        built = dossier.build(republished, exported_by=chief)

    assert all(built[k] for k in ("revisions", "review_cycles", "assignments", "signatures", "conflicts_of_interest",
                                  "transitions", "snapshots", "audit_events"))
    assert _key_mismatches(DossierSerializer(), built) == []
    assert served == json.loads(json.dumps(built))  # keys and values
    assert served["exported_at"] == at.isoformat()


def test_it_compares_transition_reasons_and_declarations_with_the_database(republished, chief, board, topic):
    from governance.models import AuditEvent
    from reviewers.models import ConflictOfInterest

    declared = factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 1, 1),
                                         counterparty="Acme Cardio (fictional)", description="Advisory board fee")

    d = dossier.build(republished, exported_by=chief)

    rows = AuditEvent.objects.filter(article_id=republished.pk, object_type="articles.article").exclude(to_state="")
    assert [(t["seq"], t["action"], t["from_state"], t["to_state"], t["reason"], t["actor"], t["at"])
            for t in d["transitions"]] == [
        (e.seq, e.action, e.from_state, e.to_state, e.reason, e.actor_username, e.at.isoformat())
        for e in rows.order_by("seq")]
    assert any(t["reason"] for t in d["transitions"])
    row = ConflictOfInterest.objects.select_related("member", "topic").get(pk=declared.pk)
    [doc] = [c for c in d["conflicts_of_interest"] if c["id"] == row.pk]
    assert doc == {
        "id": row.pk, "member": {"member_id": row.member_id, "printed_name": row.member.printed_name,
                                 "credentials": row.member.credentials, "username": row.member.user.username},
        "topic": row.topic.slug, "nature": row.nature, "nature_label": row.get_nature_display(),
        "blocks_assignment": True, "counterparty": "Acme Cardio (fictional)", "description": "Advisory board fee",
        "starts_on": "2026-01-01", "ends_on": None, "declared_at": row.declared_at.isoformat(),
        "ended_at": None, "ended_by": None, "end_reason": "",
        "overlapping_assignment_ids": doc["overlapping_assignment_ids"]}
    assert set(doc["overlapping_assignment_ids"]) == set(
        republished.assignments.filter(reviewer=board[0]).values_list("pk", flat=True))


def test_it_prints_the_export_time_in_the_pdf_header(republished, chief):
    from pypdf import PdfReader

    at = dt.datetime(2026, 4, 1, 12, 34, 56, tzinfo=dt.UTC)
    built = dossier.build(republished, exported_by=chief, now=at)

    reader = PdfReader(io.BytesIO(dossier.render_pdf(built)))

    assert all("Exported 2026-04-01T12:34:56 UTC" in page.extract_text() for page in reader.pages)


def test_it_shows_a_tampered_chain_in_the_json_and_the_pdf(client, republished, chief):
    from pypdf import PdfReader

    from governance.models import AuditEvent
    from tests.governance.workflow.test_audit_chain import tampering

    edited = AuditEvent.objects.filter(article_id=republished.pk, action="article.publish").order_by("seq").first()
    with tampering() as cursor:
        cursor.execute("UPDATE governance_auditevent SET reason = %s WHERE seq = %s", ["rewritten", edited.seq])
    client.force_login(chief)

    served = client.get(f"/api/v1/editorial/articles/{republished.slug}/dossier/", {"format": "json"}).json()
    built = dossier.build(republished, exported_by=chief)
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(dossier.render_pdf(built))).pages).split())

    assert served["audit_chain"]["ok"] is False and served["audit_chain"]["broken_seq"] == edited.seq
    assert served["audit_chain"] == built["audit_chain"]
    assert " ".join(built["audit_chain"]["detail"].split()) in text
    assert "intact" not in built["audit_chain"]["detail"]


def test_it_answers_503_naming_pango_when_weasyprint_cannot_load(client, republished, chief, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_pango(name, *args, **kwargs):
        if name == "weasyprint":  # what cffi raises on a machine without the library
            raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_pango)
    client.force_login(chief)

    editor_ui = client.get(reverse("dossier:pdf", args=[republished.slug]))
    api = client.get(f"/api/v1/editorial/articles/{republished.slug}/dossier/", {"format": "pdf"})
    as_json = client.get(reverse("dossier:json", args=[republished.slug]))

    assert editor_ui.status_code == 503 and "Pango" in editor_ui.content.decode()
    assert "libpango-1.0-0" in editor_ui.content.decode()
    assert api.status_code == 503 and "Pango" in api.json()["detail"]
    assert as_json.status_code == 200


# --- what each reader may see of the declarations -------------------------------------------------

def test_it_shows_each_reader_only_the_declarations_they_may_see(client, republished, chief, writer, board, topic):
    """The managing editor sees every reviewer's declarations; a reviewer only their own; the
    author none of the reviewers' (API and editor UI, JSON and PDF alike)."""
    from pypdf import PdfReader

    mine = factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 1, 1),
                                     counterparty="Mine Ltd (fictional)")
    theirs = factories.ConflictFactory(member=board[2], topic=topic, starts_on=dt.date(2026, 1, 1),
                                       counterparty="Theirs Inc (fictional)")
    api = f"/api/v1/editorial/articles/{republished.slug}/dossier/"
    seen = {}
    for user in (chief, writer, board[0].user):
        client.force_login(user)
        served = {c["id"] for c in client.get(api).json()["conflicts_of_interest"]}
        downloaded = {c["id"] for c in client.get(reverse("dossier:json", args=[republished.slug])).json()[
            "conflicts_of_interest"]}
        assert served == downloaded, user.username
        seen[user.username] = served
        pdf = client.get(reverse("dossier:pdf", args=[republished.slug])).content
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        assert ("Theirs Inc" in text) is (user == chief), user.username

    assert seen == {"chief": {mine.pk, theirs.pk}, "writer": set(), board[0].user.username: {mine.pk}}


def test_it_shows_a_declaration_as_it_was_during_the_review(make_article, drive, board, topic, chief):
    from governance.workflow.services import conflicts

    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=True):
        article = drive(make_article(), "in_review")
        declared = factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 3, 2),
                                             counterparty="Acme Pharma")
    with time_machine.travel(dt.datetime(2026, 3, 5, 9, 0, tzinfo=dt.UTC), tick=True):
        conflicts.conflict_end(actor=board[0].user, conflict=declared, reason="Sold the shares.")

    (doc,) = dossier.build(article, exported_by=chief)["conflicts_of_interest"]

    assert (doc["starts_on"], doc["ends_on"]) == ("2026-03-02", "2026-03-05")
    assert doc["ended_at"].startswith("2026-03-05T09:00")
    assert (doc["ended_by"], doc["end_reason"]) == (board[0].user.username, "Sold the shares.")
    assert doc["declared_at"] == declared.declared_at.isoformat()
