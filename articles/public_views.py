"""The public site around the article page: home, topics, search, the board and each member's
profile, robots.txt; and what every public page shares (the site's settings, canonical link and
Open Graph tags, ETag / 304). Reads go through `articles.public_site`; the pages serve stored,
approved data only, in a constant number of queries each."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import parse_etags, quote_etag
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_GET

from articles import images, public_site, search
from governance.workflow.site import site_settings
from reviewers.models import BoardMember

PUBLIC_CACHE_CONTROL = "public, max-age=60"
TEMPLATES = Path(__file__).resolve().parent / "templates" / "articles"


@cache
def _build_tag() -> str:
    """What changes a page's bytes besides its data, fixed for the life of the process: the public
    templates' sources and the stylesheet's address (hashed by the manifest storage in production)."""
    digest = hashlib.sha256()
    for path in sorted([TEMPLATES / "base.html", *(TEMPLATES / "public").glob("*.html")]):
        digest.update(path.read_bytes())
    digest.update(static("css/imprimatur.css").encode())
    digest.update(settings.SITE_URL.encode())
    return digest.hexdigest()[:16]


def page_etag(source: Any) -> str:
    """A strong ETag over everything a public page shows: its data (`source`), the site's settings,
    the language and the build."""
    payload = json.dumps([_build_tag(), get_language(), source], sort_keys=True, default=str, separators=(",", ":"))
    return quote_etag(hashlib.sha256(payload.encode()).hexdigest()[:32])


def _etag_matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    return bool(header) and any(tag.removeprefix("W/") == etag or tag == "*" for tag in parse_etags(header))


def public_page(request: HttpRequest, template: str, context: dict[str, Any], *, etag_source: Any,
                status: int = 200) -> HttpResponse:
    """Render a public page, or answer 304 when the reader's copy (If-None-Match) is current: the
    ETag is computed from the page's data before anything is rendered."""
    site = context["site"]
    etag = page_etag([etag_source, site.site_name, site.tagline, site.logo.name, site.disclaimer,
                      context.get("canonical_url")])
    if status == 200 and _etag_matches(request, etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = render(request, template, context, status=status)
    response["ETag"] = etag
    response["Cache-Control"] = PUBLIC_CACHE_CONTROL
    return response


def site_context(request: HttpRequest, *, title: str | None, description: str = "", og_type: str = "website",
                 canonical_path: str | None = None, page: int | None = None, site: Any = None) -> dict[str, Any]:
    """What every public page shows besides its content: the site's settings (one query, unless
    the page's own query read them: `site`), the canonical address and the Open Graph tags.
    `title` None: the site's name."""
    site = site if site is not None else site_settings()
    title = title or site.site_name
    path = canonical_path if canonical_path is not None else request.path
    canonical = settings.SITE_URL + path + (f"?page={page}" if page and page > 1 else "")
    return {
        "site": site, "canonical_url": canonical,
        "og": {"title": title, "description": description or site.tagline, "type": og_type, "url": canonical,
               "site_name": site.site_name,
               "image": settings.SITE_URL + reverse("articles:site_logo") if site.logo else ""},
        "page_title": title,
    }


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) < 7 else 1


# --- pages ----------------------------------------------------------------------------------------

@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Topics, the most recently reviewed articles, search, and the way to the board and the policy."""
    read = public_site.home_reads()
    context = site_context(request, title=None, canonical_path="/", site=read["site"])
    context.update(topics=read["topics"], recent=read["recent"])
    return public_page(request, "articles/public/home.html", context, etag_source=[read["topics"], read["recent"]])


@require_GET
def article_index(request: HttpRequest) -> HttpResponse:
    """/articles/: the library is browsed from its home page (topics, recent reviews, search)."""
    return redirect("articles:home", permanent=False)


@require_GET
def topic(request: HttpRequest, slug: str) -> HttpResponse:
    """The topic's live articles, newest review first, 20 a page."""
    read = public_site.topic_reads(slug, _page_number(request))
    topic_, page = read["topic"], read["page"]
    if topic_ is None:
        raise Http404("No such topic.")
    context = site_context(request, title=topic_["name"], description=topic_["description"], page=page.number,
                           site=read["site"])
    context.update(topic=topic_, page=page)
    return public_page(request, "articles/public/topic.html", context,
                       etag_source=[topic_, page.number, page.paginator.count, page.object_list])


