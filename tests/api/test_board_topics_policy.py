import datetime as dt

from django.utils import timezone

from governance.models import EditorialPolicy
from governance.workflow.services import credentials
from tests import factories


def test_it_lists_only_active_board_members(site, board):
    board[2].is_active = False
    board[2].save()

    members = site.get("/api/v1/board/").json()

    assert sorted(m["name"] for m in members) == sorted(m.printed_name for m in board[:2])
    assert set(members[0]) == {"name", "credentials", "specialties", "affiliation", "bio", "verified_at"}
    assert {s for m in members for s in m["specialties"]} == {"Cardiology", "General practice"}


def test_it_gives_each_topic_its_standard_review_interval(site, topic, django_assert_max_num_queries):
    lungs = factories.TopicFactory(slug="lungs", name="Lungs")
    factories.TopicFactory(slug="skin", name="Skin")
    factories.ReviewPolicyFactory(topic=None, review_interval_days=400)
    factories.ReviewPolicyFactory(topic=lungs, review_interval_days=180)
    factories.ReviewPolicyFactory(topic=lungs, risk_tier="high", review_interval_days=90)

    with django_assert_max_num_queries(3):
        topics = site.get("/api/v1/topics/").json()

    assert topics == [
        {"slug": "heart-health", "name": "Heart health", "review_interval_days": 400},
        {"slug": "lungs", "name": "Lungs", "review_interval_days": 180},
        {"slug": "skin", "name": "Skin", "review_interval_days": 400},
    ]


def test_it_falls_back_to_a_year_without_any_policy(site, topic):
    assert site.get("/api/v1/topics/").json()[0]["review_interval_days"] == 365


def test_it_serves_the_policy_in_effect(site, db):
    now = timezone.now()
    EditorialPolicy.objects.create(version="1.0", effective_at=now - dt.timedelta(days=30),
                                   body_markdown="Old", body_html="<p>Old</p>")
    EditorialPolicy.objects.create(version="1.1", effective_at=now - dt.timedelta(days=1),
                                   body_markdown="Current", body_html="<p>Current</p>")
    EditorialPolicy.objects.create(version="2.0", effective_at=now + dt.timedelta(days=10),
                                   body_markdown="Future", body_html="<p>Future</p>")

    policy = site.get("/api/v1/policy/").json()

    assert (policy["version"], policy["body_html"]) == ("1.1", "<p>Current</p>")
    assert policy["effective_at"]


def test_the_public_board_gives_each_members_verified_at(site, board, chief, django_assert_max_num_queries):
    change = credentials.credential_change_propose(actor=board[0].user, member=board[0], note="Renewed.",
                                                   changes={"licence_expires_on": dt.date(2030, 6, 30)})
    credentials.credential_change_verify(actor=chief, change=change, note="Checked.")
    board[0].refresh_from_db()
    factories.BoardMemberFactory(printed_name="Dr Unverified", credentials_verified_at=None,
                                 credentials_verified_by=None)

    with django_assert_max_num_queries(4):
        members = {m["name"]: m for m in site.get("/api/v1/board/").json()}

    assert members[board[0].printed_name]["verified_at"] == board[0].credentials_verified_at.isoformat()
    assert members["Dr Unverified"]["verified_at"] is None
