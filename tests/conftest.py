"""Personas and helpers shared by the whole suite.

Personas: `writer` (writes and owns drafts), `colleague` (another writer), `chief` (managing
editor), `board` (three credentialed board members with valid licences), `outsider` (a logged-in
user with no role). `drive(article, "published")` walks an article through the real services.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings

from governance.workflow import services
from governance.workflow.services import ArticleContent
from tests import factories
from tests.factories import PASSWORD
from tests.lookup_services import lookup_services  # noqa: F401 (a fixture: Crossref and NCBI on 127.0.0.1)

BODY = (
    "## What it is\n\nHeart failure means the heart cannot pump as well as the body needs "
    "[@trial2021]. Guidelines recommend four classes of medicine [@nice2018; @trial2021].\n"
)


# Hypothesis: in CI (CI set, as .ci/run does) every property test is derandomized, so a run is
# reproducible from the commit alone; locally it explores new examples each run.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def pytest_configure(config) -> None:
    """WhiteNoise serves STATIC_ROOT; the suite serves through the finders and never collects,
    so the directory may not exist yet (WhiteNoise then warns on every request, and a module that
    builds the WSGI app at import, as the schema fuzzing does, warns during collection)."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool((marker is not None and marker.kwargs.get("transaction")) or "transactional_db" in fixtures
                or "live_server" in fixtures)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """In any order (pytest-randomly's included), the transactional tests run after all the others,
    as Django's own runner orders them: each one flushes the tables at its end and its serialized
    rollback restores them only at the start of the next transactional test, so a plain test
    after it would find no content types or permissions (and Django's content-type cache would
    keep ids that no longer exist)."""
    items[:] = sorted(items, key=_transactional)  # stable: the order within each group is kept
    _check_markers(config, items)


def _check_markers(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)")
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or "transactional_db" in getattr(
            item, "fixturenames", ())
        serialized = (marker is not None and marker.kwargs.get("serialized_rollback")) or (
            "django_db_serialized_rollback" in getattr(item, "fixturenames", ()))
        if transactional and not serialized:
            # Which test runs after which decides otherwise whether the browser tests can restore
            # their database (a flush without it re-creates the content types under new ids).
            raise pytest.UsageError(f"{item.nodeid}: a transactional test needs serialized_rollback=True "
                                    "(or the live_db fixture)")
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Signing re-checks a password; PBKDF2's deliberate slowness only slows the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "http://testserver"
    # Pages render {% static %} without a collectstatic manifest (the suite never runs collectstatic).
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture(autouse=True)
def _no_outside_lookups(settings):
    # No test asks the real Crossref or NCBI: a closed loopback port unless `lookup_services`
    # points them at its server.
    settings.IMPRIMATUR_CROSSREF_URL = "http://127.0.0.1:9/crossref"
    settings.IMPRIMATUR_PUBMED_URL = "http://127.0.0.1:9/eutils"


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def writer(db):
    return factories.UserFactory(username="writer", groups=["Writers"])


@pytest.fixture
def colleague(db):
    return factories.UserFactory(username="colleague", groups=["Writers"])


@pytest.fixture
def chief(db):
    return factories.UserFactory(username="chief", groups=["Managing editors"], is_staff=True)


@pytest.fixture
def outsider(db):
    return factories.UserFactory(username="outsider")


@pytest.fixture
def topic(db):
    return factories.TopicFactory(slug="heart-health", name="Heart health")


@pytest.fixture
def board(db):
    cardiology = factories.SpecialtyFactory(slug="cardiology", name="Cardiology")
    general = factories.SpecialtyFactory(slug="general-practice", name="General practice")
    return [
        factories.BoardMemberFactory(user__username="reviewer1", user__is_staff=True, specialties=[cardiology]),
        factories.BoardMemberFactory(user__username="reviewer2", user__is_staff=True, specialties=[general]),
        factories.BoardMemberFactory(user__username="reviewer3", user__is_staff=True, specialties=[cardiology]),
    ]