@require_GET
def search_results(request: HttpRequest) -> HttpResponse:
    """Ranked full-text search over the live, approved text (articles.search), with highlighted
    snippets; an empty query shows the search box and the topics."""
    q = search.normalized_query(request.GET.get("q"))
    if q:
        page, topics, site = public_site.search_page(q, _page_number(request)), [], None
    else:
        page, read = None, public_site.search_topics()
        topics, site = read["topics"], read["site"]
    context = site_context(request, title=gettext("Search"), canonical_path="/search/", site=site)
    context.update(q=q, page=page, topics=topics)
    rows = [[row["slug"], row["approved_title"], str(row["snippet"])] for row in page.object_list] if page else []
    return public_page(request, "articles/public/search.html", context,
                       etag_source=[q, page.number if page else 0, page.paginator.count if page else 0, rows, topics])


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The active advisory board, each member linked to their profile."""
    read = public_site.board_reads()
    members = [_member_card(member) for member in read["members"]]
    context = site_context(request, title=gettext("Our medical advisory board"), site=read["site"])
    context.update(members=members)
    return public_page(request, "articles/public/board.html", context, etag_source=members)


def _member_card(member: BoardMember) -> dict[str, Any]:
    return {"slug": member.slug, "name": member.printed_name, "credentials": member.credentials,
            "specialties": member.specialty_names, "affiliation": member.affiliation,
            "photo": reverse("articles:board_photo", args=[member.slug]) + f"?v={_photo_version(member)}"
            if member.photo else ""}


def _photo_version(member: BoardMember) -> str:
    return hashlib.sha256(member.photo.name.encode()).hexdigest()[:10]


@require_GET
def board_profile(request: HttpRequest, slug: str) -> HttpResponse:
    """An active member's public profile: who they are, what they are qualified in, when their
    credentials were last checked, and the live articles they approved (last signature on each);
    schema.org Person JSON-LD. 404 for a member who left the board. One query."""
    read = public_site.profile_reads(slug)
    member = read["member"]
    if member is None:
        raise Http404("No such member of the board.")
    card = _member_card(member)
    facts = public_site.board_profile_facts(member)
    reviewed = read["reviewed"]
    context = site_context(request, title=member.printed_name,
                           description=gettext("%(name)s, %(credentials)s: medical reviewer") % {
                               "name": member.printed_name, "credentials": member.credentials},
                           og_type="profile", site=read["site"])
    url = context["canonical_url"]
    person = public_site.person_jsonld(member, url=url, specialties=card["specialties"],
                                       photo_url=settings.SITE_URL + card["photo"] if card["photo"] else None)
    context.update(member=card, bio=member.bio, facts=facts, reviewed=reviewed, jsonld=person)
    return public_page(request, "articles/public/board_profile.html", context,
                       etag_source=[card, member.bio, facts, reviewed, person])


def _stored_image(field_file: Any, etag_source: Iterable[str], request: HttpRequest) -> HttpResponse:
    etag = quote_etag(hashlib.sha256("|".join(etag_source).encode()).hexdigest()[:32])
    if _etag_matches(request, etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        content_type = images.content_type_of(field_file)
        field_file.open("rb")
        response = FileResponse(field_file, content_type=content_type)
    response["ETag"] = etag
    # The page links the image with a version of its stored name: a new upload is a new address.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def board_photo(request: HttpRequest, slug: str) -> HttpResponse:
    """An active member's photo, read through Django's storage API."""
    member = get_object_or_404(BoardMember.objects.filter(is_active=True).exclude(photo=""), slug=slug)
    return _stored_image(member.photo, [member.slug, member.photo.name], request)


@require_GET
def site_logo(request: HttpRequest) -> HttpResponse:
    site = site_settings()
    if not site.logo:
        raise Http404("No logo is set.")
    return _stored_image(site.logo, [site.logo.name], request)


ROBOTS = """User-agent: *
Disallow: /editor/
Disallow: /admin/
Disallow: /api/
Sitemap: {site}/sitemap.xml
"""


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Search engines may read the public site, not the editor, the admin or the API."""
    return HttpResponse(ROBOTS.format(site=settings.SITE_URL), content_type="text/plain; charset=utf-8")
