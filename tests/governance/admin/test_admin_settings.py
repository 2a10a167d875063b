"""The managing editor's settings in the admin: review policies per topic and risk tier,
versioned editorial policies rendered on save, references with filters, webhooks read-mostly,
and helpful empty states."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from articles.models import Reference
from governance.models import EditorialPolicy, ReviewPolicy, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests import factories


def test_it_lets_the_managing_editor_set_a_review_policy_per_topic_and_tier(client, chief, topic):
    cardiology = factories.SpecialtyFactory(slug="cardiology", name="Cardiology")
    client.force_login(chief)

    response = client.post(reverse("admin:governance_reviewpolicy_add"), {
        "topic": topic.pk, "risk_tier": "high", "approvals_required": 3, "required_specialties": [cardiology.pk],
        "review_interval_days": 180, "assignment_due_days": 10, "remind_before_days": 3, "overdue_repeat_days": 2,
        "escalate_after_days": 5, "unpublish_grace_days": "",
    })

    assert response.status_code == 302
    policy = ReviewPolicy.objects.get()
    assert (policy.topic, policy.risk_tier, policy.approvals_required) == (topic, "high", 3)
    assert list(policy.required_specialties.all()) == [cardiology]


def test_it_refuses_review_policies_to_board_members(client, board):
    client.force_login(board[0].user)

    assert client.get(reverse("admin:governance_reviewpolicy_changelist")).status_code == 403
    assert client.get(reverse("admin:governance_reviewpolicy_add")).status_code == 403


def test_it_renders_and_sanitizes_a_new_editorial_policy_version_on_save(client, chief):
    client.force_login(chief)

    client.post(reverse("admin:governance_editorialpolicy_add"), {
        "version": "2", "effective_at_0": "2026-01-01", "effective_at_1": "09:00:00",
        "body_markdown": "## Review\n\nEvery article is reviewed.<script>alert(1)</script>",
    })

    policy = EditorialPolicy.objects.get(version="2")
    assert "<h2>Review</h2>" in policy.body_html
    assert "<script>" not in policy.body_html
    assert policy.created_by == chief
    page = client.get(reverse("admin:governance_editorialpolicy_change", args=[policy.pk])).content.decode()
    assert "<h2>Review</h2>" in page and 'name="_save"' not in page  # versions are kept as published


def test_it_filters_references_by_kind_and_retraction_and_searches_doi_and_pmid(client, chief):
    retracted = factories.ReferenceFactory(kind="research", retraction_status="retracted", pmid="12345678")
    guideline = factories.ReferenceFactory(kind="guideline")
    client.force_login(chief)
    url = reverse("admin:articles_reference_changelist")

    def listed(**params) -> list[int]:
        return [r.pk for r in client.get(url, params).context["cl"].result_list]

    assert listed(kind__exact="guideline") == [guideline.pk]
    assert listed(retraction="retracted") == [retracted.pk]
    assert listed(retraction="any") == [retracted.pk]
    assert listed(q=guideline.doi) == [guideline.pk]
    assert listed(q="12345678") == [retracted.pk]
    html = client.get(url).content.decode()
    assert f"https://doi.org/{guideline.doi}" in html
    assert "https://pubmed.ncbi.nlm.nih.gov/12345678/" in html
    assert Reference.objects.count() == 2


def test_it_lists_webhook_deliveries_by_status_with_attempts_inline_read_only(client, chief):
    endpoint = WebhookEndpoint.objects.create(name="Partner", url="https://partner.example/hooks", secret="whsec_x")
    failed = WebhookDelivery.objects.create(message_id="msg_1", endpoint=endpoint, event_type="article.published",
                                            payload={}, status="failed", attempts=1, next_attempt_at=timezone.now())
    WebhookDelivery.objects.create(message_id="msg_2", endpoint=endpoint, event_type="article.published",
                                   payload={}, status="delivered", next_attempt_at=timezone.now())
    WebhookAttempt.objects.create(delivery=failed, at=timezone.now(), status_code=503, error="Service Unavailable")
    client.force_login(chief)

    listing = client.get(reverse("admin:governance_webhookdelivery_changelist"), {"status__exact": "failed"})
    change = reverse("admin:governance_webhookdelivery_change", args=[failed.pk])
    page = client.get(change)
    edit = client.post(change, {"status": "delivered"})

    assert [d.pk for d in listing.context["cl"].result_list] == [failed.pk]
    assert "Service Unavailable" in page.content.decode() and "503" in page.content.decode()
    assert edit.status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_it_shows_helpful_empty_states(client, chief):
    client.force_login(chief)

    policies = client.get(reverse("admin:governance_reviewpolicy_changelist")).content.decode()
    deliveries = client.get(reverse("admin:governance_webhookdelivery_changelist")).content.decode()
    filtered = client.get(reverse("admin:articles_reference_changelist"), {"q": "nothing like this"})

    assert "No review policy yet: every article needs 2 approvals" in policies
    assert "No webhook has been queued yet" in deliveries
    assert "Nothing matches these filters or this search." in filtered.content.decode()


def test_it_shows_each_role_its_own_admin_index(client, chief, board):
    client.force_login(chief)
    chief_index = client.get(reverse("admin:index")).content.decode()
    client.force_login(board[0].user)
    member_index = client.get(reverse("admin:index")).content.decode()

    for model in ("Review policies", "Audit events", "Articles", "Board members", "Webhook deliveries"):
        assert model in chief_index
    assert "Review assignments" in member_index and "Conflict-of-interest declarations" in member_index
    assert "Review policies" not in member_index and "Audit events" not in member_index
