"""The managing editor asks for a re-review of a live article (`request_re_review`: published →
review_due, with a required reason), through the same service path as every transition: the
policy decides who, the rules what, audited, in the changes feed and the webhook outbox; the
approvers of the live text are asked again (an assignment and a notification each), and the public
API and page say `under_review` (`editor_request`) while the text stays served. Offered in the
editor UI's next steps, the admin and the API's transitions endpoint."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from articles.models import Article
from governance.models import AuditEvent, ChangeEvent, Notification, WebhookDelivery
from governance.workflow import audit, services
from governance.workflow.exceptions import NotPermitted, TransitionRefused
from reviewers.models import ReviewAssignment
from tests.api.conftest import token_client

REASON = "New NICE guidance on SGLT2 inhibitors"


def request(article, actor, reason=REASON):
    return services.article_transition(article=article, actor=actor, name="request_re_review", reason=reason)


def test_it_sends_a_live_article_back_for_re_review_and_audits_it(make_article, drive, chief, board, settings):
    article = drive(make_article(), "published")
    live = article.live_snapshot_id

    article = request(article, chief)

    article.refresh_from_db()
    assert article.state == "review_due" and article.live_snapshot_id == live  # still served
    assert article.live_snapshot.review_reason == "editor_request"
    event = AuditEvent.objects.get(action="article.request_re_review", article_id=article.pk)
    assert (event.actor_username, event.from_state, event.to_state, event.reason) == (
        "chief", "published", "review_due", REASON)
    assert event.data["review_reason"] == {"from": "", "to": "editor_request"}
    assert ChangeEvent.objects.filter(type="review_due", slug=article.slug).count() == 1
    asked = ReviewAssignment.objects.filter(article=article, status="open")
    assert {a.reviewer_id for a in asked} == {m.pk for m in board[:2]}  # the approvers of the live text
    notes = Notification.objects.filter(kind="review_requested", article=article)
    assert {n.recipient_id for n in notes} == {m.user_id for m in board[:2]}
    for note in notes:
        assert REASON in note.body
        assert note.url == f"http://testserver/admin/reviewers/reviewassignment/{note.assignment_id}/change/"
    assert AuditEvent.objects.filter(action="assignment.create", article_id=article.pk,
                                     reason__contains=REASON).count() == 2
    assert audit.verify().ok


def test_it_queues_the_review_due_webhook(make_article, drive, chief, settings):
    from governance.models import WebhookEndpoint

    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = True
    WebhookEndpoint.objects.create(name="mirror", url="http://127.0.0.1:9/hook", secret="whsec_" + "A" * 32)
    article = drive(make_article(), "published")
    request(article, chief)
    assert WebhookDelivery.objects.filter(event_type="article.review_due").count() == 1


def test_it_needs_a_reason(make_article, drive, chief):
    article = drive(make_article(), "published")
    with pytest.raises(TransitionRefused) as refused:
        request(article, chief, reason="  ")
    assert refused.value.rule == "reason_required"
    assert Article.objects.get(pk=article.pk).state == "published"
    assert not AuditEvent.objects.filter(action="article.request_re_review").exists()


def test_only_the_managing_editor_may_ask(make_article, drive, writer):
    article = drive(make_article(), "published")
    with pytest.raises(NotPermitted) as refused:
        request(article, writer)
    assert refused.value.rule == "may_request_re_review"


@pytest.mark.parametrize("state", ["draft", "submitted", "in_review", "approved", "review_due"])
def test_it_applies_to_a_published_article_only(make_article, drive, chief, state):
    article = drive(make_article(), state)
    with pytest.raises(TransitionRefused) as refused:
        request(article, chief)
    assert refused.value.rule == "state_allows_transition"


def test_the_editor_ui_offers_it_in_the_next_steps(client, make_article, drive, chief, writer):
    article = drive(make_article(), "published")
    client.force_login(writer)
    assert "Request re-review" not in client.get(f"/editor/articles/{article.slug}/").content.decode()
    client.force_login(chief)
    html = client.get(f"/editor/articles/{article.slug}/").content.decode()
    assert "Request re-review" in html
    assert f'action="/editor/articles/{article.slug}/transitions/request_re_review/"' in html

    empty = client.post(f"/editor/articles/{article.slug}/transitions/request_re_review/", {"reason": ""}, follow=True)
    assert Article.objects.get(pk=article.pk).state == "published"
    assert "reason_required" in empty.content.decode()
    client.post(f"/editor/articles/{article.slug}/transitions/request_re_review/", {"reason": REASON})
    assert Article.objects.get(pk=article.pk).state == "review_due"


def test_the_admin_offers_it_with_a_reason_form(client, make_article, drive, chief):
    article = drive(make_article(), "published")
    client.force_login(chief)
    change = reverse("admin:articles_article_change", args=[article.pk])
    form = reverse("admin:articles_article_transition",
                   kwargs={"object_id": article.pk, "transition_name": "request_re_review"})

    assert "request_re_review" in re.findall(r'name="_fsm_transition_to" value="(\w+)"',
                                             client.get(change).content.decode())
    first = client.post(change, {"_fsm_transition_to": "request_re_review"})
    assert first.status_code == 302 and first.url == form
    client.post(form, {"reason": ""})
    assert Article.objects.get(pk=article.pk).state == "published"
    client.post(form, {"reason": REASON})
    assert Article.objects.get(pk=article.pk).state == "review_due"
    assert AuditEvent.objects.get(action="article.request_re_review").reason == REASON


def test_the_api_runs_it(make_article, drive, chief, writer):
    article = drive(make_article(), "published")
    url = f"/api/v1/editorial/articles/{article.slug}/transitions/request_re_review/"

    assert token_client(writer).post(url, {"reason": REASON}, format="json").status_code == 403
    missing = token_client(chief).post(url, {}, format="json")
    assert missing.status_code == 409 and missing.json()["rule"] == "reason_required"
    done = token_client(chief).post(url, {"reason": REASON}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "review_due"


def test_the_schema_lists_it_among_the_transitions(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/editorial/articles/{slug}/transitions/{name}/"]["post"]
    name = next(p for p in operation["parameters"] if p["name"] == "name")
    assert "request_re_review" in name["schema"]["enum"]
