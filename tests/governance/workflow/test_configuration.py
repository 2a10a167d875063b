"""Governance configuration changes are in the hash chain: review policies, editorial policy
versions, topics, specialties and references kept in the admin change through
`governance.workflow.configuration`, which audits the old and new values in the same transaction; a topic
or specialty in use is never deleted."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from articles.models import Article, Reference, Topic
from governance.models import AuditEvent, EditorialPolicy, ReviewPolicy
from governance.workflow import audit, configuration
from governance.workflow.exceptions import ConfigurationRefused, ContentInvalid, NotPermitted
from reviewers.models import ReviewCycle, Specialty
from tests import factories


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


POLICY_FORM = {"risk_tier": "high", "approvals_required": 3, "review_interval_days": 180,
               "assignment_due_days": 10, "remind_before_days": 3, "overdue_repeat_days": 2,
               "escalate_after_days": 5, "unpublish_grace_days": ""}


@pytest.fixture
def cardiology(db):
    return factories.SpecialtyFactory(slug="cardiology", name="Cardiology")


@pytest.fixture
def general(db):
    return factories.SpecialtyFactory(slug="general-practice", name="General practice")


# --- review policies ------------------------------------------------------------------------------

def test_it_audits_a_review_policy_added_in_the_admin_with_its_required_specialties(client, chief, topic,
                                                                                    cardiology):
    client.force_login(chief)

    response = client.post(reverse("admin:governance_reviewpolicy_add"),
                           {**POLICY_FORM, "topic": topic.pk, "required_specialties": [cardiology.pk]})

    assert response.status_code == 302
    policy = ReviewPolicy.objects.get()
    assert list(policy.required_specialties.all()) == [cardiology]
    [event] = events("review_policy.create")
    assert event.object_id == str(policy.pk) and event.actor_username == "chief"
    assert event.data["new"]["topic"] == "heart-health"
    assert event.data["new"]["required_specialties"] == ["cardiology"]
    assert event.data["new"]["approvals_required"] == 3 and event.data["new"]["risk_tier"] == "high"


def test_one_event_carries_a_policy_change_and_its_specialties_old_and_new(client, chief, topic, cardiology,
                                                                          general):
    policy = factories.ReviewPolicyFactory(topic=topic, risk_tier="high", approvals_required=3,
                                           review_interval_days=180, assignment_due_days=10, remind_before_days=3,
                                           overdue_repeat_days=2, escalate_after_days=5)
    policy.required_specialties.set([cardiology])
    client.force_login(chief)

    response = client.post(reverse("admin:governance_reviewpolicy_change", args=[policy.pk]), {
        **POLICY_FORM, "topic": topic.pk, "approvals_required": 2,
        "required_specialties": [cardiology.pk, general.pk]})

    assert response.status_code == 302
    [event] = events("review_policy.update")
    assert event.data["changed"] == {"approvals_required": [3, 2],
                                     "required_specialties": [["cardiology"], ["cardiology", "general-practice"]]}
    assert sorted(policy.required_specialties.values_list("slug", flat=True)) == ["cardiology", "general-practice"]


def test_an_unchanged_save_writes_no_event(client, chief, topic):
    policy = factories.ReviewPolicyFactory(topic=topic, risk_tier="high", approvals_required=3,
                                           review_interval_days=180, assignment_due_days=10, remind_before_days=3,
                                           overdue_repeat_days=2, escalate_after_days=5)
    client.force_login(chief)

    client.post(reverse("admin:governance_reviewpolicy_change", args=[policy.pk]), {**POLICY_FORM, "topic": topic.pk})

    assert events("review_policy.update") == []


def test_it_audits_deleting_a_review_policy_from_its_page_and_in_bulk(client, chief, topic, cardiology):
    one = factories.ReviewPolicyFactory(topic=topic, risk_tier="high")
    one.required_specialties.set([cardiology])
    two = factories.ReviewPolicyFactory(topic=topic, risk_tier="standard")
    three = factories.ReviewPolicyFactory(topic=None, risk_tier="high")
    client.force_login(chief)

    client.post(reverse("admin:governance_reviewpolicy_delete", args=[one.pk]), {"post": "yes"})
    client.post(reverse("admin:governance_reviewpolicy_changelist"),
                {"action": "delete_selected", "_selected_action": [two.pk, three.pk], "post": "yes"})

    assert not ReviewPolicy.objects.exists()
    deleted = {e.object_id: e for e in events("review_policy.delete")}
    assert next(iter(deleted)) == str(one.pk) and set(deleted) == {str(one.pk), str(two.pk), str(three.pk)}
    assert deleted[str(one.pk)].data["old"]["required_specialties"] == ["cardiology"]
    assert deleted[str(three.pk)].data["old"]["topic"] is None
    assert audit.verify().ok


def test_only_the_managing_editor_changes_the_configuration(writer, board, topic):
    with pytest.raises(NotPermitted) as refused:
        configuration.topic_create(actor=writer, fields={"slug": "lungs", "name": "Lungs"})
    assert refused.value.rule == "may_administer"
    with pytest.raises(NotPermitted):
        configuration.review_policy_update(actor=board[0].user, policy=factories.ReviewPolicyFactory(topic=topic),
                                           fields={"approvals_required": 1})
    assert not Topic.objects.filter(slug="lungs").exists() and not AuditEvent.objects.exists()


def test_a_bad_value_is_a_field_error_and_changes_nothing(chief, topic):
    policy = factories.ReviewPolicyFactory(topic=topic)
    with pytest.raises(ContentInvalid) as refused:
        configuration.review_policy_update(actor=chief, policy=policy, fields={"approvals_required": 0})
    assert "approvals_required" in refused.value.errors
    with pytest.raises(ContentInvalid) as unknown:
        configuration.topic_update(actor=chief, topic=topic, fields={"colour": "red"})
    assert "colour" in unknown.value.errors
    policy.refresh_from_db()
    assert policy.approvals_required == 2 and not AuditEvent.objects.exists()


# --- the editorial policy ---------------------------------------------------------------------------

def test_it_audits_publishing_an_editorial_policy_version(client, chief):
    client.force_login(chief)

    client.post(reverse("admin:governance_editorialpolicy_add"), {
        "version": "2", "effective_at_0": "2026-01-01", "effective_at_1": "09:00:00",
        "body_markdown": "## Review\n\nEvery article is reviewed.", "weekly_review_capacity": 12})

    policy = EditorialPolicy.objects.get(version="2")
    [event] = events("editorial_policy.publish")
    assert event.object_id == str(policy.pk) and event.actor_username == "chief"
    assert event.data["new"]["version"] == "2"
    assert event.data["new"]["weekly_review_capacity"] == 12
    assert event.data["new"]["body_markdown"] == "## Review\n\nEvery article is reviewed."
    assert "<h2>Review</h2>" in policy.body_html and policy.created_by == chief


# --- topics and specialties -------------------------------------------------------------------------

def test_it_audits_topics_added_changed_and_deleted_in_the_admin(client, chief):
    client.force_login(chief)

    client.post(reverse("admin:articles_topic_add"), {"name": "Lungs", "slug": "lungs", "description": ""})
    lungs = Topic.objects.get(slug="lungs")
    client.post(reverse("admin:articles_topic_change", args=[lungs.pk]),
                {"name": "Lung health", "slug": "lungs", "description": "Breathing."})
    client.post(reverse("admin:articles_topic_delete", args=[lungs.pk]), {"post": "yes"})

    assert not Topic.objects.filter(slug="lungs").exists()
    created, = events("topic.create")
    updated, = events("topic.update")
    deleted, = events("topic.delete")
    assert created.data["new"] == {"slug": "lungs", "name": "Lungs", "description": ""}
    assert updated.data["changed"] == {"name": ["Lungs", "Lung health"], "description": ["", "Breathing."]}
    assert deleted.data["old"] == {"slug": "lungs", "name": "Lung health", "description": "Breathing."}


def test_it_audits_specialties_added_and_changed_in_the_admin(client, chief):
    client.force_login(chief)

    client.post(reverse("admin:reviewers_specialty_add"), {"name": "Nephrology", "slug": "nephrology"})
    nephrology = Specialty.objects.get(slug="nephrology")
    client.post(reverse("admin:reviewers_specialty_change", args=[nephrology.pk]),
                {"name": "Renal medicine", "slug": "nephrology"})

    assert events("specialty.create")[0].data["new"] == {"slug": "nephrology", "name": "Nephrology"}
    assert events("specialty.update")[0].data["changed"] == {"name": ["Nephrology", "Renal medicine"]}


def test_it_refuses_to_delete_a_topic_a_policy_uses_and_keeps_both(client, chief, topic):
    policy = factories.ReviewPolicyFactory(topic=topic)  # would cascade away with the topic
    client.force_login(chief)

    response = client.post(reverse("admin:articles_topic_delete", args=[topic.pk]), {"post": "yes"}, follow=True)

    assert response.status_code == 200
    [message] = messages_of(response)
    assert "topic_unused" in message and "1 review policy" in message
    assert Topic.objects.filter(pk=topic.pk).exists() and ReviewPolicy.objects.filter(pk=policy.pk).exists()
    assert events("topic.delete") == []


def test_it_refuses_to_delete_a_topic_an_article_or_a_declaration_uses(chief, topic, make_article, board):
    make_article()
    factories.ConflictFactory(member=board[0], topic=topic)

    with pytest.raises(ConfigurationRefused) as refused:
        configuration.topic_delete(actor=chief, topic=topic)

    assert refused.value.rule == "topic_unused"
    assert "1 article" in refused.value.message and "1 conflict-of-interest declaration" in refused.value.message
    assert Topic.objects.filter(pk=topic.pk).exists()


def test_bulk_delete_keeps_the_specialties_in_use_and_says_why(client, chief, board, topic):
    cardiology = Specialty.objects.get(slug="cardiology")  # two board members have it
    general = Specialty.objects.get(slug="general-practice")
    policy = factories.ReviewPolicyFactory(topic=topic)
    unused = factories.SpecialtyFactory(slug="dermatology", name="Dermatology")
    oncology = factories.SpecialtyFactory(slug="oncology", name="Oncology")
    policy.required_specialties.set([oncology])
    client.force_login(chief)

    response = client.post(reverse("admin:reviewers_specialty_changelist"), {
        "action": "delete_selected", "_selected_action": [cardiology.pk, unused.pk, oncology.pk],
        "post": "yes"}, follow=True)

    assert response.status_code == 200
    shown = " ".join(messages_of(response))
    assert "specialty_unused" in shown and "Cardiology" in shown and "2 board members" in shown
    assert "Oncology" in shown and "1 review policy" in shown
    assert set(Specialty.objects.values_list("slug", flat=True)) == {"cardiology", "general-practice", "oncology"}
    assert list(policy.required_specialties.all()) == [oncology]
    assert [e.data["old"]["slug"] for e in events("specialty.delete")] == ["dermatology"]
    assert general.members.count() == 1


def test_it_refuses_to_delete_a_specialty_a_review_cycle_required(chief, make_article, drive):
    nephrology = factories.SpecialtyFactory(slug="nephrology", name="Nephrology")
    article = drive(make_article(), "in_review")
    ReviewCycle.objects.get(article=article).required_specialties.add(nephrology)

    with pytest.raises(ConfigurationRefused) as refused:
        configuration.specialty_delete(actor=chief, specialty=nephrology)

    assert refused.value.rule == "specialty_unused" and "review cycle" in refused.value.message
    assert Specialty.objects.filter(pk=nephrology.pk).exists()


def test_the_delete_page_of_a_topic_in_use_says_why_instead_of_listing_protected_rows(client, chief, topic,
                                                                                     make_article):
    make_article()
    client.force_login(chief)

    response = client.get(reverse("admin:articles_topic_delete", args=[topic.pk]), follow=True)

    assert response.status_code == 200
    assert any("topic_unused" in m and "1 article" in m for m in messages_of(response))
    assert Article.objects.filter(topic=topic).exists()


# --- references edited in the admin -----------------------------------------------------------------

def _reference_form(reference: Reference, **changes) -> dict[str, str]:
    data = {"kind": reference.kind, "title": reference.title, "authors": '["Smith J", "Okafor A"]',
            "container": reference.container, "year": str(reference.year or ""), "doi": reference.doi or "",
            "pmid": reference.pmid or "", "pmcid": reference.pmcid, "url": reference.url}
    data.update(changes)
    return data


def test_an_admin_correction_of_a_reference_only_drafts_cite_is_audited_with_old_and_new(client, chief,
                                                                                       make_article):
    article = make_article()
    citation = article.current_revision.citations.get(key="trial2021")
    reference = citation.reference
    client.force_login(chief)

    client.post(reverse("admin:articles_reference_change", args=[reference.pk]),
                _reference_form(reference, title="SGLT2 inhibitors in chronic heart failure"))

    [event] = events("reference.update")
    assert event.data["changed"] == {"title": ["SGLT2 inhibitors in heart failure",
                                               "SGLT2 inhibitors in chronic heart failure"]}
    assert event.actor_username == "chief"
    citation.refresh_from_db()
    assert citation.cited["title"] == "SGLT2 inhibitors in heart failure"  # the draft's copy is as it was written


def test_the_service_refuses_to_edit_a_reference_a_signed_revision_cites(chief, make_article, drive):
    article = drive(make_article(), "approved")
    reference = article.current_revision.citations.get(key="trial2021").reference

    with pytest.raises(ConfigurationRefused) as refused:
        configuration.reference_update(actor=chief, reference=reference, fields={"title": "Another title"})

    assert refused.value.rule == "reference_not_reviewed"
    reference.refresh_from_db()
    assert reference.title == "SGLT2 inhibitors in heart failure" and events("reference.update") == []


def test_it_audits_references_added_and_deleted_in_the_admin_and_keeps_a_cited_one(client, chief, make_article):
    cited = make_article().current_revision.citations.get(key="trial2021").reference
    client.force_login(chief)

    client.post(reverse("admin:articles_reference_add"), {
        "kind": "guideline", "title": "Hypertension in adults", "authors": "[]", "container": "NICE", "year": "2019",
        "doi": "", "pmid": "", "pmcid": "", "url": "https://www.nice.org.uk/guidance/ng136"})
    added = Reference.objects.get(title="Hypertension in adults")
    client.post(reverse("admin:articles_reference_delete", args=[added.pk]), {"post": "yes"})
    refused = client.post(reverse("admin:articles_reference_delete", args=[cited.pk]), {"post": "yes"}, follow=True)

    assert events("reference.create")[-1].data["new"]["title"] == "Hypertension in adults"
    assert events("reference.delete")[0].data["old"]["url"] == "https://www.nice.org.uk/guidance/ng136"
    assert any("reference_uncited" in m for m in messages_of(refused))
    assert Reference.objects.filter(pk=cited.pk).exists()
    assert audit.verify().ok
