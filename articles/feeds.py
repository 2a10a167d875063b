"""Atom feeds (django.contrib.syndication) of articles newly published or re-reviewed: site-wide
(/feeds/articles/) and per topic (/topics/<slug>/feed/). An entry is a live article's current
publication; its id carries the snapshot, so a re-review that republishes the text is a new entry
for feed readers. Read from the live snapshots only (one query, two with the topic)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext

from articles.models import Article, Topic
from governance.workflow.site import site_settings

ENTRIES = 30


class ReviewedArticlesFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request: Any, slug: str | None = None) -> Topic | None:
        return get_object_or_404(Topic, slug=slug) if slug else None

    def title(self, topic: Topic | None) -> str:
        name = site_settings().site_name
        if topic is None:
            return gettext("%(site)s: newly published and re-reviewed articles") % {"site": name}
        return gettext("%(site)s: %(topic)s, newly published and re-reviewed") % {"site": name, "topic": topic.name}

    def link(self, topic: Topic | None) -> str:
        return reverse("articles:topic", args=[topic.slug]) if topic else reverse("articles:home")

    def subtitle(self, topic: Topic | None) -> str:
        return gettext("Articles approved by our medical advisory board, newest publication or review first.")

    def items(self, topic: Topic | None) -> list[dict[str, Any]]:
        articles = Article.objects.filter(live_snapshot__isnull=False)
        if topic is not None:
            articles = articles.filter(topic=topic)
        return list(articles.order_by("-live_snapshot__published_at", "slug").values(
            "slug", snapshot_id=F("live_snapshot_id"), title_text=F("live_snapshot__revision__title"),
            summary=F("live_snapshot__revision__summary"), published=F("live_snapshot__published_at"),
            first_published=F("first_published_at"), topic_name=F("topic__name"))[:ENTRIES])

    def item_title(self, item: dict[str, Any]) -> str:
        return item["title_text"]

    def item_description(self, item: dict[str, Any]) -> str:
        if item["first_published"] and item["published"] > item["first_published"]:
            label = gettext("Re-reviewed and republished")
        else:
            label = gettext("Newly published")
        return f"{label}. {item['summary']}"

    def item_link(self, item: dict[str, Any]) -> str:
        return reverse("articles:page", args=[item["slug"]])

    def item_guid(self, item: dict[str, Any]) -> str:
        return f"{settings.SITE_URL}{self.item_link(item)}#snapshot-{item['snapshot_id']}"

    item_guid_is_permalink = False

    def item_updateddate(self, item: dict[str, Any]) -> dt.datetime:
        return item["published"]

    def item_pubdate(self, item: dict[str, Any]) -> dt.datetime:
        return item["first_published"] or item["published"]

    def item_categories(self, item: dict[str, Any]) -> list[str]:
        return [item["topic_name"]]
