import pytest

from governance.workflow import services
from governance.workflow.exceptions import NotPermitted, TransitionRefused


def test_it_publishes_an_approved_article_as_a_frozen_snapshot(make_article, drive):
    article = drive(make_article(), "published")

    snapshot = article.live_snapshot
    assert article.state == "published"
    assert snapshot.document["revision"] == article.current_revision.content_hash
    assert [r["number"] for r in snapshot.document["references"]] == [1, 2]
    assert [r["name"] for r in snapshot.document["reviewed_by"]] == [
        r.signed_name for r in article.reviews.order_by("signed_at")
    ]


def test_it_refuses_publishing_before_approval(make_article, drive, chief):
    article = drive(make_article(), "in_review")

    with pytest.raises(TransitionRefused) as refused:
        services.article_publish(article=article, actor=chief)

    assert refused.value.rule == "state_allows_transition"  # the state machine has no in_review → published


def test_it_refuses_publishing_by_a_writer(make_article, drive, writer):
    article = drive(make_article(), "approved")

    with pytest.raises(NotPermitted):
        services.article_publish(article=article, actor=writer)


def test_it_publishes_once_when_asked_twice(make_article, drive, chief):
    article = drive(make_article(), "approved")
    stale_copy = type(article).objects.get(pk=article.pk)
    services.article_publish(article=article, actor=chief)

    with pytest.raises(TransitionRefused) as refused:
        services.article_publish(article=stale_copy, actor=chief)

    assert refused.value.rule == "stale_state"
    assert article.snapshots.count() == 1
