"""The public read API: only what was approved and published (PublishedSnapshots), never a
working revision.

Every article document is rendered once, at publication (governance.snapshots); serving is a
lookup of the stored JSON. The only thing computed per request is `review_status`, from the
snapshot's `next_review_due`, which is why it is part of the ETag.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import json
from typing import Any

from django.db import connection
from django.db.models import F, Q
from django.db.models.fields.json import KeyTransform
from django.http import HttpResponseNotModified
from django.utils import timezone
from django.utils.http import http_date, parse_etags, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from articles.models import Article, Topic
from governance.models import ChangeEvent, ReviewPolicy
from governance.selectors import current_editorial_policy
from reviewers.models import BoardMember

from . import serializers as s
from .authentication import AnonymousPublicRateThrottle, ApiKeyAuthentication, ApiKeyRateThrottle, PublicReadAccess

CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"
LIST_FIELDS = ("title", "summary", "topic", "audiences", "last_reviewed_at", "next_review_due", "published_at",
               "updated_at", "url")


class JSONLDRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """Validate query parameters (or a body); a bad value is a 400 naming the parameter."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def review_status(next_review_due: dt.date | None, today: dt.date | None = None) -> str:
    """`review_overdue` once the snapshot's next review date has passed (still served)."""
    today = today or timezone.localdate()
    return "review_overdue" if next_review_due is not None and next_review_due < today else "approved"


def _etag_matches(header: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored.
    candidates = parse_etags(header)
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


# --- schema fragments ---------------------------------------------------------------------------

AUTH_ERRORS = {
    401: OpenApiResponse(s.ErrorSerializer, description="Missing, unknown, revoked or expired API key."),
    429: OpenApiResponse(s.ThrottledSerializer, description="Rate limit exceeded; retry after `Retry-After` seconds."),
}
BAD_PARAMETER = {400: OpenApiResponse(s.FieldErrorSerializer, description="A query parameter is invalid (named).")}
NOT_ACCEPTABLE = {406: OpenApiResponse(s.ErrorSerializer, description="The Accept header asks for a format not served.")}
RETRY_AFTER = OpenApiParameter("Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[429],
                               description="Seconds to wait before retrying.")
PUBLIC = {"tags": ["public"]}


class PublicView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [PublicReadAccess]
    throttle_classes = [ApiKeyRateThrottle, AnonymousPublicRateThrottle]
    renderer_classes = [JSONRenderer]


# --- articles -----------------------------------------------------------------------------------

class ArticlePagination(CursorPagination):
    # The slug is unique and never changes: cursors stay exact however the content changes.
    ordering = "slug"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request: Any):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({"cursor": ["Invalid cursor: use a `next` URL as given."]}) from exc


