"""The public read API: only what was approved and published (PublishedSnapshots), never a
working revision.

Every article document is rendered once, at publication (governance.workflow.snapshots), down to the
response text (`PublishedSnapshot.rendered_*`), and so is each entry of the changes feed
(`ChangeEvent.entry_json`): serving is a lookup of stored text. The only thing computed per
request is `review_status` (with `review_reason`), from the snapshot's `next_review_due` and
`review_reason` columns read with the text (which is why both are part of the ETag), spliced into
the stored text before its closing brace.

One implementation per endpoint: DRF's view (`get`, with its schema) behind `PublicView`, where
the API key, the permission and the rate are checked once (articles.api.authentication). The
hot requests (a detail, a page of the whole list, a feed page) read their rows with one statement
(articles.api.statements) that also reads whether the request's key is still usable.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
from typing import Any

from django.db.models import F, Q
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.http import http_date, parse_etags, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.fields import SkipField
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from articles import search
from articles.input_guards import CONTROL_IN_PARAMETER
from articles.models import Article, PublishedSnapshot, ReviewReason, ReviewStatus, Topic, api_json, iso
from articles.models import review_status as status_of
from governance.models import ChangeEvent, ReviewPolicy
from governance.workflow.selectors import current_editorial_policy
from reviewers.models import BoardMember

from . import serializers as s
from .authentication import (
    AnonymousPublicRateThrottle,
    ApiKeyAuthentication,
    ApiKeyRateThrottle,
    PublicReadAccess,
    confirm_key,
)
from .ranked import RankedPagination
from .statements import keyed_rows, sql, table

CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"


class JSONLDRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


@functools.cache
def _query_fields(serializer_class: type[serializers.Serializer]) -> tuple[serializers.Field, ...]:
    # Bound once: a serializer deep-copies its declared fields on each instance, which cost more
    # than the rest of a hot request's Python. The fields keep no state between validations.
    return tuple(serializer_class().fields.values())


def query_parameters(serializer_class: type[serializers.Serializer], request: Any) -> dict[str, Any]:
    """The request's query parameters validated as `serializer_class(data=request.query_params)`
    validates them (each field's own parsing and messages; unknown parameters ignored); a bad
    value is a 400 naming the parameter."""
    if not request.query_params:
        return {}
    values, errors = {}, {}
    for field in _query_fields(serializer_class):
        try:
            values[field.field_name] = field.run_validation(field.get_value(request.query_params))
        except SkipField:
            pass
        except exceptions.ValidationError as exc:
            errors[field.field_name] = exc.detail
    if errors:
        raise exceptions.ValidationError(errors)
    return values


# (review_status, review_reason): what is spliced into a stored document and into its ETag.
Review = tuple[str, str | None]


def review_of(due: dt.date | str | None, reason: str, today: dt.date | str) -> Review:
    """`under_review` (with its reason) while a re-review is open for another reason than the date,
    else `review_overdue` once the snapshot's next review date has passed (still served), else
    `approved` (articles.models.review_status), with the reason (None when there is none). `due`
    and `today` are both dates or both ISO text (which compare as text)."""
    return status_of(due, reason, today), reason or None


_STATUS_TAIL = {(status_, reason): f',"review_status":"{status_}","review_reason":{api_json(reason)}}}'
                for status_ in ReviewStatus.values for reason in (None, *ReviewReason.values)}


def with_review_status(text: str, review: Review) -> str:
    """A stored document or list item (JSON text without `review_status`) with it and
    `review_reason`, last."""
    return text[:-1] + _STATUS_TAIL[review]


def _today() -> str:
    return timezone.localdate().isoformat()


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


# A public endpoint: a downstream site's API key (or no key, when anonymous reads are on), checked
# and counted against its rate by DRF's authentication, permission and throttle, once per request.
# The key's revocation and expiry are read by the endpoint's own statement where it has one
# (`statements.keyed_rows`), else in `finalize_response`, before the response leaves: whatever the
# endpoint answered, a key that is no longer usable gets 401. (A comment, not a docstring: the
# OpenAPI schema would take it as every endpoint's description.)
class PublicView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [PublicReadAccess]
    throttle_classes = [ApiKeyRateThrottle, AnonymousPublicRateThrottle]
    renderer_classes = [JSONRenderer]

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            confirm_key(request)
        except exceptions.AuthenticationFailed as exc:
            response = self.handle_exception(exc)
        return super().finalize_response(request, response, *args, **kwargs)


# --- articles -----------------------------------------------------------------------------------

class ArticlePagination(CursorPagination):
    # The slug is unique and never changes: cursors stay exact however the content changes.
    ordering = "slug"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request: Any):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({"cursor": ["Invalid cursor: use a `next` URL as given."]}) from exc
        # The position is text the client encoded: a slug never holds a control character, and a
        # NUL would reach the query (PostgreSQL cannot take one).
        if cursor is not None and cursor.position is not None and CONTROL_IN_PARAMETER.search(cursor.position):
            raise exceptions.ValidationError({"cursor": ["Invalid cursor: use a `next` URL as given."]})
        return cursor


def _weak_etag(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _page_response(request: Any, next_link: str | None, previous_link: str | None, items: list[str]) -> HttpResponse:
    """A list page from its items' texts: the bytes DRF would render for
    `{"next": …, "previous": …, "results": [...]}`, with a weak ETag over them (304 if it matches)."""
    body = ('{"next":' + api_json(next_link) + ',"previous":' + api_json(previous_link)
            + ',"results":[' + ",".join(items) + "]}").encode()
    etag = _weak_etag(body)
    if _etag_matches(request.headers.get("If-None-Match", ""), etag.removeprefix("W/")):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Vary"] = "Accept, Authorization"
    return response


# A page of the whole list: one statement on the stored items (the other filters go through the ORM).
LIST_PARAMETERS = frozenset({"page_size", "cursor"})


def _list_sql(after: bool, limit: int) -> str:
    # The limit is written in the statement: with a parameter instead, PostgreSQL would plan each
    # execution anew (a generic plan for an unknown limit costs more than the custom one).
    return (f"SELECT a.slug, {sql('date')}, s.rendered_list_item, s.review_reason "
            f"FROM {table(Article)} a JOIN {table(PublishedSnapshot)} s ON s.id = a.live_snapshot_id "
            + ("WHERE a.slug > %s " if after else "") + f"ORDER BY a.slug LIMIT {int(limit)}")


def _whole_list_page(request: Any, page_size: int, position: str | None) -> HttpResponse:
    """A forward page of the whole list (slug order, after `position`): one statement; the links
    are DRF's CursorPagination's, built the same way."""
    if position is None:
        rows = keyed_rows(request, f"list_{page_size}", _list_sql(False, page_size + 1), [], order="slug")
    else:
        rows = keyed_rows(request, f"list_after_{page_size}", _list_sql(True, page_size + 1), [position], order="slug")
    page = rows[:page_size]
    paginator = ArticlePagination()
    paginator.base_url = request.build_absolute_uri()
    next_link = (paginator.encode_cursor(Cursor(offset=0, reverse=False, position=page[-1][0]))
                 if len(rows) > page_size else None)
    previous_link = (paginator.encode_cursor(Cursor(offset=0, reverse=True, position=page[0][0] if page else position))
                     if position is not None else None)
    today = _today()
    items = [with_review_status(item, review_of(due, reason, today)) for _, due, item, reason in page]
    return _page_response(request, next_link, previous_link, items)


def _filtered_list_page(request: Any, params: dict[str, Any]) -> HttpResponse:
    """A page of the list filtered (topic, audience, updated_since, q, review_status) or paged
    backwards: the ORM on the same stored items, paginated by DRF."""
    today = timezone.localdate()
    qs = Article.objects.filter(live_snapshot__isnull=False)
    if "topic" in params:
        qs = qs.filter(topic__slug=params["topic"])
    if "audience" in params:
        qs = qs.filter(live_snapshot__variant_documents__has_key=params["audience"])
    if "updated_since" in params:
        qs = qs.filter(live_snapshot__published_at__gte=params["updated_since"])
    # `q`: the public site's ranked full-text search (articles.search), best match first.
    q = search.normalized_query(params.get("q"))
    if q:
        qs = search.ranked(qs, q)
    # As articles.models.review_status decides: an open re-review first, then the date.
    if params.get("review_status") == ReviewStatus.UNDER_REVIEW:
        qs = qs.exclude(live_snapshot__review_reason="")
    elif params.get("review_status") == ReviewStatus.REVIEW_OVERDUE:
        qs = qs.filter(live_snapshot__review_reason="", live_snapshot__next_review_due__lt=today)
    elif params.get("review_status") == ReviewStatus.APPROVED:
        qs = qs.filter(Q(live_snapshot__next_review_due__isnull=True) | Q(live_snapshot__next_review_due__gte=today),
                       live_snapshot__review_reason="")
    # Only each snapshot's stored list item, never its documents: a page of 100 stays small (the
    # slug is the cursor's position).
    rows = qs.values("slug", due=F("live_snapshot__next_review_due"), reason=F("live_snapshot__review_reason"),
                     item=F("live_snapshot__rendered_list_item"))
    paginator = RankedPagination() if q else ArticlePagination()
    page = paginator.paginate_queryset(rows, request)
    items = [with_review_status(row["item"], review_of(row["due"], row["reason"], today)) for row in page]
    return _page_response(request, paginator.get_next_link(), paginator.get_previous_link(), items)


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
            OpenApiParameter("q", str, description="Full-text search of the approved title, summary and body, best "
                             "match first (the site's /search/ ranking); pages then follow `next` as well."),
            OpenApiParameter("review_status", str, enum=s.REVIEW_STATUS_CHOICES, description=s.REVIEW_STATUS_HELP),
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
        params = query_parameters(s.ArticleListQuerySerializer, request)
        if params.keys() <= LIST_PARAMETERS:
            cursor = ArticlePagination().decode_cursor(request)
            if cursor is None or not (cursor.offset or cursor.reverse):
                page_size = params.get("page_size", ArticlePagination.page_size)
                return _whole_list_page(request, page_size, cursor.position if cursor else None)
        return _filtered_list_page(request, params)


def _detail_etag(snapshot_etag: str, review: Review, jsonld: bool) -> str:
    # Strong: the frozen document's hash plus what is computed when serving. The JSON-LD
    # representation of the same URL (by Accept) is a different representation: its own tag.
    status_, reason = review
    return quote_etag(f"{snapshot_etag}-{status_}" + (f"-{reason}" if reason else "") + ("-ld" if jsonld else ""))


def _gone_or_missing(slug: str) -> Response:
    """The answer for an article with no live snapshot: 410 once withdrawn or archived, else 404."""
    gone = Article.objects.filter(slug=slug, live_snapshot__isnull=True, withdrawn_at__isnull=False).values_list(
        "withdrawn_at", "withdrawn_reason").first()
    if gone is None:
        raise exceptions.NotFound("No published article has this slug.")
    return Response({"detail": "This article was withdrawn.", "code": "withdrawn", "slug": slug,
                     "withdrawn_at": gone[0].isoformat(), "reason": gone[1]}, status=status.HTTP_410_GONE)


_STORED_TEXT = {
    "head": "NULL",
    "json": "s.rendered_document",
    "variant": "COALESCE({variant}, s.rendered_document)",
    "jsonld": "COALESCE({jsonld}, {general})",
}


def _stored_row(request: Any, slug: str, kind: str, audience: str | None) -> tuple[Any, ...] | None:
    """(snapshot ETag, published_at as epoch seconds, next review date as ISO text, the text to
    serve, the open re-review's reason) of the article's live snapshot, None if it has none."""
    key = sql("key")
    text = _STORED_TEXT[kind].format(variant=key.format("s.rendered_variants"), jsonld=key.format("s.rendered_jsonld"),
                                     general=key.format("s.rendered_jsonld").replace("%s", "'general'"))
    query = (f"SELECT s.etag, {sql('epoch')} AS published, {sql('date')} AS due, {text} AS served, "
             "s.review_reason AS reason "
             f"FROM {table(Article)} a JOIN {table(PublishedSnapshot)} s ON s.id = a.live_snapshot_id "
             "WHERE a.slug = %s")
    params = [slug] if kind in ("head", "json") else [audience or "general", slug]
    rows = keyed_rows(request, f"detail_{kind}", query, params)
    return rows[0] if rows else None


def stored_detail(request: Any, slug: str, *, audience: str | None, jsonld: bool) -> HttpResponse | None:
    """The detail response from the live snapshot's stored texts (one statement; a second only
    when an If-None-Match does not match), or None when the article has no live snapshot."""
    if_none_match = request.headers.get("If-None-Match")
    today = _today()
    if if_none_match:
        # Revalidation: a few columns, the stored text left in the database.
        row = _stored_row(request, slug, "head", None)
        if row is None:
            return None
        etag = _detail_etag(row[0], review_of(row[2], row[4], today), jsonld)
        if _etag_matches(if_none_match, etag):
            return _detail_headers(HttpResponseNotModified(), etag, row[1])
    row = _stored_row(request, slug, "jsonld" if jsonld else "variant" if audience else "json", audience)
    if row is None:
        return None
    review = review_of(row[2], row[4], today)
    if jsonld:
        response = HttpResponse(row[3].encode(), content_type=JSONLDRenderer.media_type)
    else:
        response = HttpResponse(with_review_status(row[3], review).encode(), content_type=JSONRenderer.media_type)
    return _detail_headers(response, _detail_etag(row[0], review, jsonld), row[1])


def _detail_headers(response: Any, etag: str, published_at: float) -> Any:
    response["ETag"] = etag
    response["Last-Modified"] = http_date(published_at)
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = "Accept, Authorization"
    return response


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
        audience = query_parameters(s.DetailQuerySerializer, request).get("audience")
        jsonld = request.accepted_renderer.format == "jsonld"
        response = stored_detail(request, slug, audience=audience, jsonld=jsonld)
        return response if response is not None else _gone_or_missing(slug)


# --- the changes feed ---------------------------------------------------------------------------

def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


# `seq` is a bigint: a cursor beyond it was never given out (and would overflow the query).
MAX_SEQ = 2**63 - 1


def decode_cursor(token: str) -> int:
    """The `seq` of a `next_cursor`; a 400 naming `since` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        label, _, number = raw.partition(":")
        if label != "seq" or not (number.isascii() and number.isdigit()) or len(number) > 19 or int(number) > MAX_SEQ:
            raise ValueError(raw)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise exceptions.ValidationError({"since": ["Invalid cursor: pass a `next_cursor` as given."]}) from exc


def _changes_response(events: list[tuple[int, str]], since: int) -> HttpResponse:
    """A feed page from its entries' stored texts (`seq` spliced in first): the bytes DRF would
    render for `{"results": [...], "next_cursor": …}`."""
    results = ",".join(f'{{"seq":{seq},' + entry[1:] for seq, entry in events)
    next_cursor = encode_cursor(events[-1][0] if events else since)
    body = '{"results":[' + results + '],"next_cursor":' + api_json(next_cursor) + "}"
    return HttpResponse(body.encode(), content_type=JSONRenderer.media_type)


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
        params = query_parameters(s.ChangesQuerySerializer, request)
        since = decode_cursor(params["since"]) if params.get("since") else 0
        events = keyed_rows(request, "changes", f"SELECT seq, entry_json FROM {table(ChangeEvent)} "
                            "WHERE seq > %s ORDER BY seq LIMIT %s", [since, params.get("page_size", 100)], order="seq")
        return _changes_response(events, since)


# --- board, topics, policy ----------------------------------------------------------------------

class BoardView(PublicView):
    @extend_schema(operation_id="board_list", summary="The active advisory board",
                   description="`verified_at`: when someone other than the member last verified their credentials "
                               "(licence, post-nominals, specialties); null if never.",
                   parameters=[RETRY_AFTER],
                   responses={200: s.BoardMemberSerializer(many=True), **AUTH_ERRORS, **NOT_ACCEPTABLE}, **PUBLIC)
    def get(self, request: Any) -> Any:
        members = BoardMember.objects.filter(is_active=True).prefetch_related("specialties").order_by("printed_name")
        return Response([
            {"name": m.printed_name, "credentials": m.credentials,
             "specialties": [sp.name for sp in m.specialties.all()], "affiliation": m.affiliation, "bio": m.bio,
             "verified_at": iso(m.credentials_verified_at)}
            for m in members
        ])


def topic_review_intervals() -> dict[int | None, int]:
    """Review interval of each topic's standard-risk policy, keyed by topic id (None: the policy
    for all topics) — the resolution of governance.workflow.selectors.policy_for, in one query."""
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
