"""Signing a review decision in the admin: the exact revision is shown, the right password
records a Review with every signature component, a wrong one records nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from articles.models import Reference
from governance.workflow.services import VariantInput
from reviewers.models import Review, ReviewAssignment


def review_url(assignment: ReviewAssignment) -> str:
    return reverse("admin:reviewers_reviewassignment_change", args=[assignment.pk])


@pytest.fixture
def in_review(make_article, drive):
    return drive(make_article(), "in_review")


@pytest.fixture
def assignment(in_review, board):
    return ReviewAssignment.objects.get(article=in_review, reviewer=board[0])


def test_it_shows_the_exact_revision_with_numbered_references(client, assignment, in_review):
    client.force_login(assignment.reviewer.user)

    response = client.get(review_url(assignment))

    html = response.content.decode()
    revision = in_review.current_revision
    assert response.status_code == 200
    assert revision.content_hash in html
    assert "Living with heart failure" in html
    assert "What heart failure is and how it is treated." in html
    assert "<h2>What it is</h2>" in html  # the rendered body
    assert 'id="ref-1"' in html and 'id="ref-2"' in html
    assert "https://doi.org/10.1056/nejmoa0000001" in html.lower()
    assert "https://pubmed.ncbi.nlm.nih.gov/31535829/" in html
    assert "Guideline" in html and "Research" in html
    assert "no retraction or correction known" in html
    assert 'name="password"' in html


def test_it_records_a_signed_approval_with_every_signature_component(client, assignment, in_review, password):
    member = assignment.reviewer
    client.force_login(member.user)

    response = client.post(review_url(assignment), {"decision": "approve", "password": password, "comments": ""},
                           follow=True)

    review = Review.objects.get(assignment=assignment)
    assert review.decision == Review.Decision.APPROVED
    assert review.signed_name == member.printed_name
    assert review.signed_credentials == member.credentials
    assert review.signed_specialties == ["Cardiology"]
    assert review.signed_username == member.user.username
    assert review.meaning == "approved as medically accurate"
    assert review.revision_hash == in_review.current_revision.content_hash
    html = response.content.decode()
    assert "approved as medically accurate" in html
    assert review.revision_hash in html
    assert f"{member.printed_name}, {member.credentials}" in html
    assert 'name="password"' not in html  # signed: no second form


def test_it_records_nothing_on_a_wrong_password_and_says_so(client, assignment):
    client.force_login(assignment.reviewer.user)

    response = client.post(review_url(assignment), {"decision": "approve", "password": "not my password"})

    assert response.status_code == 200
    assert not Review.objects.exists()
    assignment.refresh_from_db()
    assert assignment.status == ReviewAssignment.Status.OPEN
    html = response.content.decode()
    assert "The password does not match: nothing was signed." in html
    assert "rule: reauthentication" in html


def test_it_requires_comments_to_request_changes(client, assignment, password):
    client.force_login(assignment.reviewer.user)

    response = client.post(review_url(assignment), {"decision": "request_changes", "password": password})

    assert not Review.objects.exists()
    assert "comments are required when you request changes" in response.content.decode()


def test_it_records_a_request_for_changes_and_sends_the_article_back(client, assignment, in_review, password):
    client.force_login(assignment.reviewer.user)

    client.post(review_url(assignment), {"decision": "request_changes", "password": password,
                                         "comments": "Cite the 2023 guideline update."})

    review = Review.objects.get(assignment=assignment)
    assert review.meaning == "changes requested"
    assert review.comments == "Cite the 2023 guideline update."
    in_review.refresh_from_db()
    assert in_review.state == "draft"


def test_it_does_not_let_a_reviewer_sign_someone_elses_assignment(client, assignment, board, password):
    other = board[1].user

    client.force_login(other)
    response = client.post(review_url(assignment), {"decision": "approve", "password": password})

    assert response.status_code == 302  # not in their queue: treated as missing
    assert not Review.objects.filter(assignment=assignment).exists()
    page = client.get(review_url(assignment), follow=True)
    assert "doesn\u2019t exist" in page.content.decode()


def test_it_shows_a_governance_refusal_as_a_message_naming_the_rule(client, assignment, password):
    client.force_login(assignment.reviewer.user)
    client.post(review_url(assignment), {"decision": "approve", "password": password})

    # a second decision in the same cycle is refused by the service (the assignment is closed)
    response = client.post(review_url(assignment), {"decision": "approve", "password": password}, follow=True)

    assert Review.objects.filter(assignment=assignment).count() == 1
    messages = [str(m) for m in response.context["messages"]]
    assert any("rule: assignment_open" in m for m in messages)


def test_it_shows_no_decision_form_to_the_managing_editor(client, assignment, chief, password):
    client.force_login(chief)

    page = client.get(review_url(assignment))
    response = client.post(review_url(assignment), {"decision": "approve", "password": password}, follow=True)

    assert 'name="password"' not in page.content.decode()
    assert not Review.objects.exists()
    assert any("rule: assigned_reviewer" in str(m) for m in response.context["messages"])


def test_it_shows_audience_variants_and_retraction_notices_of_the_revision(client, make_article, drive, board):
    article = make_article(variants=[VariantInput(audience="patient", summary="In plain words.",
                                                  body_markdown="Your heart is tired [@trial2021].")])
    article = drive(article, "in_review")
    Reference.objects.filter(pmid="31535829").update(retraction_status="retracted",
                                                     retraction_notice="Retracted for data falsification")
    assignment = ReviewAssignment.objects.get(article=article, reviewer=board[0])
    client.force_login(board[0].user)

    html = client.get(review_url(assignment)).content.decode()

    assert "For patients" in html and "In plain words." in html and "Your heart is tired" in html
    assert "Retracted: Retracted for data falsification" in html