def article_content(**overrides) -> ArticleContent:
    fields = {
        "title": "Living with heart failure",
        "summary": "What heart failure is and how it is treated.",
        "body_markdown": BODY,
        "references": [
            {"key": "trial2021", "kind": "research", "title": "SGLT2 inhibitors in heart failure",
             "authors": ["Smith J", "Okafor A"], "container": "N Engl J Med", "year": 2021,
             "doi": "10.1056/NEJMoa0000001", "pmid": "31535829"},
            {"key": "nice2018", "kind": "guideline", "title": "Chronic heart failure in adults",
             "authors": ["National Institute for Health and Care Excellence"], "container": "NICE",
             "year": 2018, "url": "https://www.nice.org.uk/guidance/ng106"},
        ],
    }
    fields.update(overrides)
    return ArticleContent(**fields)


@pytest.fixture
def make_article(writer, topic):
    def make(**overrides):
        actor = overrides.pop("actor", writer)
        topic_ = overrides.pop("topic", topic)
        risk_tier = overrides.pop("risk_tier", "standard")
        return services.article_create(actor=actor, topic=topic_, content=article_content(**overrides),
                                       risk_tier=risk_tier)

    return make


@pytest.fixture
def drive(writer, chief, board):
    """Walk an article through the real services up to `state`."""

    order = ["submitted", "in_review", "approved", "published", "review_due"]

    def to(article, state: str, *, reviewers=None):
        reviewers = reviewers or board[:2]
        if state == "draft":
            return article
        article = services.article_submit(article=article, actor=article.created_by)
        if state == "submitted":
            return article
        assignments = [services.assignment_create(article=article, actor=chief, reviewer=m) for m in reviewers]
        article = services.article_start_review(article=article, actor=chief)
        if state == "in_review":
            return article
        for assignment in assignments:
            services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                                   password=PASSWORD)
        article.refresh_from_db()
        if state == "approved":
            return article
        article = services.article_publish(article=article, actor=chief)
        if state == "published":
            return article
        if state == "review_due":  # as the review date's sweep flags it (its approvers asked to re-review)
            services.bulk.flag_articles([article.pk], reason="review interval elapsed")
            article.refresh_from_db()
            return article
        raise ValueError(f"drive() cannot reach {state!r}; known: {order}")

    return to


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def webhook_receiver(settings):
    """A real HTTP server on 127.0.0.1 recording webhook requests (private targets allowed)."""
    from tests.reliability.http_receiver import Receiver

    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = True
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def live_db(django_db_serialized_rollback, transactional_db):
    """A database whose commits are real (other threads and processes see them). Transactional
    tests flush the tables afterwards, which also drops the role groups a migration created: put
    them back. With a serialized rollback, as every transactional test here (see
    `pytest_collection_modifyitems`): a flush without one re-creates the content types under new
    ids, and the next serialized test (the browser tests) then fails restoring its own."""
    from django.contrib.auth.models import Group

    for name in ("Writers", "Managing editors"):
        Group.objects.get_or_create(name=name)


# --- the local calendar: date logic under UTC and a zone far from it, at the edges of the day ---

LOCAL_DAY = __import__("datetime").date(2026, 3, 12)
_EDGES = {"after-midnight": (0, 0, 30), "before-midnight": (23, 59, 30)}


@pytest.fixture(params=[(zone, edge) for zone in ("UTC", "Pacific/Auckland") for edge in _EDGES],
                ids=lambda p: f"{p[0]}-{p[1]}")
def local_day(request, settings):
    """Today is LOCAL_DAY (12 March 2026) in TIME_ZONE, UTC or Pacific/Auckland (13 hours ahead:
    the UTC date is a day behind just after local midnight), half a minute after its start or
    before its end; the clock stands still. Yields the local date."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import time_machine
    from django.utils import timezone

    zone, edge = request.param
    settings.TIME_ZONE = zone
    moment = dt.datetime.combine(LOCAL_DAY, dt.time(*_EDGES[edge]), tzinfo=ZoneInfo(zone))
    with time_machine.travel(moment, tick=False):
        assert timezone.localdate() == LOCAL_DAY
        yield LOCAL_DAY


@pytest.fixture
def frozen_clock():
    """The clock stopped ten seconds into a minute (just ahead of now): a fixed-window rate
    limit's requests all fall in one window, however slowly the test runs. List it first, so that
    what the other fixtures create is created at that moment too."""
    import datetime as dt

    import time_machine
    from django.utils import timezone

    moment = timezone.now().replace(second=10, microsecond=0) + dt.timedelta(minutes=1)
    with time_machine.travel(moment, tick=False) as traveller:
        yield traveller
