"""Reads of the public site (/, /topics/<slug>/, /search/, /board/, /board/<slug>/): only what
was approved and published, from the live snapshots and the signed reviews, in a constant number
of queries per page whatever the size of the catalogue (tests/articles/test_public_site.py counts
them). Nothing here writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from articles import search
from articles.models import Article, Topic
from reviewers.models import BoardMember, Review

PAGE_SIZE = 20
RECENT = 8

# The columns an article card shows, all from the live snapshot (its approved revision's title and
# summary): never the working revision, which may be an unreviewed draft.
CARD = {"approved_title": "live_snapshot__revision__title", "approved_summary": "live_snapshot__revision__summary",
        "topic_name": "topic__name", "topic_slug": "topic__slug",
        "reviewed_at": "live_snapshot__last_reviewed_at", "live_published_at": "live_snapshot__published_at"}


def live_articles() -> QuerySet[Article]:
    return Article.objects.filter(live_snapshot__isnull=False)


def _cards(queryset: QuerySet[Article], *extra: str) -> QuerySet:
    return queryset.values("slug", *extra, **{name: F(path) for name, path in CARD.items()})



def topics_with_counts() -> list[dict[str, Any]]:
    """Every topic with its number of live articles (topics with none last, still listed)."""
    return list(Topic.objects.annotate(live=Count("articles", filter=Q(articles__live_snapshot__isnull=False)))
                .order_by("-live", "name").values("slug", "name", "description", "live"))


def recently_reviewed(limit: int = RECENT) -> list[dict[str, Any]]:
    """The live articles most recently reviewed (the last review of the text they serve)."""
    return list(_cards(live_articles()).order_by("-live_snapshot__last_reviewed_at", "slug")[:limit])


def topic_articles(topic: Topic, page: Any) -> Page:
    """A page of the topic's live articles, newest review first."""
    queryset = _cards(live_articles().filter(topic=topic)).order_by("-live_snapshot__last_reviewed_at", "slug")
    return Paginator(queryset, PAGE_SIZE).get_page(page)


def search_page(q: str, page: Any) -> Page:
    """A page of the live articles matching `q`, best first, each with its highlighted snippet."""
    ranked = search.ranked(live_articles(), q, headline=True)
    result = Paginator(_cards(ranked, "rank", "headline"), PAGE_SIZE).get_page(page)
    result.object_list = [{**row, "snippet": search.snippet(row["headline"], q)} for row in result.object_list]
    return result


# --- the board ----------------------------------------------------------------------------------

def active_members() -> QuerySet[BoardMember]:
    return BoardMember.objects.filter(is_active=True).prefetch_related("specialties").order_by("printed_name")


def reviewed_articles(member: BoardMember) -> list[dict[str, Any]]:
    """The live articles this member approved (a signed, unvoided approval of any of their
    revisions), each with the date of the member's last signature on it, latest first."""
    return list(Review.objects.filter(reviewer=member, decision=Review.Decision.APPROVED, voided_at__isnull=True,
                                      article__live_snapshot__isnull=False)
                .values(slug=F("article__slug"), approved_title=F("article__live_snapshot__revision__title"),
                        topic_name=F("article__topic__name"))
                .annotate(last_signed_at=Max("signed_at")).order_by("-last_signed_at", "slug"))


@dataclass(frozen=True)
class ProfileFacts:
    """What the profile says about the member's record."""

    credentials_verified_on: dt.date | None  # None: nobody has verified them yet


def board_profile_facts(member: BoardMember) -> ProfileFacts:
    """When someone other than the member last verified their credentials (licence, post-nominals,
    specialties: governance.workflow.services.credentials), in the site's time zone. No query."""
    at = member.credentials_verified_at
    return ProfileFacts(timezone.localdate(at) if at is not None else None)


def reviewer_profiles(revision_id: int) -> dict[str, str]:
    """The signed name → profile slug of the active board members who approved this revision (the
    names a live snapshot lists under "Medically reviewed by")."""
    rows = (Review.objects.filter(revision_id=revision_id, decision=Review.Decision.APPROVED, voided_at__isnull=True,
                                  reviewer__is_active=True)
            .values_list("signed_name", "reviewer__slug"))
    return dict(rows)


def person_jsonld(member: BoardMember, *, url: str, photo_url: str | None,
                  specialties: list[str]) -> dict[str, Any]:
    """schema.org Person for a board member's profile: credentials (post-nominals and the licence's
    issuing body as `hasCredential`), specialties as `knowsAbout`."""
    credentials: list[dict[str, Any]] = [
        {"@type": "EducationalOccupationalCredential", "credentialCategory": "qualification", "name": name.strip()}
        for name in member.credentials.split(",") if name.strip()]
    if member.licence_jurisdiction:
        credentials.append({"@type": "EducationalOccupationalCredential", "credentialCategory": "licence",
                            "name": "Licence to practise medicine",
                            "recognizedBy": {"@type": "Organization", "name": member.licence_jurisdiction}})
    person: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Person", "@id": url, "url": url, "name": member.printed_name,
        "honorificSuffix": member.credentials, "description": member.bio or None,
        "hasCredential": credentials, "knowsAbout": specialties,
    }
    if member.affiliation:
        person["affiliation"] = {"@type": "Organization", "name": member.affiliation}
    if photo_url:
        person["image"] = photo_url
    return {key: value for key, value in person.items() if value is not None}


def iso_date(value: str | None) -> dt.date | None:
    parsed = parse_datetime(value) if value else None
    return parsed.date() if parsed else None
