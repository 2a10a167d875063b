"""The review-date load report and its spread action: capacity respected, window respected,
nothing changed until confirmed, every applied change audited."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from articles.models import Article
from governance.models import AuditEvent, EditorialPolicy
from governance.reports import evidence, review_dates
from governance.reports.limits import ReportLimits, report_limits
from governance.workflow.exceptions import ContentInvalid, NotPermitted
from governance.workflow.services_reports import review_dates_spread
from tests.governance.reports.data import NOW, TODAY, editorial_policy, live_article

pytestmark = pytest.mark.django_db

WEEK = dt.date(2026, 8, 3)  # a Monday, nine weeks after TODAY
DUE = dt.date(2026, 8, 5)  # the Wednesday of that week


@pytest.fixture
def crowded(writer, topic):
    """Capacity 2 a week: five reviews due on one Wednesday, the week before already full, one
    review two weeks before."""
    editorial_policy(weekly_review_capacity=2, review_spread_window_days=28)
    crowd = [live_article(f"crowd-{i}", topic=topic, writer=writer, due=DUE) for i in range(5)]
    for i in range(2):
        live_article(f"full-{i}", topic=topic, writer=writer, due=WEEK - dt.timedelta(days=5))
    live_article("lonely", topic=topic, writer=writer, due=WEEK - dt.timedelta(days=12))
    return crowd


def _dues() -> dict[str, dt.date]:
    return dict(Article.objects.values_list("slug", "next_review_due"))


def test_it_counts_reviews_due_per_week_against_capacity(crowded, writer, topic, django_assert_max_num_queries):
    live_article("overdue", topic=topic, writer=writer, due=TODAY - dt.timedelta(days=3))
    live_article("beyond", topic=topic, writer=writer, due=TODAY + dt.timedelta(weeks=30))

    limits = report_limits()  # one query, the view's first
    with django_assert_max_num_queries(2):
        report = review_dates.review_load(today=TODAY, limits=limits)

    weeks = {w["week"]: w for w in report["weeks"]}
    assert len(weeks) == 26 and min(weeks) == TODAY
    assert weeks[WEEK]["n"] == 5 and weeks[WEEK]["over"] is True
    assert weeks[WEEK - dt.timedelta(weeks=1)]["n"] == 2
    assert weeks[WEEK - dt.timedelta(weeks=2)]["n"] == 1
    assert report["total"] == 8 and report["overdue"] == 1 and report["overloaded"] == 1


def test_it_counts_a_review_due_earlier_this_week_as_overdue_only(writer, topic):
    wednesday = TODAY + dt.timedelta(days=2)  # TODAY is a Monday: "today" here is not
    live_article("due-monday", topic=topic, writer=writer, due=TODAY)
    live_article("due-tuesday", topic=topic, writer=writer, due=TODAY + dt.timedelta(days=1))
    live_article("due-wednesday", topic=topic, writer=writer, due=wednesday)
    live_article("due-friday", topic=topic, writer=writer, due=TODAY + dt.timedelta(days=4))

    report = review_dates.review_load(today=wednesday)

    assert report["weeks"][0]["week"] == TODAY and report["weeks"][0]["n"] == 2  # Wednesday and Friday
    assert report["overdue"] == 2  # Monday and Tuesday, not also in week 0
    assert report["total"] + report["overdue"] == 4


def test_it_proposes_earlier_dates_that_keep_every_week_within_capacity(crowded):
    before = _dues()

    plan = review_dates.spread_plan(today=TODAY)

    assert len(plan.moves) == 3 and plan.unresolved == []
    assert max(plan.after.values()) <= 2
    assert sorted(m.to_date for m in plan.moves) == [DUE - dt.timedelta(weeks=3)] * 2 + [DUE - dt.timedelta(weeks=2)]
    for move in plan.moves:
        assert move.from_date == DUE
        assert move.to_date < move.from_date and (move.from_date - move.to_date).days <= 28
    assert _dues() == before  # a proposal changes nothing


def test_it_never_moves_a_review_outside_the_window(crowded):
    EditorialPolicy.objects.update(review_spread_window_days=7)  # only the week before, which is full

    plan = review_dates.spread_plan(today=TODAY)

    assert plan.moves == []
    assert len(plan.unresolved) == 3
    assert plan.after[WEEK] == 5


def test_it_never_moves_a_review_into_the_past(writer, topic):
    editorial_policy(weekly_review_capacity=1)
    for i in range(3):
        live_article(f"this-week-{i}", topic=topic, writer=writer, due=TODAY + dt.timedelta(days=8))

    plan = review_dates.spread_plan(today=TODAY)

    assert [m.to_date for m in plan.moves] == [TODAY + dt.timedelta(days=1)]
    assert len(plan.unresolved) == 1


def test_it_applies_the_confirmed_spread_in_one_audited_transaction(crowded, chief):
    plan = review_dates.spread_plan(today=TODAY)
    events_before = AuditEvent.objects.count()

    applied = review_dates_spread(actor=chief, digest=plan.digest, today=TODAY)

    moved = {m.slug: m.to_date for m in applied.moves}
    assert {slug: due for slug, due in _dues().items() if slug in moved} == moved
    assert max(review_dates.weekly_load(today=TODAY).values()) <= 2
    events = list(AuditEvent.objects.filter(seq__gt=events_before).order_by("seq"))
    assert [e.action for e in events] == ["article.review_date_spread"] * 3
    assert {e.article_slug for e in events} == set(moved)
    assert all(e.actor_username == "chief" and e.data["from"] == DUE.isoformat() for e in events)


def test_it_applies_nothing_when_the_dates_changed_since_the_preview(crowded, chief):
    plan = review_dates.spread_plan(today=TODAY)
    Article.objects.filter(slug="crowd-0").update(next_review_due=DUE + dt.timedelta(days=1))
    before, events_before = _dues(), AuditEvent.objects.count()

    with pytest.raises(ContentInvalid) as refused:
        review_dates_spread(actor=chief, digest=plan.digest, today=TODAY)

    assert "changed since the preview" in refused.value.errors["digest"][0]
    assert _dues() == before and AuditEvent.objects.count() == events_before


def test_it_lets_only_the_managing_editor_apply_a_spread(crowded, writer):
    with pytest.raises(NotPermitted):
        review_dates_spread(actor=writer, digest=review_dates.spread_plan(today=TODAY).digest, today=TODAY)


@time_machine.travel(NOW, tick=False)
def test_it_previews_then_applies_the_spread_from_the_reports_page(client, chief, crowded):
    client.force_login(chief)
    before = _dues()

    load_page = client.get(reverse("reports:load"))
    preview = client.get(reverse("reports:spread"))
    assert _dues() == before
    plan = review_dates.spread_plan()
    applied = client.post(reverse("reports:spread"), {"digest": plan.digest}, follow=True)

    assert b"Propose a spread" in load_page.content and b"<svg" in load_page.content
    assert preview.status_code == 200 and plan.digest.encode() in preview.content and b"crowd-4" in preview.content
    assert applied.status_code == 200 and b"3 review date(s) brought forward" in applied.content
    assert max(review_dates.weekly_load().values()) <= 2


@time_machine.travel(NOW, tick=False)
def test_it_explains_a_stale_preview_instead_of_applying_it(client, chief, crowded):
    client.force_login(chief)
    before = _dues()

    response = client.post(reverse("reports:spread"), {"digest": "not-the-previewed-plan"}, follow=True)

    assert b"changed since the preview" in response.content
    assert _dues() == before


@time_machine.travel(NOW, tick=False)
def test_it_exports_the_load_and_the_proposal(client, chief, crowded):
    client.force_login(chief)

    load_csv = client.get(reverse("reports:load"), {"export": "csv"})
    load_xlsx = client.get(reverse("reports:load"), {"export": "xlsx"})
    plan_csv = client.get(reverse("reports:spread"), {"export": "csv"})

    rows = list(csv.reader(io.StringIO(load_csv.content.decode())))
    assert rows[0] == ["Week starting", "Reviews due", "Capacity", "Over capacity"] and len(rows) == 27
    assert load_workbook(io.BytesIO(load_xlsx.content))["Review-date load"].max_row == 27
    assert len(list(csv.reader(io.StringIO(plan_csv.content.decode())))) == 4


@pytest.fixture
def anchor(writer, topic):
    return live_article("anchor", topic=topic, writer=writer, due=None)


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offsets=st.lists(st.integers(min_value=0, max_value=90), max_size=40),
       capacity=st.integers(min_value=1, max_value=4), window=st.integers(min_value=0, max_value=35))
def test_it_always_respects_window_capacity_and_due_dates(anchor, offsets, capacity, window):
    with transaction.atomic():
        Article.objects.bulk_create([
            Article(slug=f"h-{i}", title="h", topic_id=anchor.topic_id, created_by_id=anchor.created_by_id,
                    state="published", live_snapshot_id=anchor.live_snapshot_id,
                    next_review_due=TODAY + dt.timedelta(days=offset))
            for i, offset in enumerate(offsets)
        ])
        plan = review_dates.spread_plan(today=TODAY, capacity=capacity, window_days=window)
        transaction.set_rollback(True)

    for move in plan.moves:
        assert TODAY <= move.to_date < move.from_date
        assert (move.from_date - move.to_date).days <= window
        assert move.to_date.weekday() == move.from_date.weekday()
    assert sum(plan.after.values()) == sum(plan.before.values())
    unresolved_weeks = {review_dates.week_start(r["next_review_due"]) for r in plan.unresolved}
    for week, n in plan.after.items():
        assert n <= capacity or week in unresolved_weeks
        if plan.before[week] <= capacity and n > plan.before[week]:
            assert n <= capacity  # a week is only filled up to the capacity


# --- thresholds from the editorial policy ----------------------------------------------------------

def test_it_takes_the_thresholds_from_the_current_editorial_policy_version(django_assert_num_queries):
    assert report_limits() == ReportLimits(capacity=10, window_days=28, evidence_max_age_years=10)
    editorial_policy("2", weekly_review_capacity=5)
    current = editorial_policy("3", weekly_review_capacity=40, review_spread_window_days=14, evidence_max_age_years=7)
    EditorialPolicy.objects.filter(pk=current.pk).update(effective_at=timezone.now() - dt.timedelta(days=1))
    future = editorial_policy("4", weekly_review_capacity=99)
    EditorialPolicy.objects.filter(pk=future.pk).update(effective_at=timezone.now() + dt.timedelta(days=10))

    with django_assert_num_queries(1):
        limits = report_limits()

    assert (limits.capacity, limits.window_days, limits.evidence_max_age_years, limits.policy_version) == (40, 14, 7, "3")
    assert review_dates.spread_plan(today=TODAY).capacity == 40
    assert review_dates.review_load(today=TODAY)["capacity"] == 40
    assert evidence.evidence(today=TODAY)["years"] == 7


@pytest.mark.parametrize(("field", "value"), [("weekly_review_capacity", 0), ("review_spread_window_days", 6),
                                              ("evidence_max_age_years", 0)])
def test_it_refuses_a_threshold_that_is_not_positive(field, value, client, chief):
    with pytest.raises(ValidationError) as refused:
        editorial_policy(**{field: value})
    assert field in refused.value.message_dict
    client.force_login(chief)

    response = client.post(reverse("admin:governance_editorialpolicy_add"), {
        "version": "9", "effective_at_0": "2026-01-01", "effective_at_1": "09:00:00", "body_markdown": "Policy",
        field: value})

    assert response.status_code == 200 and field in response.context["adminform"].form.errors
    assert not EditorialPolicy.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database says so too
        EditorialPolicy.objects.create(version="x", effective_at=timezone.now(), body_markdown="", body_html="",
                                       **{field: value})


def test_it_shows_where_the_thresholds_come_from_with_a_link_to_change_them(client, chief, crowded):
    client.force_login(chief)
    admin_add = reverse("admin:governance_editorialpolicy_add")

    load_page = client.get(reverse("reports:load")).content.decode()
    evidence_page = client.get(reverse("reports:evidence")).content.decode()
    spread_page = client.get(reverse("reports:spread")).content.decode()
    add_form = client.get(admin_add).context["adminform"].form

    assert "capacity 2/week, from the editorial policy v3" in load_page and f'href="{admin_add}"' in load_page
    assert "evidence older than 10 years, from the editorial policy v3" in evidence_page
    assert "capacity 2/week and a window of 28 days, from the editorial policy v3" in spread_page
    assert add_form.initial["weekly_review_capacity"] == 2 and add_form.initial["body_markdown"] == "Policy"
    client.post(admin_add, {"version": "4", "effective_at_0": "2026-01-01", "effective_at_1": "09:00:00",
                            "body_markdown": "Policy", "weekly_review_capacity": 40, "review_spread_window_days": 28,
                            "evidence_max_age_years": 10})
    assert "capacity 40/week, from the editorial policy v4" in client.get(reverse("reports:load")).content.decode()


def test_it_says_when_no_editorial_policy_sets_the_thresholds(client, chief):
    client.force_login(chief)

    page = client.get(reverse("reports:load")).content.decode()

    assert "capacity 10/week, the default (no editorial policy published yet)" in page


def test_it_applies_a_spread_in_statements_that_do_not_grow_with_the_moves(writer, topic, chief):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.workflow import audit

    editorial_policy(weekly_review_capacity=2, review_spread_window_days=28)
    statements = []
    for week, crowd in ((0, 5), (8, 10)):  # 3 moves, then 8 (four earlier weeks with room for 2)
        for i in range(crowd):
            live_article(f"many-{week}-{i}", topic=topic, writer=writer, due=DUE + dt.timedelta(weeks=week))
        plan = review_dates.spread_plan(today=TODAY)
        with CaptureQueriesContext(connection) as queries:
            review_dates_spread(actor=chief, digest=plan.digest, today=TODAY)
        sql = [q["sql"] for q in queries.captured_queries]
        statements.append((len(plan.moves), len(sql), sum(q.startswith('UPDATE "articles_article"') for q in sql),
                           sum(q.startswith('INSERT INTO "governance_auditevent"') for q in sql),
                           sum(q.startswith('UPDATE "articles_publishedsnapshot"') for q in sql)))

    assert [(moves, updates, snapshots) for moves, _, updates, _, snapshots in statements] == [(3, 1, 1), (8, 1, 1)]
    assert statements[0][3] == statements[1][3] <= 1  # one INSERT of the events (PostgreSQL: one COPY)
    assert statements[1][1] <= statements[0][1]  # the first also looked up chief's groups and made the chain head
    assert AuditEvent.objects.filter(action="article.review_date_spread").count() == 11
    assert audit.verify().ok
    assert max(review_dates.weekly_load(today=TODAY).values()) <= 2


def test_it_recomputes_the_proposal_after_locking(crowded, chief, monkeypatch):
    """The plan is computed from the locked rows: the lock is taken before the plan."""
    order = []
    real_plan = review_dates.spread_plan
    real_queryset = review_dates._load_queryset

    def plan(**kwargs):
        order.append("plan")
        return real_plan(**kwargs)

    class Locking:
        def __init__(self, qs):
            self.qs = qs

        def select_for_update(self, **kwargs):
            order.append("lock")
            return self.qs.select_for_update(**kwargs)

        def __getattr__(self, name):
            return getattr(self.qs, name)

    monkeypatch.setattr(review_dates, "spread_plan", plan)
    monkeypatch.setattr(review_dates, "_load_queryset", lambda today: Locking(real_queryset(today)))
    digest = real_plan(today=TODAY).digest

    review_dates_spread(actor=chief, digest=digest, today=TODAY)

    assert order[:2] == ["lock", "plan"]


# --- a moved review date is served at once: the API, its ETag and stored texts, the page ---------

@pytest.fixture
def site(db):
    """A downstream site's client, with its API key."""
    from rest_framework.test import APIClient
    from rest_framework_api_key.models import APIKey

    _, key = APIKey.objects.create_key(name="mirror.example")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def crowded_live(make_article, drive, settings):
    """Three articles published through the services on one day (so due for review on one day, a
    year later), one with a patient variant; capacity 1 a week. The clock then stands 300 days on,
    the due date within the report's horizon."""
    from governance.workflow.services import VariantInput

    editorial_policy(weekly_review_capacity=1, review_spread_window_days=28)
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        articles = [drive(make_article(title=f"Crowded {i}", variants=[
            VariantInput("patient", "In plain words [@trial2021] [@nice2018].")] if i == 2 else []), "published")
            for i in range(3)]
        traveller.move_to(dt.datetime(2026, 12, 27, 9, 0, tzinfo=dt.UTC))
        yield [Article.objects.get(pk=a.pk) for a in articles]


