"""The managing editor's workflow buttons in the article admin: only what the policy and the
rules allow, each run through `governance.workflow.services`, a refusal shown naming its rule."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from governance.models import AuditEvent


def change_url(article: Article) -> str:
    return reverse("admin:articles_article_change", args=[article.pk])


def transition_url(article: Article, name: str) -> str:
    return reverse("admin:articles_article_transition", kwargs={"object_id": article.pk, "transition_name": name})


def buttons(html: str) -> set[str]:
    return set(re.findall(r'name="_fsm_transition_to" value="(\w+)"', html))


@pytest.mark.parametrize(("state", "expected"), [
    ("draft", {"submit", "archive"}),
    ("submitted", {"request_changes", "revise", "archive"}),  # no reviewers yet: no start_review
    ("in_review", {"request_changes", "revise", "archive"}),  # approve is the quorum's, never a button
    ("approved", {"publish", "schedule", "revise", "archive"}),
    ("published", {"request_re_review", "withdraw", "revise", "archive"}),  # flag_review_due is the system's
    ("review_due", {"start_review", "withdraw", "revise", "archive"}),  # the flag asked the approvers again
])
def test_it_shows_the_managing_editor_only_the_allowed_transitions(client, chief, make_article, drive, state,
                                                                   expected):
    article = drive(make_article(), state)
    client.force_login(chief)

    response = client.get(change_url(article))

    assert response.status_code == 200
    assert buttons(response.content.decode()) == expected


def test_it_explains_why_start_review_is_not_offered(client, chief, make_article, drive):
    article = drive(make_article(), "submitted")
    client.force_login(chief)

    html = client.get(change_url(article)).content.decode()

    assert "Not possible yet" in html
    assert "assignments_reach_quorum" in html


def test_it_runs_a_transition_through_the_service_and_audits_it(client, chief, make_article, drive):
    article = drive(make_article(), "approved")
    client.force_login(chief)

    response = client.post(change_url(article), {"_fsm_transition_to": "publish"}, follow=True)

    article.refresh_from_db()
    assert article.state == "published"
    assert article.live_snapshot is not None  # the service froze a snapshot
    event = AuditEvent.objects.filter(article_id=article.pk, action="article.publish").get()
    assert event.actor_username == "chief"
    assert any("Publish now: done" in str(m) for m in response.context["messages"])


def test_it_asks_for_a_reason_before_withdrawing(client, chief, make_article, drive):
    article = drive(make_article(), "published")
    client.force_login(chief)

    first = client.post(change_url(article), {"_fsm_transition_to": "withdraw"})
    empty = client.post(transition_url(article, "withdraw"), {"reason": ""})
    done = client.post(transition_url(article, "withdraw"), {"reason": "Dosage guidance superseded"})

    assert first.status_code == 302 and first.url == transition_url(article, "withdraw")
    assert empty.status_code == 200 and "This field is required." in empty.content.decode()
    assert done.status_code == 302
    article.refresh_from_db()
    assert article.state == "withdrawn"
    assert article.withdrawn_reason == "Dosage guidance superseded"


def test_it_shows_a_refused_transition_as_a_message_naming_the_rule(client, chief, make_article, drive):
    article = drive(make_article(), "approved")
    client.force_login(chief)
    past = timezone.localtime(timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(transition_url(article, "schedule"), {"publish_at": past}, follow=True)

    article.refresh_from_db()
    assert article.state == "approved"
    messages = [str(m) for m in response.context["messages"]]
    assert any("Schedule publication refused" in m and "rule: publish_at_in_future" in m for m in messages)


def test_it_refuses_revising_an_approved_article_without_a_reason_naming_the_rule(client, chief, make_article,
                                                                                   drive):
    article = drive(make_article(), "approved")
    client.force_login(chief)

    response = client.post(transition_url(article, "revise"), {"reason": ""}, follow=True)

    article.refresh_from_db()
    assert article.state == "approved"
    assert any("rule: reason_required_to_void" in str(m) for m in response.context["messages"])


def test_it_shows_a_stale_state_refusal(client, chief, make_article, drive):
    article = drive(make_article(), "approved")
    client.force_login(chief)
    page = client.get(change_url(article))
    assert "publish" in buttons(page.content.decode())
    Article.objects.filter(pk=article.pk).update(state="draft")  # someone else moved it meanwhile

    response = client.post(change_url(article), {"_fsm_transition_to": "publish"}, follow=True)

    assert any("publish" in str(m).lower() and "rule:" in str(m) for m in response.context["messages"])
    article.refresh_from_db()
    assert article.state == "draft"


def test_it_shows_a_writer_no_transition_buttons_and_refuses_their_post(client, writer, make_article):
    article = make_article()
    writer.is_staff = True
    writer.save()
    client.force_login(writer)

    page = client.get(change_url(article))
    post = client.post(change_url(article), {"_fsm_transition_to": "submit"})
    form = client.post(transition_url(article, "archive"), {"reason": "x"})

    assert page.status_code == 200
    assert buttons(page.content.decode()) == set()
    assert post.status_code == 403 and form.status_code == 403
    article.refresh_from_db()
    assert article.state == "draft"


def test_it_shows_an_assigned_board_member_no_transition_buttons(client, board, make_article, drive):
    article = drive(make_article(), "in_review")
    client.force_login(board[0].user)

    page = client.get(change_url(article))

    assert page.status_code == 200
    assert buttons(page.content.decode()) == set()
    assert "Assign a reviewer" not in page.content.decode()


def test_it_hides_unassigned_articles_from_a_board_member(client, board, make_article, drive):
    article = drive(make_article(), "in_review")  # reviewed by board[0] and board[1]
    client.force_login(board[2].user)

    response = client.get(change_url(article))

    assert response.status_code == 403  # nothing assigned to them: no access to articles at all
    assert "Living with heart failure" not in response.content.decode()


@pytest.mark.parametrize("name", ["delete", "save", "approve", "flag_review_due"])
def test_it_refuses_unknown_and_system_transitions_posted_by_hand(client, chief, make_article, drive, name):
    article = drive(make_article(), "in_review")
    client.force_login(chief)

    response = client.post(change_url(article), {"_fsm_transition_to": name}, follow=True)
    by_url = client.post(transition_url(article, name), {"reason": "x"}, follow=True)

    assert response.status_code == 200 and by_url.status_code == 200
    article.refresh_from_db()
    assert article.state == "in_review"
    assert any("no transition" in str(m) or "not allowed" in str(m) or "rule:" in str(m)
               for m in response.context["messages"])


def test_it_refuses_archiving_a_live_article_without_a_reason_naming_the_rule(client, chief, make_article, drive):
    article = drive(make_article(), "published")
    client.force_login(chief)

    refused = client.post(transition_url(article, "archive"), {"reason": ""}, follow=True)
    article.refresh_from_db()
    assert article.state == "published" and article.live_snapshot_id is not None
    assert any("rule: reason_required_to_archive_live" in str(m) for m in refused.context["messages"])

    client.post(transition_url(article, "archive"), {"reason": "Merged into the heart failure guide"})
    article.refresh_from_db()
    assert article.state == "archived" and article.withdrawn_reason == "Merged into the heart failure guide"
