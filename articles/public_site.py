"""Reads of the public site (/, /topics/<slug>/, /search/, /board/, /board/<slug>/): only what
was approved and published, from the live snapshots and the signed reviews, in a constant number
of queries per page whatever the size of the catalogue: one for the home, topic, board and profile
pages, each a single statement of sub-selects (articles.public_statement), 304 included; search is
three (site, count, page) at any size. tests/articles/test_public_site_queries.py counts them.
Nothing here writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import F, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from articles import search
from articles.models import Article, Topic
from articles.public_article import SITE_FIELDS
from articles.public_statement import AsJSON, decoded, json_count, json_row, json_rows, moment, one_statement
from governance.models import SiteSettings
from reviewers.models import BoardMember, Review, Specialty

PAGE_SIZE = 20
RECENT = 8
EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)  # sorts a missing date last

# The columns an article card shows, all from the live snapshot (its approved revision's title and
# summary): never the working revision, which may be an unreviewed draft.
CARD = {"approved_title": "live_snapshot__revision__title", "approved_summary": "live_snapshot__revision__summary",
        "topic_name": "topic__name", "topic_slug": "topic__slug",
        "reviewed_at": "live_snapshot__last_reviewed_at", "live_published_at": "live_snapshot__published_at"}


def live_articles() -> QuerySet[Article]:
    return Article.objects.filter(live_snapshot__isnull=False)


def _cards(queryset: QuerySet[Article], *extra: str) -> QuerySet:
    return queryset.values("slug", *extra, **{name: F(path) for name, path in CARD.items()})


def _site_part() -> QuerySet:
    return json_row(SiteSettings.objects.filter(pk=SiteSettings.SINGLETON_PK), **{n: n for n in SITE_FIELDS})


def site_from(row: dict[str, Any] | None) -> SiteSettings:
    """The site's settings as a statement read them (never saved: the defaults until they are)."""
    return SiteSettings(pk=SiteSettings.SINGLETON_PK, **(row or {}))


def _card_rows(queryset: QuerySet[Article]) -> QuerySet:
    return json_rows(queryset, slug="slug", **CARD)