def test_a_spread_review_date_is_served_at_once(crowded_live, chief, site, client):
    from governance.models import ChangeEvent, WebhookDelivery

    before = {a.slug: site.get(f"/api/v1/articles/{a.slug}/") for a in crowded_live}
    feed, outbox = ChangeEvent.objects.count(), WebhookDelivery.objects.count()
    plan = review_dates.spread_plan()
    assert len(plan.moves) == 2

    review_dates_spread(actor=chief, digest=plan.digest)

    listed = {item["slug"]: item for item in site.get("/api/v1/articles/").json()["results"]}
    for move in plan.moves:
        article = Article.objects.get(pk=move.article_id)
        snapshot = article.live_snapshot
        assert article.next_review_due == snapshot.next_review_due == move.to_date
        served = site.get(f"/api/v1/articles/{move.slug}/", HTTP_IF_NONE_MATCH=before[move.slug]["ETag"])
        assert served.status_code == 200 and served["ETag"] != before[move.slug]["ETag"]  # caches revalidate
        assert served.json()["next_review_due"] == move.to_date.isoformat()
        assert served.json()["review_status"] == "approved"
        assert listed[move.slug]["next_review_due"] == move.to_date.isoformat()
        for audience in snapshot.variant_documents:
            variant = site.get(f"/api/v1/articles/{move.slug}/", {"audience": audience}).json()
            assert variant["audience"] == audience and variant["next_review_due"] == move.to_date.isoformat()
        page = client.get(f"/articles/{move.slug}/").content.decode()
        assert f'<time datetime="{move.to_date:%Y-%m-%d}">' in page
    unmoved = next(a for a in crowded_live if a.pk not in {m.article_id for m in plan.moves})
    assert site.get(f"/api/v1/articles/{unmoved.slug}/", HTTP_IF_NONE_MATCH=before[unmoved.slug]["ETag"]
                    ).status_code == 304
    assert (ChangeEvent.objects.count(), WebhookDelivery.objects.count()) == (feed, outbox)  # no feed event


def test_the_moved_date_is_the_same_through_drf(crowded_live, chief, site, monkeypatch):
    from tests.api.test_stored_responses import _drf_only, _same

    plan = review_dates.spread_plan()
    review_dates_spread(actor=chief, digest=plan.digest)
    urls = [f"/api/v1/articles/{m.slug}/" for m in plan.moves] + ["/api/v1/articles/"]
    fast = [site.get(url) for url in urls]
    _drf_only(monkeypatch)
    for url, response in zip(urls, fast, strict=True):
        _same(response, site.get(url))
