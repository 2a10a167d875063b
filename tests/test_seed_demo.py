"""`manage.py seed_demo`: idempotent, every workflow state present, and the promises API.md makes
to integrators about the demo data hold."""

from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.test import override_settings
from django.utils.html import escape

import demo
from articles.models import Article, Topic
from demo import figure as demo_figure
from governance.models import AuditEvent, ChangeEvent
from governance.workflow import audit, selectors, services
from governance.workflow.exceptions import AssignmentRefused
from reviewers.models import BoardMember

DEMO_PASSWORD = "demo-password-for-tests"


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """Seed once for the module inside a transaction rolled back at the end; each test runs in a
    savepoint of it (pytest-django's `db`), so tests stay isolated and the seed runs once."""
    out = io.StringIO()
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo_settings = override_settings(IMPRIMATUR_DEMO_PASSWORD=DEMO_PASSWORD, PASSWORD_HASHERS=fast,
                                      SITE_URL="http://testserver", MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    with django_db_blocker.unblock(), demo_settings, transaction.atomic():
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(_seeded_once, db, settings):
    settings.IMPRIMATUR_DEMO_PASSWORD = DEMO_PASSWORD
    return _seeded_once


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_it_changes_nothing_on_a_second_run(seeded):
    before = _row_counts()
    last_event = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert _row_counts() == before
    assert AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first() == last_event
    assert "nothing changed" in out.getvalue()


def test_it_puts_an_article_in_every_state(seeded):
    states = set(Article.objects.values_list("state", flat=True))
    assert set(demo.WORKING_STATES) <= states
    assert Article.objects.filter(state="published").count() >= 3


def test_it_republishes_one_article_with_two_major_revisions(seeded):
    article = Article.objects.get(slug="high-blood-pressure-what-the-numbers-mean")
    assert article.state == "published"
    assert article.snapshots.count() == 2
    published_revisions = {s.revision_id for s in article.snapshots.all()}
    assert article.revisions.filter(pk__in=published_revisions, is_major_change=True).count() == 2
    assert list(ChangeEvent.objects.filter(slug=article.slug).values_list("type", flat=True)) == ["published", "updated"]


def test_it_keeps_the_approved_text_live_while_a_published_article_is_edited(seeded):
    article = Article.objects.get(slug="atrial-fibrillation-and-stroke-prevention")
    assert article.state == "draft"
    assert article.live_snapshot is not None
    assert article.live_snapshot.revision_id != article.current_revision_id


def test_it_gives_the_first_topic_the_default_policy(seeded):
    first = Topic.objects.order_by("slug").first()
    article = Article(topic=first, risk_tier="standard", origin="human")
    policy = selectors.policy_for(article)
    assert (policy.approvals_required, policy.required_specialties, policy.review_interval_days) == (2, frozenset(), 365)


def test_it_lets_reviewer1_and_reviewer2_form_a_quorum_on_the_first_topic(seeded):
    first = Topic.objects.order_by("slug").first()
    editor, chief = (get_user_model().objects.get(username=u) for u in ("editor", "chief"))
    article = services.article_create(
        actor=editor, topic=first,
        content=services.ArticleContent(
            title="Quorum check", summary="", body_markdown="Statins lower LDL cholesterol [@ctt].",
            references=[{"key": "ctt", **demo.REFERENCES["ctt2010"]}]),
    )
    article = services.article_submit(article=article, actor=editor)
    assignments = [services.assignment_create(article=article, actor=chief,
                                              reviewer=BoardMember.objects.get(user__username=name))
                   for name in ("reviewer1", "reviewer2")]
    article = services.article_start_review(article=article, actor=chief)
    for assignment in assignments:
        services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                               password=DEMO_PASSWORD)
    article.refresh_from_db()
    assert article.state == "approved"


def test_it_refuses_to_assign_the_reviewer_whose_licence_expired(seeded):
    chief = get_user_model().objects.get(username="chief")
    article = Article.objects.get(state="submitted")
    with pytest.raises(AssignmentRefused) as refused:
        services.assignment_create(article=article, actor=chief,
                                   reviewer=BoardMember.objects.get(user__username="reviewer-expired"))
    assert refused.value.rule == "licence_valid"


def test_it_has_chief_verify_the_board_and_leaves_a_renewal_pending(seeded):
    from reviewers.models import CredentialChange

    for member in BoardMember.objects.select_related("credentials_verified_by"):
        assert member.credentials_verified_by.username == "chief", member
    expired = BoardMember.objects.get(user__username="reviewer-expired")
    (pending,) = CredentialChange.objects.filter(status=CredentialChange.Status.PENDING)
    assert (pending.member, pending.proposed_by.username) == (expired, "reviewer-expired")
    assert pending.licence_expires_on > expired.licence_expires_on  # proposed, not in force
    assert not expired.licence_valid()
    assert AuditEvent.objects.filter(action="credentials.verify", actor_username="chief").count() == len(demo.BOARD)


