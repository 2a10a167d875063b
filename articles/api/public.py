"""The public read API: only what was approved and published (PublishedSnapshots), never a
working revision.

Every article document is rendered once, at publication (governance.workflow.snapshots), down to the
response text (`PublishedSnapshot.rendered_*`), and so is each entry of the changes feed
(`ChangeEvent.entry_json`): serving is a lookup of stored text. The only thing computed per
request is `review_status` (with `review_reason`), from the snapshot's `next_review_due` and
`review_reason` columns read with the text (which is why both are part of the ETag), spliced into
the stored text before its closing brace.

The hot requests (a plain GET of a detail, a list page or a feed page, with a key that verifies
and within its rate) are answered on a fast path (`PublicView.fast_get`) before DRF's request,
negotiation and exception machinery, with one hand-written query and the same authentication,
throttle, bytes and headers. Anything else (another Accept or parameter, an error, a 404/410,
a snapshot stored before its texts were) goes through DRF as before, which serves the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import weakref
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import F, Q
from django.db.models.fields.json import KeyTransform
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date, parse_etags, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from articles import search
from articles.input_guards import CONTROL_IN_PARAMETER
from articles.models import Article, PublishedSnapshot, ReviewReason, ReviewStatus, Topic, api_json
from articles.models import review_status as status_of
from governance.models import ChangeEvent, ReviewPolicy
from governance.workflow.selectors import current_editorial_policy
from reviewers.models import BoardMember

from . import serializers as s
from .authentication import (
    KEY_STATE_ATTRIBUTE,
    AnonymousPublicRateThrottle,
    ApiKeyAuthentication,
    ApiKeyRateThrottle,
    PublicReadAccess,
    identify_key,
    key_usable_sql,
)
from .ranked import RankedPagination

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


# (review_status, review_reason): what is spliced into a stored document and into its ETag.
Review = tuple[str, str | None]


def review_status(next_review_due: dt.date | None, review_reason: str = "", today: dt.date | None = None) -> Review:
    """`under_review` (with its reason) while a re-review is open for another reason than the date,
    else `review_overdue` once the snapshot's next review date has passed (still served), else
    `approved` (articles.models.review_status), with the reason (None when there is none)."""
    today = today or timezone.localdate()
    return status_of(next_review_due, review_reason, today), review_reason or None


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
    # Off: every request goes through DRF (the tests compare both paths).
    fast_path = True
    _throttled_here = False
    _refused_wait: float | None = None
    # The id of the key the fast path identified (None: an anonymous reader); its state is read
    # by the hot query itself (`keyed_rows`).
    fast_key_id: str | None = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if self.fast_path and request.method == "GET":
            response = self.fast_get(request, *args, **kwargs)
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)

    def fast_get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse | None:
        """The response without DRF's machinery, or None to let DRF answer."""
        return None

    def fast_access(self, request: Any) -> bool:
        """What DRF's authentication, permission and throttles would let through, answered as they
        would (same key verification, same throttle classes and counters); False for anything they
        would refuse, which DRF then answers (401, 403, 429 with Retry-After). Once the key is
        identified the request has been counted by the throttles: DRF does not count it again (a
        refusal here is DRF's 429, with this Retry-After). Whether the key is revoked or expired
        is not known yet: the hot query reads it (`keyed_rows`)."""
        key = ApiKeyAuthentication.parser.get_from_authorization(request)
        site = None
        if key is not None:
            identified = identify_key(key.strip())
            if identified is None:
                return False
            site = identified.site
            self.fast_key_id = site.key_id
        elif not getattr(settings, "IMPRIMATUR_PUBLIC_API_ANONYMOUS", False):
            return False
        shim = SimpleNamespace(auth=site, META=request.META, headers=request.headers)
        self._throttled_here = True
        for throttle_class in self.throttle_classes:
            throttle = throttle_class()
            if not throttle.allow_request(shim, self):
                self._refused_wait = throttle.wait()
                return False
        return True

    def check_throttles(self, request: Any) -> None:
        # Not counted twice when the fast path handed over: its refusal (429) stands as counted.
        if self._refused_wait is not None:
            self.throttled(request, self._refused_wait)
        if not self._throttled_here:
            super().check_throttles(request)

    def finish(self, response: HttpResponse) -> HttpResponse:
        """The headers DRF's finalize_response adds (Allow; Vary: Accept with several renderers)."""
        for name, value in self.default_response_headers.items():
            if name == "Vary":
                patch_vary_headers(response, [value])
            else:
                response[name] = value
        return response


