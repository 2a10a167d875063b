"""One round trip per public page: each thing a page shows (the site's settings, a topic, a list of
cards, a count) is written as a queryset of one row and one JSON column, and `one_statement` runs
them all as the sub-selects of a single SELECT. Unlike a base table with annotations (the article
page's query, articles.public_article), a SELECT of sub-selects answers one row even when every part
finds nothing, so an empty library, an unknown topic or a member who left the board cost the same
one query as a full catalogue; lists are JSON arrays, so their length never adds a query.

The ORM builds and compiles every part (lookups, joins, quoting); only their composition into one
SELECT is written here, and the JSON comes back as text on SQLite, decoded by psycopg on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Func, JSONField, QuerySet, Value
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from articles.public_article import JSONArrayAgg


def one_statement(**parts: QuerySet) -> dict[str, Any]:
    """Run each part (a queryset of at most one row and one column) as a sub-select of one SELECT;
    a part that finds no row, or that cannot find any (an empty slice), is None."""
    compiled = [_compiled(part) for part in parts.values()]
    sql = "SELECT " + ", ".join(f"({part_sql})" for part_sql, _ in compiled)
    with connection.cursor() as cursor:
        cursor.execute(sql, [param for _, params in compiled for param in params])
        row = cursor.fetchone()
    return {name: decoded(value) for name, value in zip(parts, row, strict=True)}


def _compiled(part: QuerySet) -> tuple[str, tuple[Any, ...]]:
    try:
        return part.query.sql_with_params()
    except EmptyResultSet:  # the ORM knows without asking the database
        return "SELECT NULL", ()


def decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class AsJSON(Func):
    """A JSON value read from a sub-select, kept as JSON when nested in another: SQLite forgets that
    a sub-select's text is JSON (json() restores it); PostgreSQL's jsonb keeps its type."""

    function = "JSON"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return compiler.compile(self.source_expressions[0])


def json_rows(queryset: QuerySet, **fields: Any) -> QuerySet:
    """The queryset's rows as one JSON array of objects (`fields`: name → path or expression), in
    no promised order (callers sort); an empty set is None on SQLite and PostgreSQL alike."""
    return _whole(queryset).annotate(rows=JSONArrayAgg(JSONObject(**fields))).values("rows")


def json_count(queryset: QuerySet) -> QuerySet:
    return _whole(queryset).annotate(n=Count("pk")).values("n")


def json_row(queryset: QuerySet, **fields: Any) -> QuerySet:
    """The first row of the queryset as one JSON object (None when there is none)."""
    return queryset.values(row=JSONObject(**fields))[:1]


def _whole(queryset: QuerySet) -> QuerySet:
    # Grouped by a constant, which Django leaves out of GROUP BY: one aggregate over the whole set.
    return queryset.order_by().annotate(whole=Value(1)).values("whole")


def moment(value: str | None) -> dt.datetime | None:
    """A timestamp as JSON gives it (ISO with an offset on PostgreSQL; naive UTC text on SQLite)."""
    parsed = parse_datetime(value) if value else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed
