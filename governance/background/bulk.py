"""Set-based writes for the background jobs: rows given as tuples, written in one statement.

On PostgreSQL the rows go through COPY (psycopg 3's `cursor.copy`), which takes hundreds of
thousands of rows a second; no model instance is built. Elsewhere (SQLite under `make run`) they
go through `bulk_create`, which is portable and fast enough at that scale. Both run inside the
caller's transaction, and COPY is passed through the connection's execute wrappers and recorded
in the connection's query log (as Django's debug cursor records any other statement), so it is
counted by CaptureQueriesContext and the query-count tests.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import F, JSONField, Lookup, Max, Model, Q

logger = logging.getLogger("django.db.backends")


class JSONText(str):
    """A value for a JSONField that is already its JSON text (written as is, not encoded again)."""


class _AnyOf(Lookup):
    """`lhs = ANY(%s::bigint[])`: one array parameter, and a plan linear in its length whatever
    the statistics say (an index scan, or a hashed array on a sequential scan), where
    `IN (SELECT unnest(…))` can become a nested loop when the table was just bulk-loaded."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs_sql} = ANY(%s::bigint[])", [*lhs_params, self.rhs]


def any_of(field: str, ids: Iterable[int]) -> Any:
    """A filter() argument: `field` is one of `ids` (many of them): one array parameter on
    PostgreSQL, `field__in` elsewhere."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return _AnyOf(F(field), ids)
    return Q(**{f"{field}__in": ids})


def any_of_sql(column: str, ids: Iterable[int]) -> tuple[str, list[Any]]:
    """`any_of` for raw SQL: (`column = ANY(%s::bigint[])`, [ids]) on PostgreSQL, one parameter
    however many ids (an `IN (%s, …)` list stops at 65,535 parameters); `IN (…)` elsewhere."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids)) or 'NULL'})", ids


def allocate_ids(model: type[Model], n: int) -> list[int]:
    """Primary keys for `n` new rows: from the table's sequence on PostgreSQL (safe with any
    number of concurrent writers); on SQLite after the current maximum (the caller's transaction
    has written already, so it holds SQLite's single write lock)."""
    if n <= 0:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [model._meta.db_table, model._meta.pk.column, n])
            return [row[0] for row in cursor.fetchall()]
    start = (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
    return list(range(start, start + n))


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (tuples of values for `fields`, by attname, e.g. "article_id") into `model`'s
    table; fields left out take the database default (the primary key) or must have none.
    JSONField values are Python data, or `JSONText`. Returns the number of rows written."""
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    json_at = [i for i, f in enumerate(model_fields) if isinstance(f, JSONField)]
    if connection.vendor != "postgresql":
        return _bulk_create(model, fields, json_at, rows)
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    sql = f"COPY {table} ({columns}) FROM STDIN"
    written = 0

    def copy(sql: str, params: Any, many: bool, context: dict[str, Any]) -> None:
        nonlocal written
        with context["cursor"].cursor.copy(sql) as pipe:
            write = pipe.write_row
            if json_at:
                for row in rows:
                    row = list(row)
                    for i in json_at:
                        if not isinstance(row[i], JSONText):
                            row[i] = json.dumps(row[i])
                    write(row)
                    written += 1
            else:
                for row in rows:
                    write(row)
                    written += 1

    with connection.cursor() as cursor:
        connection.validate_no_broken_transaction()
        started = time.monotonic()
        try:
            with connection.wrap_database_errors:
                cursor._execute_with_wrappers(sql, None, False, executor=copy)
        finally:
            _log_query(sql, time.monotonic() - started, written)
    return written


def _log_query(sql: str, duration: float, rows: int) -> None:
    """Record a COPY as Django's CursorDebugWrapper records a statement (it goes round that
    wrapper): in connection.queries_log when queries are logged (DEBUG, CaptureQueriesContext,
    django_assert_num_queries), and on the django.db.backends logger."""
    if connection.queries_logged:
        connection.queries_log.append({"sql": f"{sql} -- {rows} rows", "time": f"{duration:.3f}"})
    logger.debug("(%.3f) %s; rows=%s; alias=%s", duration, sql, rows, connection.alias,
                 extra={"duration": duration, "sql": sql, "params": None, "alias": connection.alias})


def _bulk_create(model: type[Model], fields: Sequence[str], json_at: list[int], rows: Iterable[Sequence[Any]]) -> int:
    objects = []
    for row in rows:
        values = dict(zip(fields, row, strict=True))
        for i in json_at:
            if isinstance(row[i], JSONText):
                values[fields[i]] = json.loads(row[i])
        objects.append(model(**values))
    model._default_manager.bulk_create(objects, batch_size=1000)
    return len(objects)