def _single_params(request: Any, allowed: frozenset[str]) -> dict[str, str] | None:
    """The query parameters when each is among `allowed` and given once, else None."""
    if not request.META.get("QUERY_STRING"):
        return {}
    params = request.GET
    if not set(params) <= allowed or any(len(params.getlist(name)) != 1 for name in params):
        return None
    return {name: params[name] for name in params}


def _small_int(value: str | None, default: int, high: int) -> int | None:
    """`value` as DRF's IntegerField(min_value=1, max_value=high) would read it, when it is plain
    ASCII digits within range; None otherwise (DRF then answers, 400 included)."""
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        return None
    number = int(value)
    return number if 1 <= number <= high else None


# Within the lengths DRF's path accepts (ArticleListQuerySerializer.cursor, ChangesQuerySerializer.since):
# anything longer goes to DRF, which answers 400.
_CURSOR_TEXT = re.compile(r"(?=.{1,500}\Z)[A-Za-z0-9+/_-]+={0,2}")
_SINCE_TEXT = re.compile(r"(?=.{1,200}\Z)[A-Za-z0-9+/_-]+={0,2}")
_STATUS_TAIL = {(status_, reason): f',"review_status":"{status_}","review_reason":{api_json(reason)}}}'
                for status_ in ReviewStatus.values for reason in (None, *ReviewReason.values)}


def with_review_status(text: str, review: Review) -> str:
    """A stored document or list item (JSON text without `review_status`) with it and
    `review_reason`, last."""
    return text[:-1] + _STATUS_TAIL[review]


def _today() -> str:
    return timezone.localdate().isoformat()


def _status_from_text(due: str | None, reason: str, today: str) -> Review:
    # ISO dates compare as text.
    return status_of(due, reason, today), reason or None


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# The hand-written queries' vendor-specific parts: PostgreSQL, and SQLite (development, tests).
# `{}` is a column, `%s` the key (an audience, or `general`).
_SQL = {
    "postgresql": {"epoch": "EXTRACT(EPOCH FROM s.published_at)::float8",
                   "date": "to_char(s.next_review_due, 'YYYY-MM-DD')", "key": "({} ->> %s)"},
    "sqlite": {"epoch": "CAST(strftime('%%s', s.published_at) AS REAL)", "date": "CAST(s.next_review_due AS TEXT)",
               "key": "json_extract({}, '$.' || %s)"},
}


# Per database session: the hot statements it holds (True), or may hold (None: an execution that
# prepared it failed, and whether its PREPARE ran is looked up in the session before the next use).
_PREPARED: weakref.WeakKeyDictionary[Any, dict[str, bool | None]] = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"(?<!%)%s")
_NO_SUCH_STATEMENT = "26000"  # invalid_sql_statement_name: "prepared statement … does not exist"
_ALREADY_PREPARED = "42P05"  # duplicate_prepared_statement


