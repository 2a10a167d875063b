"""Changing an article's related articles after creation (`services.article_set_related`): who may,
what is refused and by which rule, the audit event, and the live snapshots that follow at once
(the article's own `related` list and, the relation being symmetrical, those of the articles
linked or unlinked), with their ETags and stored response texts."""

from __future__ import annotations

import json

import pytest

from articles.models import Article, PublishedSnapshot
from governance.models import AuditEvent, ChangeEvent, WebhookDelivery, WebhookEndpoint
from governance.workflow import services, snapshots
from governance.workflow.exceptions import NotPermitted, TransitionRefused
from tests.conftest import article_content

pytestmark = pytest.mark.django_db


def live(article: Article) -> PublishedSnapshot:
    return PublishedSnapshot.objects.get(pk=Article.objects.get(pk=article.pk).live_snapshot_id)


def related_slugs(snapshot: PublishedSnapshot) -> list[str]:
    return [entry["slug"] for entry in snapshot.document["related"]]


@pytest.fixture
def trio(make_article, drive):
    """A live article with a patient version, and two other live articles."""
    a = drive(make_article(title="Living with heart failure", variants=[
        services.VariantInput("patient", "Plain words [@trial2021] [@nice2018].")]), "published")
    b = drive(make_article(title="Heart failure medicines"), "published")
    c = drive(make_article(title="Salt and heart failure"), "published")
    return a, b, c


def test_it_links_related_articles_after_creation_and_rewrites_the_live_snapshot(trio, writer):
    a, b, c = trio
    before = live(a)

    services.article_set_related(article=a, actor=writer, related=[c, b])

    after = live(a)
    expected = [snapshots.related_entry(b.slug, "Heart failure medicines"),
                snapshots.related_entry(c.slug, "Salt and heart failure")]
    assert after.pk == before.pk  # rewritten in place: no new publication
    assert after.document["related"] == expected
    assert after.variant_documents["patient"]["related"] == expected
    assert after.etag != before.etag
    assert json.loads(after.rendered_document)["related"] == expected
    assert json.loads(after.rendered_variants["patient"])["related"] == expected
    assert set(a.related.all()) == {b, c}


def test_it_updates_both_ends_of_the_symmetrical_link(trio, writer):
    a, b, c = trio
    services.article_set_related(article=a, actor=writer, related=[b, c])
    etag_b = live(b).etag

    services.article_set_related(article=a, actor=writer, related=[c])

    assert list(b.related.all()) == [] and list(c.related.all()) == [a]
    assert related_slugs(live(b)) == []
    assert live(b).etag != etag_b
    assert related_slugs(live(c)) == [a.slug]
    assert related_slugs(live(a)) == [c.slug]


def test_it_audits_the_change_with_the_slugs_before_and_after(trio, writer):
    a, b, c = trio
    services.article_set_related(article=a, actor=writer, related=[b])

    services.article_set_related(article=a, actor=writer, related=[c], reason="Better match")

    event = AuditEvent.objects.filter(article_id=a.pk, action="article.set_related").latest("seq")
    assert event.actor == writer and event.reason == "Better match"
    assert event.data["before"] == [b.slug] and event.data["after"] == [c.slug]
    assert event.data["added"] == [c.slug] and event.data["removed"] == [b.slug]
    assert event.data["snapshots_rewritten"] == 3  # a's, b's (unlinked) and c's (linked)


def test_it_changes_nothing_and_audits_nothing_when_the_selection_is_the_same(trio, writer):
    a, b, _ = trio
    services.article_set_related(article=a, actor=writer, related=[b])
    etag, events = live(a).etag, AuditEvent.objects.count()

    services.article_set_related(article=a, actor=writer, related=[b])

    assert live(a).etag == etag and AuditEvent.objects.count() == events


def test_it_shows_only_the_approved_title_of_a_related_article_being_revised(trio, writer):
    a, b, _ = trio
    services.article_edit(article=b, actor=writer, content=article_content(title="DRAFT unreviewed title"))

    services.article_set_related(article=a, actor=writer, related=[b])

    assert live(a).document["related"] == [snapshots.related_entry(b.slug, "Heart failure medicines")]
    assert "DRAFT unreviewed title" not in live(a).rendered_document