def _weak_etag(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return 'W/"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


class ArticleListView(PublicView):
    @extend_schema(
        operation_id="articles_list",
        summary="Published articles",
        description="Every article with a live (approved and published) snapshot, whatever its working "
        "state, cursor-paginated by slug. Items come from the published snapshot. The response carries a weak "
        "`ETag`; send it back in `If-None-Match` to get 304.",
        parameters=[
            OpenApiParameter("topic", str, description="A topic slug."),
            OpenApiParameter("audience", str, enum=s.AUDIENCE_CHOICES,
                             description="Only articles with a reviewed variant for this audience."),
            OpenApiParameter("updated_since", OpenApiTypes.DATETIME,
                             description="ISO 8601; only articles published or updated since then."),
            OpenApiParameter("q", str, description="Search in titles and summaries."),
            OpenApiParameter("review_status", str, enum=s.REVIEW_STATUS_CHOICES),
            OpenApiParameter("page_size", int, description="1 to 100 (default 20)."),
            OpenApiParameter("cursor", str, description="Opaque; from a `next`/`previous` URL."),
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, description="A list ETag."),
            OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200, 304], description="Weak ETag."),
            RETRY_AFTER,
        ],
        responses={200: s.ArticlePageSerializer, 304: OpenApiResponse(description="Not modified (no body)."),
                   **BAD_PARAMETER, **AUTH_ERRORS, **NOT_ACCEPTABLE},
        **PUBLIC,
    )
    def get(self, request: Any) -> Any:
        params = validated(s.ArticleListQuerySerializer, request.query_params)
        today = timezone.localdate()
        qs = Article.objects.filter(live_snapshot__isnull=False)
        if "topic" in params:
            qs = qs.filter(topic__slug=params["topic"])
        if "audience" in params:
            qs = qs.filter(live_snapshot__variant_documents__has_key=params["audience"])
        if "updated_since" in params:
            qs = qs.filter(live_snapshot__published_at__gte=params["updated_since"])
        if params.get("q", "").strip():
            q = params["q"].strip()
            qs = qs.filter(Q(live_snapshot__revision__title__icontains=q)
                           | Q(live_snapshot__revision__summary__icontains=q))
        if params.get("review_status") == "review_overdue":
            qs = qs.filter(live_snapshot__next_review_due__lt=today)
        elif params.get("review_status") == "approved":
            qs = qs.filter(Q(live_snapshot__next_review_due__isnull=True) | Q(live_snapshot__next_review_due__gte=today))
        # Only the list fields of each stored document, never its body: a page of 100 stays small.
        rows = qs.values("slug", due=F("live_snapshot__next_review_due"),
                         **{f"doc_{name}": KeyTransform(name, "live_snapshot__document") for name in LIST_FIELDS})
        paginator = ArticlePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        results = []
        for row in page:
            item = {"slug": row["slug"], **{name: row[f"doc_{name}"] for name in LIST_FIELDS}}
            item["review_status"] = review_status(row["due"], today)
            results.append(item)
        body = {"next": paginator.get_next_link(), "previous": paginator.get_previous_link(), "results": results}
        etag = _weak_etag(body)
        if _etag_matches(request.headers.get("If-None-Match", ""), etag.removeprefix("W/")):
            response = HttpResponseNotModified()
        else:
            response = Response(body)
        response["ETag"] = etag
        response["Vary"] = "Accept, Authorization"
        return response


def _detail_etag(snapshot_etag: str, status_: str, jsonld: bool) -> str:
    # Strong: the frozen document's hash plus what is computed when serving. The JSON-LD
    # representation of the same URL (by Accept) is a different representation: its own tag.
    return quote_etag(f"{snapshot_etag}-{status_}" + ("-ld" if jsonld else ""))


def _gone_or_missing(slug: str, row: dict[str, Any] | None) -> Response | None:
    if row is None:
        raise exceptions.NotFound("No published article has this slug.")
    if row["snapshot_etag"] is not None:
        return None
    if row["gone_at"] is None:
        raise exceptions.NotFound("No published article has this slug.")
    return Response({"detail": "This article was withdrawn.", "code": "withdrawn", "slug": slug,
                     "withdrawn_at": row["gone_at"].isoformat(), "reason": row["gone_reason"]},
                    status=status.HTTP_410_GONE)


DETAIL_HEAD = {"gone_at": F("withdrawn_at"), "gone_reason": F("withdrawn_reason"),
               "snapshot_etag": F("live_snapshot__etag"), "published_at": F("live_snapshot__published_at"),
               "due": F("live_snapshot__next_review_due")}
_SLUG_PARAMETER = "\x1fslug\x1f"  # stands for the slug while compiling; no real slug contains it


@functools.cache
def _hot_lookup(with_document: bool) -> tuple[str, Any, dict[int, Any], list[str]]:
    """The two hot detail lookups (revalidation; the plain JSON document) differ per request only
    by the slug, yet compiling them with the ORM cost more CPU than running them (bench/: about
    1.4 ms of a 304's 3.8 ms). Their SQL and converters are compiled once per process."""
    fields = {**DETAIL_HEAD, **({"general": F("live_snapshot__document")} if with_document else {})}
    compiler = Article.objects.filter(slug=_SLUG_PARAMETER).order_by().values(**fields)[:1].query.get_compiler(
        connection=connection)
    sql, params = compiler.as_sql()
    if list(params) != [_SLUG_PARAMETER]:
        raise RuntimeError(f"unexpected parameters in the detail lookup: {params!r}")
    converters = compiler.get_converters([expression for expression, _, _ in compiler.select])
    return sql, compiler, converters, [alias for _, _, alias in compiler.select]