def _hot_query(name: str, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of one of the hot queries. On PostgreSQL each is a prepared statement of the connection
    (its PREPARE sent with its first EXECUTE: one round trip, one query): planning these small
    queries cost PostgreSQL more CPU than running them (bench/: ≈ 0.25 of 0.3 ms per request).
    `IMPRIMATUR_API_PREPARED_STATEMENTS = False` sends them plain (e.g. behind a PgBouncer in
    transaction mode, which does not keep a session's prepared statements).

    What this process believes the session holds is never more than the session holds: a failed
    PREPARE-and-EXECUTE may or may not have left the statement (psycopg refuses a NUL before
    sending anything; a bad value fails the EXECUTE after the PREPARE ran), so the next use asks
    `pg_prepared_statements` once instead of guessing. A failed request never makes the next fail."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or not getattr(settings, "IMPRIMATUR_API_PREPARED_STATEMENTS", True):
            cursor.execute(sql, params)
            return cursor.fetchall()
        statement = f"imprimatur_{name}"
        prepared = _PREPARED.setdefault(connection.connection, {})
        if name in prepared and prepared[name] is None:
            cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [statement])
            if cursor.fetchone() is None:
                del prepared[name]
            else:
                prepared[name] = True
        execute = f"EXECUTE {statement}" + (f"({', '.join(['%s'] * len(params))})" if params else "")
        if prepared.get(name):
            try:
                cursor.execute(execute, params)
                return cursor.fetchall()
            except DatabaseError as exc:
                # An EXECUTE never removes its statement: only "does not exist" says it is gone
                # (a pooler's DISCARD ALL, a DEALLOCATE); then it is prepared again below, at once
                # when no transaction was aborted by the failure.
                if _sqlstate(exc) != _NO_SUCH_STATEMENT:
                    raise
                del prepared[name]
                if connection.in_atomic_block:
                    raise
        numbers = iter(range(1, len(params) + 1))
        body = _PLACEHOLDER.sub(lambda _: f"${next(numbers)}", sql)
        try:
            cursor.execute(f"PREPARE {statement} AS {body}; {execute}", params)
        except DatabaseError as exc:
            # Prepared statements outlive a failure and a rollback: the PREPARE may have run.
            prepared[name] = True if _sqlstate(exc) == _ALREADY_PREPARED else None
            raise
        cursor.nextset()
        prepared[name] = True
        return cursor.fetchall()


def keyed_rows(request: Any, key_id: str | None, name: str, sql: str, params: list[Any], *,
               order: str | None = None) -> list[tuple[Any, ...]] | None:
    """The rows of the hot query `sql`, read in the same statement as whether the request's API key
    (`key_id`) is usable now (neither revoked nor expired): None when it is not, and the request
    remembers it for DRF's authentication, which then answers 401 without asking again. With no
    key (an anonymous reader, or DRF's path, which checked the key already) the state is not used.
    One statement either way: a one-row sub-select on the key's primary key, left-joined to the
    query's rows (`order`, their column to keep the order by)."""
    usable, now = key_usable_sql()
    statement = (f"SELECT u.usable, p.* FROM (SELECT {usable} AS usable) u LEFT JOIN ({sql}) p ON TRUE"
                 + (f" ORDER BY p.{order}" if order else ""))
    rows = _hot_query(name, statement, [key_id, now, *params])
    if key_id is not None:
        state = rows[0][0] is not None
        setattr(request, KEY_STATE_ATTRIBUTE, (key_id, state))
        if not state:
            return None
    # An empty result is one row of NULLs (the left join's): every real row's first column is set.
    return [row[1:] for row in rows if row[1] is not None]


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None) or getattr(exc, "sqlstate", None)


def _sql(part: str) -> str | None:
    """This database's SQL for `part`; None on another database (DRF's path then answers)."""
    vendor = _SQL.get(connection.vendor)
    return vendor[part] if vendor else None


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


def _legacy_list_items(slugs: list[str]) -> dict[str, str]:
    """List items of snapshots stored without their rendered texts, from their documents."""
    rows = Article.objects.filter(slug__in=slugs).values(
        "slug", **{f"doc_{name}": KeyTransform(name, "live_snapshot__document") for name in LIST_FIELDS})
    return {row["slug"]: api_json({"slug": row["slug"], **{name: row[f"doc_{name}"] for name in LIST_FIELDS}})
            for row in rows}


LIST_PARAMETERS = frozenset({"page_size", "cursor"})


