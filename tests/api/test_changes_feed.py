import base64
import contextlib
import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.api import statements
from articles.models import Article
from governance.workflow import services
from tests.conftest import article_content


@contextlib.contextmanager
def rolled_back():
    """One hypothesis example's data, undone afterwards (inside the test's own transaction)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def replay(site, page_size: int = 3) -> dict[str, str]:
    """What a downstream site holds after following the feed from the start: {slug: revision}."""
    held: dict[str, str] = {}
    cursor = None
    while True:
        params = {"page_size": page_size, **({"since": cursor} if cursor else {})}
        response = site.get("/api/v1/changes/", params)
        assert response.status_code == 200, response.json()
        page = response.json()
        for event in page["results"]:
            if event["type"] in ("published", "updated"):
                held[event["slug"]] = event["revision"]
            elif event["type"] == "withdrawn":
                held.pop(event["slug"], None)
            else:
                assert event["type"] == "review_due" and event["slug"] in held
        assert page["next_cursor"]
        if not page["results"]:
            return held
        cursor = page["next_cursor"]


def published_set() -> dict[str, str]:
    return {a.slug: a.live_snapshot.revision.content_hash
            for a in Article.objects.filter(live_snapshot__isnull=False).select_related("live_snapshot__revision")}


ACTIONS = st.lists(st.tuples(st.sampled_from(["publish", "withdraw", "archive", "flag"]), st.integers(0, 2)),
                   min_size=1, max_size=10)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_it_replays_the_feed_to_exactly_the_published_set(site, make_article, drive, writer, chief, actions):
    with rolled_back():
        articles: dict[int, Article] = {}
        edits = 0
        for action, slot in actions:
            article = articles.get(slot)
            if article is not None:
                article.refresh_from_db()
            if action == "publish":
                if article is None:
                    article = make_article(title=f"Article in slot {slot}")
                elif article.state == "archived":
                    continue
                else:  # a new revision of a live, withdrawn or due article: `updated` or `published` again
                    edits += 1
                    article = services.article_edit(article=article, actor=writer, change_note="Update",
                                                    content=article_content(summary=f"Edit {edits}"))
                articles[slot] = drive(article, "published")
            elif article is None:
                continue
            elif action == "withdraw" and article.state in ("published", "review_due"):
                services.article_withdraw(article=article, actor=chief, reason="Out of date")
            elif action == "archive" and article.state != "archived":
                services.article_archive(article=article, actor=chief, reason="Retired")
            elif action == "flag":
                services.bulk.flag_articles([article.pk], reason="review interval elapsed")
                article.refresh_from_db()

        assert replay(site) == published_set()
        listed = {item["slug"]: item for item in site.get("/api/v1/articles/").json()["results"]}
        assert set(listed) == set(published_set())


def test_it_starts_at_the_beginning_and_reports_caught_up(site, make_article, drive):
    article = drive(make_article(), "published")

    first = site.get("/api/v1/changes/").json()
    caught_up = site.get("/api/v1/changes/", {"since": first["next_cursor"]}).json()

    assert [(e["type"], e["slug"], e["revision"]) for e in first["results"]] == [
        ("published", article.slug, article.current_revision.content_hash)]
    assert set(first["results"][0]) >= {"seq", "type", "slug", "at", "revision"}
    assert caught_up["results"] == []
    assert caught_up["next_cursor"] == first["next_cursor"]


def test_it_refuses_a_forged_cursor(site, db):
    for since in ("garbage", "c2VxOi0x", "%%%"):
        response = site.get("/api/v1/changes/", {"since": since})
        assert response.status_code == 400
        assert "since" in response.json()["errors"]


def test_it_reads_the_feed_in_constant_queries(site, make_article, drive, chief, django_assert_max_num_queries):
    for i in range(4):
        article = drive(make_article(title=f"Feed article {i}"), "published")
        if i % 2:
            services.article_withdraw(article=article, actor=chief, reason="Superseded")

    with django_assert_max_num_queries(3):
        page = site.get("/api/v1/changes/", {"page_size": 1000}).json()

    assert [e["type"] for e in page["results"]].count("withdrawn") == 2
    assert [e["seq"] for e in page["results"]] == sorted(e["seq"] for e in page["results"])


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_it_refuses_a_cursor_beyond_a_bigint(site, make_article, drive):
    drive(make_article(), "published")
    for since in (_cursor("seq:99999999999999999999"), _cursor(f"seq:{2**63}"), _cursor("seq:\u00b2"),
                  _cursor("seq:" + "0" * 30 + "1")):
        response = site.get("/api/v1/changes/", {"since": since})
        assert response.status_code == 400, since
        assert "since" in response.json()["errors"]
    assert site.get("/api/v1/changes/", {"since": _cursor(f"seq:{2**63 - 1}")}).json()["results"] == []
    assert len(site.get("/api/v1/changes/").json()["results"]) == 1  # the connection still answers


def test_it_refuses_a_since_longer_than_a_cursor_can_be(site, db):
    since = _cursor("seq:" + "0" * 150 + "1")  # a valid cursor's text, 208 characters: over the 200 allowed
    assert len(since) > 200

    response = site.get("/api/v1/changes/", {"since": since})

    assert response.status_code == 400 and "since" in response.json()["errors"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_it_keeps_a_statement_prepared_when_its_first_execute_fails(db):
    name = f"probe_{uuid.uuid4().hex[:8]}"
    with pytest.raises(DatabaseError), transaction.atomic():
        statements.hot_query(name, "SELECT %s::bigint + 1", ["not a number"])  # PREPARE ran, EXECUTE failed

    assert statements.hot_query(name, "SELECT %s::bigint + 1", [41]) == [(42,)]