def _detail_row(slug: str, *, with_document: bool) -> dict[str, Any] | None:
    """`Article.objects.filter(slug=slug).values(**DETAIL_HEAD[, general=document]).first()`, precompiled."""
    sql, compiler, converters, names = _hot_lookup(with_document)
    with connection.cursor() as cursor:
        cursor.execute(sql, [slug])
        values = cursor.fetchone()
    if values is None:
        return None
    if converters:
        values = next(iter(compiler.apply_converters([values], converters)))
    return dict(zip(names, values, strict=True))


class ArticleDetailView(PublicView):
    renderer_classes = [JSONRenderer, JSONLDRenderer]

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code != status.HTTP_200_OK:
            # Errors (404, 410, 4xx) are plain JSON even when JSON-LD was asked for.
            response.accepted_renderer, response.accepted_media_type = JSONRenderer(), "application/json"
        return response

    @extend_schema(
        operation_id="articles_retrieve",
        summary="One published article",
        description="The published snapshot of the article (never a working revision). With "
        "`Accept: application/ld+json` or `?format=jsonld`: schema.org MedicalWebPage JSON-LD. A strong `ETag` "
        "(snapshot hash + review status) and `Last-Modified` come with every 200; `If-None-Match` with the "
        "current ETag answers 304 with no body.",
        parameters=[
            OpenApiParameter("slug", str, OpenApiParameter.PATH, pattern=r"^[-a-zA-Z0-9_]+$"),
            OpenApiParameter("audience", str, enum=s.AUDIENCE_CHOICES,
                             description="Serve the reviewed variant for this audience, falling back to the default "
                             "text; `audience` in the response says which was served."),
            OpenApiParameter("format", str, enum=["json", "jsonld"], description="`jsonld` for JSON-LD."),
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER,
                             description="The ETag of a copy you hold; 304 if it is current."),
            OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200, 304],
                             description="Strong ETag of the representation."),
            OpenApiParameter("Last-Modified", str, OpenApiParameter.HEADER, response=[200, 304],
                             description="When the served snapshot was published (HTTP date)."),
            OpenApiParameter("Cache-Control", str, OpenApiParameter.HEADER, response=[200, 304],
                             description=f"`{CACHE_CONTROL}`"),
            RETRY_AFTER,
        ],
        responses={
            (200, "application/json"): s.ArticleDetailSerializer,
            (200, "application/ld+json"): s.JsonLdSerializer,
            304: OpenApiResponse(description="Not modified (no body)."),
            404: OpenApiResponse(s.ErrorSerializer, description="Never published (or no such article)."),
            410: OpenApiResponse(s.GoneSerializer, description="Withdrawn or archived."),
            **BAD_PARAMETER, **AUTH_ERRORS, **NOT_ACCEPTABLE,
        },
        **PUBLIC,
    )
    def get(self, request: Any, slug: str) -> Any:
        # No query string (the hot case): nothing to validate, and no queryset built before it is needed.
        audience = validated(s.DetailQuerySerializer, request.query_params).get("audience") if request.query_params else None
        jsonld = request.accepted_renderer.format == "jsonld"
        head = DETAIL_HEAD
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match:
            # Revalidation: one query on a few columns, the stored JSON left in the database.
            row = _detail_row(slug, with_document=False)
            gone = _gone_or_missing(slug, row)
            if gone is not None:
                return gone
            etag = _detail_etag(row["snapshot_etag"], review_status(row["due"]), jsonld)
            if _etag_matches(if_none_match, etag):
                return self._headers(HttpResponseNotModified(), etag, row["published_at"])
        column = "live_snapshot__jsonld" if jsonld else None
        documents = (
            {"general": KeyTransform("general", column),
             **({"variant": KeyTransform(audience, column)} if audience else {})}
            if jsonld else
            {"general": F("live_snapshot__document"),
             **({"variant": KeyTransform(audience, "live_snapshot__variant_documents")} if audience else {})}
        )
        row = (_detail_row(slug, with_document=True) if not jsonld and not audience
               else Article.objects.filter(slug=slug).values(**head, **documents).first())
        gone = _gone_or_missing(slug, row)
        if gone is not None:
            return gone
        status_ = review_status(row["due"])
        document = dict(row.get("variant") or row["general"])
        if not jsonld:
            document["review_status"] = status_
        etag = _detail_etag(row["snapshot_etag"], status_, jsonld)
        return self._headers(Response(document), etag, row["published_at"])

    @staticmethod
    def _headers(response: Any, etag: str, published_at: dt.datetime) -> Any:
        response["ETag"] = etag
        response["Last-Modified"] = http_date(published_at.timestamp())
        response["Cache-Control"] = CACHE_CONTROL
        response["Vary"] = "Accept, Authorization"
        return response