def _list_sql(after: bool, limit: int) -> str:
    # The limit is written in the statement: with a parameter instead, PostgreSQL would plan each
    # execution anew (a generic plan for an unknown limit costs more than the custom one).
    return (f"SELECT a.slug, {_sql('date')}, s.rendered_list_item, s.review_reason "
            f"FROM {_table(Article)} a JOIN {_table(PublishedSnapshot)} s ON s.id = a.live_snapshot_id "
            + ("WHERE a.slug > %s " if after else "") + f"ORDER BY a.slug LIMIT {int(limit)}")


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
        params = validated(s.ArticleListQuerySerializer, request.query_params)
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
        # Only each snapshot's stored list item, never its documents: a page of 100 stays small.
        rows = qs.values("slug", "live_snapshot__next_review_due", "live_snapshot__review_reason",
                         "live_snapshot__rendered_list_item")
        paginator = RankedPagination() if q else ArticlePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        missing = [row["slug"] for row in page if not row["live_snapshot__rendered_list_item"]]
        legacy = _legacy_list_items(missing) if missing else {}
        items = [with_review_status(row["live_snapshot__rendered_list_item"] or legacy[row["slug"]],
                                    review_status(row["live_snapshot__next_review_due"],
                                                  row["live_snapshot__review_reason"], today)) for row in page]
        return _page_response(request, paginator.get_next_link(), paginator.get_previous_link(), items)

    def fast_get(self, request: Any) -> HttpResponse | None:
        """A page of the whole list (`page_size`, a forward `cursor`): one query on the stored items;
        the links are DRF's CursorPagination's, built the same way."""
        params = _single_params(request, LIST_PARAMETERS)
        if params is None:
            return None
        page_size = _small_int(params.get("page_size"), ArticlePagination.page_size, ArticlePagination.max_page_size)
        if page_size is None:
            return None
        paginator = ArticlePagination()
        position = None
        if "cursor" in params:
            if not _CURSOR_TEXT.fullmatch(params["cursor"]):
                return None
            try:
                cursor = paginator.decode_cursor(SimpleNamespace(query_params=params))
            except exceptions.APIException:
                return None
            if cursor.offset or cursor.reverse:
                return None
            position = cursor.position
        if _sql("date") is None or not self.fast_access(request):
            return None
        if position is None:
            rows = keyed_rows(request, self.fast_key_id, f"list_{page_size}", _list_sql(False, page_size + 1), [],
                              order="slug")
        else:
            rows = keyed_rows(request, self.fast_key_id, f"list_after_{page_size}", _list_sql(True, page_size + 1),
                              [position], order="slug")
        if rows is None:
            return None  # the key was revoked or has expired: DRF answers 401
        if any(not item for _, _, item, _ in rows):
            return None  # a snapshot stored without its texts: DRF renders it (the request is counted)
        page = rows[:page_size]
        paginator.base_url = request.build_absolute_uri()
        next_link = (paginator.encode_cursor(Cursor(offset=0, reverse=False, position=page[-1][0]))
                     if len(rows) > page_size else None)
        previous_link = (paginator.encode_cursor(Cursor(offset=0, reverse=True,
                                                        position=page[0][0] if page else position))
                         if position is not None else None)
        today = _today()
        items = [with_review_status(item, _status_from_text(due, reason, today)) for _, due, item, reason in page]
        return self.finish(_page_response(request, next_link, previous_link, items))


def _detail_etag(snapshot_etag: str, review: Review, jsonld: bool) -> str:
    # Strong: the frozen document's hash plus what is computed when serving. The JSON-LD
    # representation of the same URL (by Accept) is a different representation: its own tag.
    status_, reason = review
    return quote_etag(f"{snapshot_etag}-{status_}" + (f"-{reason}" if reason else "") + ("-ld" if jsonld else ""))


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
               "due": F("live_snapshot__next_review_due"), "reason": F("live_snapshot__review_reason")}
DETAIL_PARAMETERS = frozenset({"audience", "format"})
# (`format`, Accept) → JSON-LD or not, for the requests whose negotiation needs no DRF; any other
# combination (a 406 included) goes through DRF's content negotiation.
_NEGOTIATED = {
    **{(None, accept): False for accept in (None, "*/*", "application/json")},
    (None, "application/ld+json"): True,
    **{("json", accept): False for accept in (None, "*/*", "application/json")},
    **{("jsonld", accept): True for accept in (None, "*/*", "application/ld+json")},
}
_STORED_TEXT = {
    "head": "NULL",
    "json": "s.rendered_document",
    "variant": "COALESCE({variant}, s.rendered_document)",
    "jsonld": "COALESCE({jsonld}, {general})",
}