def test_it_declares_a_conflict_and_an_explicit_none(seeded):
    member = BoardMember.objects.get(user__username="reviewer3")
    natures = set(member.conflicts.values_list("nature", flat=True))
    assert "none" in natures and natures - {"none"}


def test_it_writes_the_demo_through_the_services_with_an_intact_audit_chain(seeded):
    check = audit.verify()
    assert check.ok, str(check)
    for article in Article.objects.all():
        assert AuditEvent.objects.filter(article_id=article.pk, action="article.create").exists()
    assert ChangeEvent.objects.filter(type="withdrawn").exists()


def test_it_adds_the_configuration_through_the_audited_configuration_services(seeded):
    def created(action: str) -> set[str]:
        return {e.data["new"].get("slug") or e.data["new"].get("version") or e.object_id
                for e in AuditEvent.objects.filter(action=action, actor_username="chief")}

    assert created("specialty.create") == {slug for slug, _ in demo.SPECIALTIES}
    assert created("topic.create") == {slug for slug, _, _ in demo.TOPICS}
    assert len(created("review_policy.create")) == len(demo.POLICIES)
    assert created("editorial_policy.publish") == {demo.EDITORIAL_POLICY_VERSION}


def test_it_prints_the_logins_and_the_urls(seeded):
    for username in ("editor", "chief", "reviewer1", "reviewer2", "reviewer3", "reviewer-expired"):
        assert username in seeded
    assert DEMO_PASSWORD in seeded
    for url in ("http://testserver/editor/", "http://testserver/admin/", "http://testserver/api/docs/",
                "http://testserver/editor/login/"):
        assert url in seeded


def test_it_fills_every_report_and_a_dossier_with_demo_data(seeded, client):
    from django.urls import reverse

    from governance.reports import board_activity, dossier, evidence, review_dates

    chief = get_user_model().objects.get(username="chief")
    client.force_login(chief)
    for name in ("currency", "board", "evidence", "coi", "load"):
        page = client.get(reverse(f"reports:{name}"))
        assert page.status_code == 200 and b'class="empty"' not in page.content, name
        for kind in ("csv", "xlsx"):
            assert client.get(reverse(f"reports:{name}"), {"export": kind}).status_code == 200, (name, kind)

    found = evidence.evidence()
    assert [(r["reference__retraction_status"], r["revision__article__slug"]) for r in found["flagged"]] == [
        ("retracted", "vitamin-d-and-falls")]
    assert "vitamin-d-and-falls" in {a["slug"] for a in found["old"]}
    flagged = Article.objects.get(slug="vitamin-d-and-falls")
    assert flagged.state == "review_due"
    assert AuditEvent.objects.filter(article_id=flagged.pk, reason__contains="cited reference retracted").exists()
    assert AuditEvent.objects.filter(action="reference.retraction_status").count() == 1
    assert review_dates.review_load()["total"] >= 1  # reviews due within the 26 weeks
    turnaround = [m["median_days"] for m in board_activity.board_activity()["members"] if m["completed"]]
    assert turnaround and all(days and days >= 3 for days in turnaround)
    built = dossier.build(flagged, exported_by=chief)
    assert built["article"]["slug"] == "vitamin-d-and-falls" and built["audit_chain"]["ok"] is True
    assert client.get(reverse("dossier:json", args=[flagged.slug])).status_code == 200


def test_its_re_reviews_show_their_reasons_publicly(seeded):
    from articles.models import PublishedSnapshot

    reasons = dict(PublishedSnapshot.objects.filter(article__live_snapshot=F("pk")).exclude(review_reason="")
                   .values_list("article__slug", "review_reason"))
    assert reasons == {"type-2-diabetes-reducing-your-risk": "editor_request",
                       "vitamin-d-and-falls": "reference_retracted"}


def test_it_refuses_to_seed_a_production_site_unless_forced(db, settings):
    from django.core.management.base import CommandError

    settings.IMPRIMATUR_PRODUCTION = True
    users, articles = get_user_model().objects.count(), Article.objects.count()

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=io.StringIO())

    assert (get_user_model().objects.count(), Article.objects.count()) == (users, articles)
    assert "--force" in {action.option_strings[0] for action in _seed_demo_parser()._actions if action.option_strings}


def _seed_demo_parser():
    from django.core.management import load_command_class

    return load_command_class("governance", "seed_demo").create_parser("manage.py", "seed_demo")


def test_a_live_demo_article_shows_its_approved_figure_with_its_alt_text(seeded, client):
    figure = demo_figure.FIGURE
    article = Article.objects.get(slug=figure["article"])
    assert article.state == "published" and article.live_snapshot.revision.figures.get().slug == figure["slug"]
    page = client.get(f"/articles/{article.slug}/").content.decode()
    assert f'alt="{escape(figure["alt"])}"' in page and escape(figure["caption"]) in page
    src = re.search(r'<img src="http://testserver(/figures/[0-9a-f]{64}/[0-9]+\.png)"', page).group(1)
    image = client.get(src)  # a reader, not signed in: the approved image is public
    assert image.status_code == 200 and "immutable" in image["Cache-Control"]
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")