def _newest_review_first(rows: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    cards = [{**row, "reviewed_at": moment(row["reviewed_at"]), "live_published_at": moment(row["live_published_at"])}
             for row in rows or []]
    cards.sort(key=lambda card: card["slug"])
    return sorted(cards, key=lambda card: card["reviewed_at"] or EPOCH, reverse=True)


def _by_reviewed(queryset: QuerySet[Article]) -> QuerySet[Article]:
    return queryset.order_by("-live_snapshot__last_reviewed_at", "slug")


def home_reads(limit: int = RECENT) -> dict[str, Any]:
    """The home page in one query: `site`, `topics` (every topic with its number of live
    articles, those with none last, still listed) and `recent` (the live articles most recently
    reviewed: the last review of the text they serve)."""
    live_count = Subquery(json_count(live_articles().filter(topic=OuterRef("pk"))))
    read = one_statement(
        site=_site_part(),
        topics=json_rows(Topic.objects.all(), slug="slug", name="name", description="description", live=live_count),
        recent=_card_rows(Article.objects.filter(pk__in=_by_reviewed(live_articles()).values("pk")[:limit])))
    topics = sorted(read["topics"] or [], key=lambda topic: (-topic["live"], topic["name"]))
    return {"site": site_from(read["site"]), "topics": topics, "recent": _newest_review_first(read["recent"])}


class _Counted:
    """What a Paginator needs of a list whose length the statement counted."""

    def __init__(self, count: int) -> None:
        self.count_ = count

    def __len__(self) -> int:
        return self.count_


def topic_reads(slug: str, number: int) -> dict[str, Any]:
    """The topic page in one query: `site`, `topic` (a dict; None: no such topic) and `page` (of
    its live articles, newest review first). A page past the last is read again as the last (one
    more query, for that address only)."""
    articles = live_articles().filter(topic__slug=slug)
    offset = (number - 1) * PAGE_SIZE
    read = one_statement(
        site=_site_part(), count=json_count(articles),
        topic=json_row(Topic.objects.filter(slug=slug), name="name", slug="slug", description="description"),
        rows=_card_rows(Article.objects.filter(pk__in=_by_reviewed(articles).values("pk")[offset:offset + PAGE_SIZE])))
    paginator = Paginator(_Counted(read["count"]), PAGE_SIZE)
    if number > paginator.num_pages:
        return topic_reads(slug, paginator.num_pages)
    return {"site": site_from(read["site"]), "topic": read["topic"],
            "page": Page(_newest_review_first(read["rows"]), number, paginator)}


def search_page(q: str, page: Any) -> Page:
    """A page of the live articles matching `q`, best first, each with its highlighted snippet."""
    ranked = search.ranked(live_articles(), q, headline=True)
    result = Paginator(_cards(ranked, "rank", "headline"), PAGE_SIZE).get_page(page)
    result.object_list = [{**row, "snippet": search.snippet(row["headline"], q)} for row in result.object_list]
    return result


def search_topics() -> dict[str, Any]:
    """The empty search page's site settings and topics (with their live counts), in one query."""
    return {key: value for key, value in home_reads(limit=0).items() if key != "recent"}


# --- the board ----------------------------------------------------------------------------------

MEMBER_FIELDS = ("slug", "printed_name", "credentials", "affiliation", "photo")
PROFILE_FIELDS = ("bio", "licence_jurisdiction", "credentials_verified_at")


def _member_fields(*fields: str) -> dict[str, Any]:
    specialties = Subquery(json_rows(Specialty.objects.filter(members=OuterRef("pk")), name="name"))
    return {**{name: name for name in fields}, "specialties": AsJSON(specialties)}


def _member(row: dict[str, Any]) -> BoardMember:
    """An unsaved BoardMember of the statement's row, with `specialty_names` sorted."""
    specialties = decoded(row.pop("specialties")) or []
    verified_at = row.pop("credentials_verified_at", None)
    member = BoardMember(**row, credentials_verified_at=moment(verified_at))
    member.specialty_names = sorted(s["name"] for s in specialties)
    return member


def board_reads() -> dict[str, Any]:
    """The board page in one query: `site` and `members` (active, by printed name)."""
    active = BoardMember.objects.filter(is_active=True)
    read = one_statement(site=_site_part(), members=json_rows(active, **_member_fields(*MEMBER_FIELDS)))
    members = sorted((_member(row) for row in read["members"] or []), key=lambda m: (m.printed_name, m.slug))
    return {"site": site_from(read["site"]), "members": members}


def profile_reads(slug: str) -> dict[str, Any]:
    """A member's profile in one query: `site`, `member` (None: no active member of that slug)
    and `reviewed`: the live articles this member approved (a signed, unvoided approval of any of
    their revisions), each with the date of the member's last signature on it, latest first."""
    active = BoardMember.objects.filter(is_active=True, slug=slug)
    signed = Review.objects.filter(reviewer__in=active, decision=Review.Decision.APPROVED, voided_at__isnull=True)
    last_signed = Subquery(signed.filter(article=OuterRef("pk")).order_by().values("article")
                           .annotate(last=Max("signed_at")).values("last"))
    read = one_statement(
        site=_site_part(), member=json_row(active, **_member_fields(*MEMBER_FIELDS, *PROFILE_FIELDS)),
        reviewed=json_rows(live_articles().filter(pk__in=signed.values("article")), slug="slug",
                           approved_title="live_snapshot__revision__title", topic_name="topic__name",
                           last_signed_at=last_signed))
    reviewed = [{**row, "last_signed_at": moment(row["last_signed_at"])} for row in read["reviewed"] or []]
    reviewed.sort(key=lambda row: row["slug"])
    reviewed.sort(key=lambda row: row["last_signed_at"] or EPOCH, reverse=True)
    return {"site": site_from(read["site"]), "member": _member(read["member"]) if read["member"] else None,
            "reviewed": reviewed}


@dataclass(frozen=True)
class ProfileFacts:
    """What the profile says about the member's record."""

    credentials_verified_on: dt.date | None  # None: nobody has verified them yet


def board_profile_facts(member: BoardMember) -> ProfileFacts:
    """When someone other than the member last verified their credentials (licence, post-nominals,
    specialties: governance.workflow.services.credentials), in the site's time zone. No query."""
    at = member.credentials_verified_at
    return ProfileFacts(timezone.localdate(at) if at is not None else None)


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