_REFUSED_KEY = ("refused",)


def _stored_row(request: Any, key_id: str | None, slug: str, kind: str,
                audience: str | None) -> tuple[Any, ...] | None:
    """(snapshot ETag, published_at as epoch seconds, next review date as ISO text, whether the
    texts are stored, the text to serve, the open re-review's reason) of the article's live
    snapshot; None if it has none; `_REFUSED_KEY` if the request's key (`key_id`) is revoked or
    expired (same statement)."""
    key = _sql("key")
    text = _STORED_TEXT[kind].format(variant=key.format("s.rendered_variants"), jsonld=key.format("s.rendered_jsonld"),
                                     general=key.format("s.rendered_jsonld").replace("%s", "'general'"))
    sql = (f"SELECT s.etag, {_sql('epoch')} AS published, {_sql('date')} AS due, s.rendered_document <> '' AS stored, "
           f"{text} AS served, s.review_reason AS reason "
           f"FROM {_table(Article)} a JOIN {_table(PublishedSnapshot)} s ON s.id = a.live_snapshot_id "
           "WHERE a.slug = %s")
    params = [slug] if kind in ("head", "json") else [audience or "general", slug]
    rows = keyed_rows(request, key_id, f"detail_{kind}", sql, params)
    if rows is None:
        return _REFUSED_KEY
    return rows[0] if rows else None


def stored_detail(request: Any, slug: str, *, audience: str | None, jsonld: bool,
                  key_id: str | None = None) -> HttpResponse | None:
    """The detail response from the live snapshot's stored texts (one query; a second only when an
    If-None-Match does not match), or None when the article has no live snapshot with stored
    texts (DRF's path then answers 404/410, or renders the documents) or when the request's key
    (`key_id`, from the fast path) turns out revoked or expired (DRF answers 401)."""
    if _sql("key") is None:
        return None
    if_none_match = request.headers.get("If-None-Match")
    today = _today()
    if if_none_match:
        # Revalidation: a few columns, the stored text left in the database.
        row = _stored_row(request, key_id, slug, "head", None)
        if row is None or row is _REFUSED_KEY or not row[3]:
            return None
        etag = _detail_etag(row[0], _status_from_text(row[2], row[5], today), jsonld)
        if _etag_matches(if_none_match, etag):
            return _detail_headers(HttpResponseNotModified(), etag, row[1])
    row = _stored_row(request, key_id, slug, "jsonld" if jsonld else "variant" if audience else "json", audience)
    if row is None or row is _REFUSED_KEY or not row[3] or row[4] is None:
        return None
    status_ = _status_from_text(row[2], row[5], today)
    if jsonld:
        response = HttpResponse(row[4].encode(), content_type=JSONLDRenderer.media_type)
    else:
        response = HttpResponse(with_review_status(row[4], status_).encode(), content_type=JSONRenderer.media_type)
    return _detail_headers(response, _detail_etag(row[0], status_, jsonld), row[1])


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
        audience = validated(s.DetailQuerySerializer, request.query_params).get("audience") if request.query_params else None
        jsonld = request.accepted_renderer.format == "jsonld"
        response = stored_detail(request, slug, audience=audience, jsonld=jsonld)
        if response is not None:
            return response
        # No live snapshot (404, 410), or one stored without its texts: rendered from its documents.
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match:
            row = Article.objects.filter(slug=slug).values(**DETAIL_HEAD).first()
            gone = _gone_or_missing(slug, row)
            if gone is not None:
                return gone
            etag = _detail_etag(row["snapshot_etag"], review_status(row["due"], row["reason"]), jsonld)
            if _etag_matches(if_none_match, etag):
                return _detail_headers(HttpResponseNotModified(), etag, row["published_at"].timestamp())
        column = "live_snapshot__jsonld" if jsonld else "live_snapshot__variant_documents"
        documents = {
            "general": KeyTransform("general", column) if jsonld else F("live_snapshot__document"),
            **({"variant": KeyTransform(audience or "general", column)} if audience else {}),
        }
        row = Article.objects.filter(slug=slug).values(**DETAIL_HEAD, **documents).first()
        gone = _gone_or_missing(slug, row)
        if gone is not None:
            return gone
        status_ = review_status(row["due"], row["reason"])
        document = dict(row.get("variant") or row["general"])
        if not jsonld:
            document["review_status"], document["review_reason"] = status_
        etag = _detail_etag(row["snapshot_etag"], status_, jsonld)
        return _detail_headers(Response(document), etag, row["published_at"].timestamp())

    def fast_get(self, request: Any, slug: str) -> HttpResponse | None:
        params = _single_params(request, DETAIL_PARAMETERS)
        if params is None:
            return None
        audience = params.get("audience")
        jsonld = _NEGOTIATED.get((params.get("format"), request.META.get("HTTP_ACCEPT")))
        if jsonld is None or (audience is not None and audience not in s.AUDIENCE_CHOICES):
            return None
        if not self.fast_access(request):
            return None
        response = stored_detail(request, slug, audience=audience, jsonld=jsonld, key_id=self.fast_key_id)
        return self.finish(response) if response is not None else None