# --- the changes feed ---------------------------------------------------------------------------

def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        label, _, number = raw.partition(":")
        if label != "seq" or not number.isdigit():
            raise ValueError(raw)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise exceptions.ValidationError({"since": ["Invalid cursor: pass a `next_cursor` as given."]}) from exc


class ChangesView(PublicView):
    @extend_schema(
        operation_id="changes_list",
        summary="The changes feed",
        description="Events in `seq` order: `published`, `updated`, `review_due`, `withdrawn` (a tombstone). "
        "Start without `since`, then pass each `next_cursor` back as `since`; empty `results` means caught up. "
        "Applying every event from the start yields exactly the published set.",
        parameters=[
            OpenApiParameter("since", str, description="An opaque `next_cursor`; omit to start at the beginning."),
            OpenApiParameter("page_size", int, description="1 to 1000 (default 100)."),
            RETRY_AFTER,
        ],
        responses={200: s.ChangesPageSerializer, **BAD_PARAMETER, **AUTH_ERRORS, **NOT_ACCEPTABLE},
        **PUBLIC,
    )
    def get(self, request: Any) -> Any:
        params = validated(s.ChangesQuerySerializer, request.query_params)
        since = decode_cursor(params["since"]) if params.get("since") else 0
        limit = params.get("page_size", 100)
        events = list(ChangeEvent.objects.filter(seq__gt=since).order_by("seq")
                      .values("seq", "type", "slug", "at", "revision")[:limit])
        results = [{**event, "at": event["at"].isoformat()} for event in events]
        next_seq = events[-1]["seq"] if events else since
        return Response({"results": results, "next_cursor": encode_cursor(next_seq)})


# --- board, topics, policy ----------------------------------------------------------------------

class BoardView(PublicView):
    @extend_schema(operation_id="board_list", summary="The active advisory board",
                   parameters=[RETRY_AFTER],
                   responses={200: s.BoardMemberSerializer(many=True), **AUTH_ERRORS, **NOT_ACCEPTABLE}, **PUBLIC)
    def get(self, request: Any) -> Any:
        members = BoardMember.objects.filter(is_active=True).prefetch_related("specialties").order_by("printed_name")
        return Response([
            {"name": m.printed_name, "credentials": m.credentials,
             "specialties": [sp.name for sp in m.specialties.all()], "affiliation": m.affiliation, "bio": m.bio}
            for m in members
        ])


def topic_review_intervals() -> dict[int | None, int]:
    """Review interval of each topic's standard-risk policy, keyed by topic id (None: the policy
    for all topics) — the resolution of governance.selectors.policy_for, in one query."""
    return dict(ReviewPolicy.objects.filter(risk_tier="standard").values_list("topic_id", "review_interval_days"))


class TopicsView(PublicView):
    @extend_schema(operation_id="topics_list", summary="Topics",
                   description="`review_interval_days` is the topic's standard-risk review interval.",
                   parameters=[RETRY_AFTER],
                   responses={200: s.TopicSerializer(many=True), **AUTH_ERRORS, **NOT_ACCEPTABLE}, **PUBLIC)
    def get(self, request: Any) -> Any:
        intervals = topic_review_intervals()
        default = intervals.get(None, 365)
        return Response([
            {"slug": t["slug"], "name": t["name"], "review_interval_days": intervals.get(t["id"], default)}
            for t in Topic.objects.order_by("slug").values("id", "slug", "name")
        ])


class PolicyView(PublicView):
    @extend_schema(operation_id="policy_retrieve", summary="The current editorial policy",
                   parameters=[RETRY_AFTER],
                   responses={200: s.EditorialPolicySerializer,
                              404: OpenApiResponse(s.ErrorSerializer, description="No policy in effect yet."),
                              **AUTH_ERRORS, **NOT_ACCEPTABLE}, **PUBLIC)
    def get(self, request: Any) -> Any:
        policy = current_editorial_policy()
        if policy is None:
            raise exceptions.NotFound("No editorial policy is in effect yet.")
        return Response({"version": policy.version, "effective_at": policy.effective_at.isoformat(),
                         "body_html": policy.body_html})
