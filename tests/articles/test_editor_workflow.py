"""The article page of the editor: transition buttons the policy allows, checklists, refusals
named by rule, reviewer assignment with suggestions and exclusions, revisions and diffs, the
audit timeline; the dashboard and the filtered list."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
import time_machine
from django.utils import timezone

from articles.models import Article, Reference
from governance.models import AuditEvent
from governance.workflow import services
from reviewers.models import ReviewAssignment
from tests import factories
from tests.conftest import BODY, article_content

pytestmark = pytest.mark.django_db


def buttons(response) -> set[str]:
    return {option.name for option in response.context["transitions"]}


def test_it_shows_a_writer_only_the_submit_and_revise_buttons(client, writer, make_article):
    article = make_article()
    client.force_login(writer)
    response = client.get(f"/editor/articles/{article.slug}/")
    assert buttons(response) == {"submit"}
    html = response.content.decode()
    assert 'id="do-submit"' in html and 'id="do-publish"' not in html
    assert "All 2 references are cited and resolve." in html


def test_it_shows_the_managing_editor_the_checklist_of_the_next_step(client, chief, make_article, drive):
    article = drive(make_article(), "submitted")
    client.force_login(chief)
    response = client.get(f"/editor/articles/{article.slug}/")
    assert buttons(response) == {"start_review", "request_changes", "revise", "archive"}
    html = response.content.decode()
    assert "0 of 2 eligible reviewers assigned." in html
    assert "Assign 2 more eligible board member(s)." in html


def test_it_names_the_required_specialty_missing_from_the_reviewers(client, chief, make_article, drive, topic, board):
    policy = factories.ReviewPolicyFactory(topic=topic, approvals_required=1)
    policy.required_specialties.add(board[0].specialties.first())
    article = drive(make_article(), "submitted")
    services.assignment_create(article=article, actor=chief, reviewer=board[1])  # general practice only
    client.force_login(chief)
    html = client.get(f"/editor/articles/{article.slug}/").content.decode()
    assert "No assigned reviewer covers: Cardiology." in html
    suggestions = client.get(f"/editor/articles/{article.slug}/").context["suggestions"]
    assert suggestions[0].member in (board[0], board[2]) and suggestions[0].matching == ["Cardiology"]


def test_it_runs_a_transition_and_reports_the_new_state(client, writer, make_article):
    article = make_article()
    client.force_login(writer)
    response = client.post(f"/editor/articles/{article.slug}/transitions/submit/", follow=True)
    article.refresh_from_db()
    assert article.state == "submitted"
    assert "the article is now “Submitted”" in response.content.decode()


def test_it_turns_a_refusal_into_a_message_naming_the_rule(client, chief, make_article, drive):
    article = drive(make_article(), "submitted")
    client.force_login(chief)
    response = client.post(f"/editor/articles/{article.slug}/transitions/start_review/", follow=True)
    html = response.content.decode()
    assert "rule: assignments_reach_quorum" in html
    article.refresh_from_db()
    assert article.state == "submitted"


def test_it_refuses_a_writer_a_managing_editors_transition(client, writer, make_article, drive):
    article = drive(make_article(), "submitted")
    client.force_login(writer)
    response = client.post(f"/editor/articles/{article.slug}/transitions/start_review/", follow=True)
    assert "rule: may_start_review" in response.content.decode()


def test_it_needs_a_reason_to_withdraw(client, chief, make_article, drive):
    article = drive(make_article(), "published")
    client.force_login(chief)
    response = client.post(f"/editor/articles/{article.slug}/transitions/withdraw/", {"reason": ""}, follow=True)
    assert "rule: reason_required" in response.content.decode()
    client.post(f"/editor/articles/{article.slug}/transitions/withdraw/", {"reason": "Guidance changed"})
    article.refresh_from_db()
    assert article.state == "withdrawn" and article.withdrawn_reason == "Guidance changed"


def test_it_schedules_publication_at_a_date_and_time(client, chief, make_article, drive):
    article = drive(make_article(), "approved")
    client.force_login(chief)
    when = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/editor/articles/{article.slug}/transitions/schedule/", {"publish_at": when})
    article.refresh_from_db()
    assert article.state == "scheduled"
    assert timezone.localtime(article.publish_at).strftime("%Y-%m-%dT%H:%M") == when
    response = client.post(f"/editor/articles/{article.slug}/transitions/publish/", follow=True)
    assert "now “Published”" in response.content.decode()


def test_it_assigns_a_suggested_reviewer(client, chief, make_article, drive, board):
    article = drive(make_article(), "submitted")
    client.force_login(chief)
    response = client.post(f"/editor/articles/{article.slug}/assignments/", {"reviewer": board[0].pk}, follow=True)
    assert ReviewAssignment.objects.filter(article=article, reviewer=board[0], status="open").exists()
    assert f"{board[0].printed_name} is assigned" in response.content.decode()


def test_it_lists_excluded_reviewers_with_the_reason(client, chief, make_article, drive, board, topic):
    expired = factories.BoardMemberFactory(user__username="lapsed", licence_expires_on=dt.date(2020, 1, 1))
    conflicted = factories.BoardMemberFactory(user__username="consultant")
    factories.ConflictFactory(member=conflicted, topic=topic)
    author = factories.BoardMemberFactory(user__username="doctor-writer", user__groups=["Writers"])
    article = drive(make_article(actor=author.user), "submitted")
    client.force_login(chief)
    suggestions = {s.member.user.username: s for s in
                   client.get(f"/editor/articles/{article.slug}/").context["suggestions"]}
    assert suggestions["lapsed"].refusal.rule == "licence_valid"
    assert suggestions["consultant"].refusal.rule == "no_conflict_of_interest"
    assert suggestions["doctor-writer"].refusal.rule == "no_self_review"
    assert suggestions["reviewer1"].refusal is None
    ordered = list(suggestions)
    assert ordered.index("reviewer1") < ordered.index("lapsed")
    response = client.post(f"/editor/articles/{article.slug}/assignments/", {"reviewer": expired.pk}, follow=True)
    assert "rule: licence_valid" in response.content.decode()


def test_it_suggests_the_least_loaded_reviewer_first(client, chief, make_article, drive, board, topic):
    other = drive(make_article(title="Another article"), "submitted")
    services.assignment_create(article=other, actor=chief, reviewer=board[0])
    article = drive(make_article(), "submitted")
    client.force_login(chief)
    suggestions = client.get(f"/editor/articles/{article.slug}/").context["suggestions"]
    loads = {s.member.pk: s.open_load for s in suggestions}
    assert loads[board[0].pk] == 1
    assert suggestions[-1].member == board[0]  # all eligible, none covers a required specialty: load decides


def test_it_cancels_an_assignment(client, chief, make_article, drive, board):
    article = drive(make_article(), "submitted")
    assignment = services.assignment_create(article=article, actor=chief, reviewer=board[0])
    client.force_login(chief)
    client.post(f"/editor/articles/{article.slug}/assignments/{assignment.pk}/cancel/")
    assignment.refresh_from_db()
    assert assignment.status == "cancelled"


def test_it_shows_signed_decisions_and_the_audit_timeline(client, chief, make_article, drive, board):
    article = drive(make_article(), "published")
    client.force_login(chief)
    html = client.get(f"/editor/articles/{article.slug}/").content.decode()
    assert "approved as medically accurate" in html
    assert board[0].printed_name in html
    assert "article.publish" in html and "review.sign" in html
    assert article.current_revision.content_hash in html


def test_it_diffs_two_revisions_and_the_draft_against_the_live_text(client, writer, make_article, drive):
    article = drive(make_article(), "published")
    services.article_edit(article=article, actor=writer, content=article_content(
        body_markdown=BODY.replace("cannot pump as well", "does not pump as well")), change_note="Wording")
    client.force_login(writer)
    response = client.get(f"/editor/articles/{article.slug}/revisions/?compare=live")
    body = next(s for s in response.context["sections"] if s.label == "Body")
    assert body.changed
    changed = next(row for row in body.rows if row["op"] == "replace")
    assert "<del>cannot</del>" in changed["old"] and "<ins>does not</ins>" in changed["new"]
    html = response.content.decode()
    assert "Working draft (r2) against the live text (r1)" in html and "Wording" in html
    response = client.get(f"/editor/articles/{article.slug}/revisions/?a=1&b=2")
    assert response.context["old"].number == 1 and response.context["new"].number == 2


def test_it_escapes_html_in_diffs(client, writer, make_article):
    article = make_article()
    services.article_edit(article=article, actor=writer, content=article_content(
        title="<script>alert(1)</script> heart failure"))
    client.force_login(writer)
    html = client.get(f"/editor/articles/{article.slug}/revisions/").content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_it_filters_the_article_list(client, chief, writer, colleague, make_article, drive, board,
                                     django_assert_max_num_queries):
    published = drive(make_article(title="Published one"), "published")
    make_article(title="Draft one")
    make_article(title="Colleague's draft", actor=colleague)
    for i in range(25):
        make_article(title=f"Filler {i}")
    client.force_login(chief)
    with django_assert_max_num_queries(12):
        response = client.get("/editor/articles/")
    assert response.context["page"].paginator.count == 28 and len(response.context["page"].object_list) == 20
    assert client.get("/editor/articles/?page=2").context["page"].object_list.__len__() == 8
    titles = lambda r: [a.title for a in r.context["page"].object_list]  # noqa: E731
    assert titles(client.get("/editor/articles/?state=published")) == ["Published one"]
    assert titles(client.get("/editor/articles/?q=colleague")) == ["Colleague's draft"]
    assert titles(client.get(f"/editor/articles/?reviewer={board[0].pk}")) == ["Published one"]
    assert titles(client.get("/editor/articles/?due=overdue")) == []
    with time_machine.travel(published.next_review_due + dt.timedelta(days=1)):
        client.force_login(chief)  # the session of a year ago has expired
        assert titles(client.get("/editor/articles/?due=overdue")) == ["Published one"]
    assert client.get("/editor/articles/?topic=heart-health&origin=human").context["page"].paginator.count == 28
    htmx = client.get("/editor/articles/?state=draft", HTTP_HX_REQUEST="true")
    assert "<html" not in htmx.content.decode()  # the rows only


def test_it_lists_only_what_the_policy_lets_a_writer_see(client, writer, colleague, make_article):
    make_article(title="Mine")
    make_article(title="Theirs", actor=colleague)
    client.force_login(writer)
    assert [a.title for a in client.get("/editor/articles/").context["page"].object_list] == ["Mine"]


def test_it_fills_the_dashboard(client, chief, writer, make_article, drive, board, django_assert_max_num_queries):
    make_article(title="My draft", actor=chief)
    drive(make_article(title="Waiting"), "submitted")
    live = drive(make_article(title="Live"), "published")
    reference = live.current_revision.citations.first().reference
    Reference.objects.filter(pk=reference.pk).update(retraction_status="retracted",
                                                     retraction_updated_at=timezone.now())
    client.force_login(chief)
    with django_assert_max_num_queries(20):
        response = client.get("/editor/")
    board_ = response.context["board"]
    assert [a.title for a in board_.my_drafts] == ["My draft"]
    assert [a.title for a in board_.waiting_for_review] == ["Waiting"]
    # the three articles cite the same (now retracted) trial
    assert sorted(board_.retracted[0]["articles"]) == [(live.slug, "Live"), ("my-draft", "My draft"), ("waiting", "Waiting")]
    assert not board_.state_chart.is_empty
    assert board_.due_chart.is_empty  # nothing falls due within 12 weeks
    with time_machine.travel(live.next_review_due - dt.timedelta(days=20)):
        client.force_login(chief)
        board_ = client.get("/editor/").context["board"]
    assert [a.title for a in board_.coming_due[30]] == ["Live"]
    assert board_.coming_due[60] == [] and board_.coming_due[90] == []
    assert not board_.due_chart.is_empty


def test_it_shows_helpful_empty_states(client, writer):
    client.force_login(writer)
    html = client.get("/editor/").content.decode()
    assert "No articles yet" in html
    assert "Nothing falls due in the next 12 weeks" in html
    assert "<svg" not in html


def test_it_counts_overdue_review_assignments(client, chief, make_article, drive, board):
    article = drive(make_article(), "submitted")
    services.assignment_create(article=article, actor=chief, reviewer=board[0])
    with time_machine.travel(timezone.now() + dt.timedelta(days=30)):
        client.force_login(chief)
        board_ = client.get("/editor/").context["board"]
    assert [a.reviewer for a in board_.overdue_assignments] == [board[0]]


def test_it_previews_the_working_revision_as_not_approved(client, writer, make_article):
    article = make_article()
    client.force_login(writer)
    html = client.get(f"/editor/articles/{article.slug}/preview/").content.decode()
    assert "This text is not approved" in html
    assert "Pending medical review" in html
    assert Article.objects.get(pk=article.pk).live_snapshot is None


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", "", html)))


def _text(response) -> str:
    return _text_of(response.content.decode())


def test_it_shows_the_approval_progress_while_the_article_is_under_review(client, chief, make_article, drive, topic,
                                                                          board, password):
    policy = factories.ReviewPolicyFactory(topic=topic, approvals_required=3)
    policy.required_specialties.add(board[0].specialties.first())  # cardiology
    second_gp = factories.BoardMemberFactory(user__username="reviewer4", specialties=[board[1].specialties.first()])
    article = drive(make_article(), "submitted")
    assignments = [services.assignment_create(article=article, actor=chief, reviewer=m)
                   for m in (board[1], second_gp, board[0])]
    article = services.article_start_review(article=article, actor=chief)
    for assignment in assignments[:2]:  # the two general practitioners approve
        services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                               password=password)
    client.force_login(chief)
    text = _text(client.get(f"/editor/articles/{article.slug}/"))
    assert "2 of 3 approvals; needs an approval from Cardiology." in text
    assert "2 of 3 approvals." in text and "Needs 1 more signed approval(s)." in text
    assert "No approval yet from: Cardiology." in text
    assert f"Approved by: {board[1].printed_name} (General practice); {second_gp.printed_name} (General practice)." in text
    assert f"Not decided yet: {board[0].printed_name} (Cardiology), due" in text
    assert "covers Cardiology" in text
    assert "Waiting for 1 more signed approval(s) from the assigned reviewers." in text


def test_it_shows_a_submitted_article_which_specialty_no_reviewer_covers(client, chief, make_article, drive, topic,
                                                                          board):
    policy = factories.ReviewPolicyFactory(topic=topic, approvals_required=3)
    policy.required_specialties.add(board[0].specialties.first())
    article = drive(make_article(), "submitted")
    services.assignment_create(article=article, actor=chief, reviewer=board[1])
    client.force_login(chief)
    text = _text(client.get(f"/editor/articles/{article.slug}/"))
    assert "0 of 3 approvals; needs an approval from Cardiology." in text
    assert f"Not decided yet: {board[1].printed_name} (General practice)" in text
    assert "Only 1 eligible reviewer(s) still to decide for 3 missing approval(s): assign 2 more board member(s)." in text
    assert "No reviewer still to decide specialises in Cardiology: assign one." in text


def test_it_shows_no_approval_progress_on_a_draft(client, writer, make_article):
    article = make_article()
    client.force_login(writer)
    assert 'id="approval-progress"' not in client.get(f"/editor/articles/{article.slug}/").content.decode()


def test_it_counts_every_overdue_review_on_the_dashboard(client, chief, make_article, drive, board):
    late = drive(make_article(title="Late review"), "in_review")
    ReviewAssignment.objects.filter(article=late).update(due_at=timezone.now() - dt.timedelta(days=3))
    stale = drive(make_article(title="Stale text"), "published")
    Article.objects.filter(pk=stale.pk).update(next_review_due=timezone.localdate() - dt.timedelta(days=1))
    client.force_login(chief)
    text = _text(client.get("/editor/"))
    assert "Reviews overdue (3)" in text  # two late assignments and one article past its re-review date


def test_it_counts_overdue_assignments_beyond_the_ten_listed(client, chief, make_article, drive, board):
    for i in range(6):
        drive(make_article(title=f"Late review {i}"), "in_review")
    ReviewAssignment.objects.update(due_at=timezone.now() - dt.timedelta(days=3))
    client.force_login(chief)
    response = client.get("/editor/")
    assert len(response.context["board"].overdue_assignments) == 10
    assert "Reviews overdue (12)" in _text(response)


@pytest.mark.parametrize("state", ["approved", "published"])
def test_it_previews_approved_text_with_its_signatures_and_dates(client, chief, make_article, drive, board, state):
    article = drive(make_article(), state)
    client.force_login(chief)
    text = _text(client.get(f"/editor/articles/{article.slug}/preview/"))
    assert "This text is approved" in text
    assert "No board member has approved this text yet." not in text
    assert "Pending medical review" not in text
    for member in board[:2]:
        assert member.printed_name in text
    article.refresh_from_db()
    assert f"Last reviewed {timezone.localtime(article.last_reviewed_at):%-d %B %Y}" in text
    assert f"Next review {article.next_review_due:%-d %B %Y}" in text


def test_it_previews_review_due_text_as_approved_and_due_for_re_review(client, chief, make_article, drive, board):
    article = drive(make_article(), "review_due")
    client.force_login(chief)
    html = client.get(f"/editor/articles/{article.slug}/preview/").content.decode()
    text = _text_of(html)
    assert "is due for re-review" in text
    assert "Pending medical review" not in text and "This text is not approved" not in text
    assert 'id="caution-rereview"' in html
    assert board[0].printed_name in text


def test_it_previews_a_revision_under_review_with_the_approvals_so_far(client, chief, make_article, drive, board,
                                                                      password):
    article = drive(make_article(), "in_review")
    assignment = ReviewAssignment.objects.filter(article=article, reviewer=board[0]).get()
    services.review_record(assignment=assignment, actor=board[0].user, decision="approve", password=password)
    client.force_login(chief)
    text = _text(client.get(f"/editor/articles/{article.slug}/preview/"))
    assert "This text is not approved" in text and "Pending medical review" in text
    assert board[0].printed_name in text and board[1].printed_name not in text
    assert "Last reviewed not yet" in text


def test_it_labels_the_audit_timeline_and_links_the_dossier(client, chief, make_article, drive, board):
    article = drive(make_article(), "published")
    client.force_login(chief)
    html = client.get(f"/editor/articles/{article.slug}/").content.decode()
    assert '<strong title="article.submit">Submitted for review</strong>' in html
    assert '<strong title="assignment.create">Reviewer assigned</strong>' in html
    assert f'href="/editor/articles/{article.slug}/dossier.pdf"' in html
    assert f'href="/editor/articles/{article.slug}/dossier.json"' in html
    assert 'id="timeline-cut"' not in html
    assert client.get(f"/editor/articles/{article.slug}/dossier.json").status_code == 200


def test_it_says_when_the_audit_timeline_is_cut_and_points_to_the_dossier(client, writer, make_article):
    article = make_article()
    for n in range(50):
        article = services.article_edit(article=article, actor=writer, content=article_content(
            summary=f"Summary, take {n}"), change_note=f"Take {n}")
    total = AuditEvent.objects.filter(article_id=article.pk).count()
    assert total > 50
    client.force_login(writer)
    response = client.get(f"/editor/articles/{article.slug}/")
    assert len(response.context["timeline"].events) == 50
    text = _text(response)
    assert f"Showing the latest 50 of {total} events. The full trail is in the audit dossier (PDF)." in text


def test_it_tells_the_managing_editor_to_start_the_review_once_enough_reviewers_are_assigned(
        client, chief, make_article, drive, board):
    article = drive(make_article(), "submitted")
    for member in board[:2]:
        services.assignment_create(article=article, actor=chief, reviewer=member)
    client.force_login(chief)
    text = _text(client.get(f"/editor/articles/{article.slug}/"))
    assert "0 of 2 approvals." in text
    assert "Start the review: the assigned reviewers then sign 2 approval(s)." in text