# --- the changes feed ---------------------------------------------------------------------------

def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


# `seq` is a bigint: a cursor beyond it was never given out (and would overflow the query).
MAX_SEQ = 2**63 - 1


def decode_cursor(token: str) -> int:
    """The `seq` of a `next_cursor`; a 400 naming `since` for anything else (on both paths)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        label, _, number = raw.partition(":")
        if label != "seq" or not (number.isascii() and number.isdigit()) or len(number) > 19 or int(number) > MAX_SEQ:
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
        events = list(ChangeEvent.objects.filter(seq__gt=since).order_by("seq").values_list("seq", "entry_json")[:limit])
        return _changes_response(events, since)

    def fast_get(self, request: Any) -> HttpResponse | None:
        params = _single_params(request, CHANGES_PARAMETERS)
        if params is None:
            return None
        limit = _small_int(params.get("page_size"), 100, 1000)
        token = params.get("since")
        if limit is None or (token is not None and not _SINCE_TEXT.fullmatch(token)):
            return None
        try:
            since = decode_cursor(token) if token else 0
        except exceptions.ValidationError:
            return None
        if not self.fast_access(request):
            return None
        events = keyed_rows(request, self.fast_key_id, "changes", f"SELECT seq, entry_json FROM {_table(ChangeEvent)} "
                            "WHERE seq > %s ORDER BY seq LIMIT %s", [since, limit], order="seq")
        if events is None:
            return None  # the key was revoked or has expired: DRF answers 401
        return self.finish(_changes_response(events, since))


CHANGES_PARAMETERS = frozenset({"since", "page_size"})


def _legacy_entries(seqs: list[int]) -> dict[int, str]:
    """Entries written without their text, rendered from their columns."""
    return {event.seq: ChangeEvent.public_entry(type=event.type, slug=event.slug, at=event.at, revision=event.revision)
            for event in ChangeEvent.objects.filter(seq__in=seqs)}


def _changes_response(events: list[tuple[int, str]], since: int) -> HttpResponse:
    """A feed page from its entries' stored texts (`seq` spliced in first): the bytes DRF would
    render for `{"results": [...], "next_cursor": …}`."""
    missing = [seq for seq, entry in events if not entry]
    legacy = _legacy_entries(missing) if missing else {}
    results = ",".join(f'{{"seq":{seq},' + (entry or legacy[seq])[1:] for seq, entry in events)
    next_cursor = encode_cursor(events[-1][0] if events else since)
    body = '{"results":[' + results + '],"next_cursor":' + api_json(next_cursor) + "}"
    return HttpResponse(body.encode(), content_type=JSONRenderer.media_type)


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
             "verified_at": m.credentials_verified_at.isoformat() if m.credentials_verified_at else None}
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