def test_it_adds_no_feed_event_or_webhook_like_the_other_rewrites(trio, writer):
    a, b, _ = trio
    WebhookEndpoint.objects.create(name="site", url="https://hooks.example.org/imprimatur", secret="whsec_dGVzdA==",
                                   event_types=[])
    feed, outbox = ChangeEvent.objects.count(), WebhookDelivery.objects.count()

    services.article_set_related(article=a, actor=writer, related=[b])

    assert ChangeEvent.objects.count() == feed and WebhookDelivery.objects.count() == outbox


def test_it_links_from_a_draft_without_touching_any_snapshot(make_article, trio, writer):
    _, b, _ = trio
    draft = make_article(title="Heart failure and exercise")
    etag = live(b).etag

    services.article_set_related(article=draft, actor=writer, related=[b])

    assert list(draft.related.all()) == [b]
    assert live(b).etag == etag and related_slugs(live(b)) == []  # a draft is not listed anywhere
    event = AuditEvent.objects.get(article_id=draft.pk, action="article.set_related")
    assert event.data["snapshots_rewritten"] == 0


def test_it_refuses_to_relate_an_article_to_itself(trio, writer):
    a, b, _ = trio
    with pytest.raises(TransitionRefused) as refused:
        services.article_set_related(article=a, actor=writer, related=[b, a])
    assert refused.value.rule == "related_not_self"
    assert list(a.related.all()) == []
    assert not AuditEvent.objects.filter(action="article.set_related").exists()


@pytest.mark.parametrize("state", ["draft", "withdrawn", "archived"])
def test_it_refuses_to_link_an_article_that_is_not_live(trio, make_article, drive, writer, chief, state):
    a, b, _ = trio
    other = make_article(title="Heart failure and exercise")
    if state == "withdrawn":
        other = services.article_withdraw(article=drive(other, "published"), actor=chief, reason="Superseded")
    elif state == "archived":
        other = services.article_archive(article=other, actor=chief)
    etag = live(a).etag

    with pytest.raises(TransitionRefused) as refused:
        services.article_set_related(article=a, actor=writer, related=[b, other])

    assert refused.value.rule == "related_must_be_live"
    assert other.slug in refused.value.message
    assert list(a.related.all()) == [] and live(a).etag == etag


def test_creation_refuses_a_related_article_that_is_not_live_and_creates_nothing(trio, make_article, writer, topic):
    a, _, _ = trio
    draft = make_article(title="Heart failure and exercise")

    with pytest.raises(TransitionRefused) as refused:
        services.article_create(actor=writer, topic=topic, content=article_content(title="Heart failure and sleep"),
                                related=[a, draft])

    assert refused.value.rule == "related_must_be_live" and draft.slug in refused.value.message
    assert not Article.objects.filter(title="Heart failure and sleep").exists()
    created = services.article_create(actor=writer, topic=topic, content=article_content(title="Heart failure and sleep"),
                                      related=[a])
    assert list(created.related.all()) == [Article.objects.get(pk=a.pk)]


def test_it_keeps_a_link_whose_article_was_withdrawn_since(trio, writer, chief):
    a, b, c = trio
    services.article_set_related(article=a, actor=writer, related=[b])
    services.article_withdraw(article=b, actor=chief, reason="Superseded")

    services.article_set_related(article=a, actor=writer, related=[b, c])

    assert set(a.related.all()) == {b, c}
    assert related_slugs(live(a)) == [c.slug]  # the withdrawn one is linked but not shown


def test_it_refuses_a_writer_who_may_not_edit_the_article(trio, colleague):
    a, b, _ = trio
    with pytest.raises(NotPermitted) as refused:
        services.article_set_related(article=a, actor=colleague, related=[b])
    assert refused.value.rule == "may_edit"
    assert list(a.related.all()) == []


def test_it_lets_the_managing_editor_change_anyones_links(trio, chief):
    a, b, _ = trio
    services.article_set_related(article=a, actor=chief, related=[b])
    assert related_slugs(live(a)) == [b.slug]


def test_it_refuses_an_archived_article(make_article, trio, chief):
    _, b, _ = trio
    archived = services.article_archive(article=make_article(title="Old advice"), actor=chief)
    with pytest.raises(NotPermitted) as refused:
        services.article_set_related(article=archived, actor=chief, related=[b])
    assert refused.value.rule == "may_edit"


def test_it_refuses_a_stale_copy_of_the_article(trio, writer, chief):
    a, b, _ = trio
    stale = Article.objects.get(pk=a.pk)
    services.article_withdraw(article=a, actor=chief, reason="Superseded")

    with pytest.raises(TransitionRefused) as refused:
        services.article_set_related(article=stale, actor=writer, related=[b])
    assert refused.value.rule == "stale_state"
