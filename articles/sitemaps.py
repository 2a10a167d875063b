"""sitemap.xml (django.contrib.sitemaps): the live articles with `lastmod` from their live
snapshot (when the text served was published), the topics, the board's profiles and the site's
own pages. Addresses are SITE_URL's, whatever host the request came to."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse

from articles.models import Article, Topic
from reviewers.models import BoardMember


def latest_publication() -> dt.datetime | None:
    """The index's <lastmod> of the articles and topics, in one aggregate (the framework's default
    reads every item to find it)."""
    return Article.objects.filter(live_snapshot__isnull=False).aggregate(
        latest=Max("live_snapshot__published_at"))["latest"]


class SiteUrlSitemap(Sitemap):
    """Absolute addresses on SITE_URL (the canonical host), not the request's."""

    def get_domain(self, site: Any = None) -> str:
        return urlsplit(settings.SITE_URL).netloc

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"


class ArticleSitemap(SiteUrlSitemap):
    changefreq = "monthly"
    priority = 0.8
    limit = 5000

    def items(self) -> Any:
        return (Article.objects.filter(live_snapshot__isnull=False).order_by("slug")
                .values("slug", "live_snapshot__published_at"))

    def location(self, item: dict[str, Any]) -> str:
        return reverse("articles:page", args=[item["slug"]])

    def lastmod(self, item: dict[str, Any]) -> dt.datetime:
        return item["live_snapshot__published_at"]

    def get_latest_lastmod(self) -> dt.datetime | None:
        return latest_publication()


class TopicSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self) -> Any:
        return (Topic.objects.order_by("slug")
                .annotate(lastmod=Max("articles__live_snapshot__published_at")).values("slug", "lastmod"))

    def location(self, item: dict[str, Any]) -> str:
        return reverse("articles:topic", args=[item["slug"]])

    def lastmod(self, item: dict[str, Any]) -> dt.datetime | None:
        return item["lastmod"]

    def get_latest_lastmod(self) -> dt.datetime | None:
        return latest_publication()


class BoardSitemap(SiteUrlSitemap):
    changefreq = "monthly"
    priority = 0.5

    def items(self) -> Any:
        return BoardMember.objects.filter(is_active=True).order_by("slug").values_list("slug", flat=True)

    def location(self, item: str) -> str:
        return reverse("articles:board_profile", args=[item])


class PagesSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self) -> list[str]:
        return ["articles:home", "articles:board", "articles:editorial_policy"]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS = {"pages": PagesSitemap, "articles": ArticleSitemap, "topics": TopicSitemap, "board": BoardSitemap}
