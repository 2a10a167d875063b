"""The public API's hot statements: one SQL statement per request, which also reads whether the
request's API key is still usable, sent as a prepared statement of the connection on PostgreSQL.

Planning these small queries cost PostgreSQL more CPU than running them (bench/: ≈ 0.25 of 0.3 ms
per request), hence the prepared statements; reading the key's state in the same statement
keeps a revocation effective on the very next request at no extra round trip
(articles.api.authentication). The statements themselves are written by the views
(articles.api.public); this module only runs them.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

from .authentication import key_to_confirm, key_usable_sql, settle_key

# The statements' vendor-specific parts: PostgreSQL, and SQLite (development, tests).
# `{}` is a column, `%s` the key (an audience, or `general`).
_SQL = {
    "postgresql": {"epoch": "EXTRACT(EPOCH FROM s.published_at)::float8",
                   "date": "to_char(s.next_review_due, 'YYYY-MM-DD')", "key": "({} ->> %s)"},
    "sqlite": {"epoch": "CAST(strftime('%%s', s.published_at) AS REAL)", "date": "CAST(s.next_review_due AS TEXT)",
               "key": "json_extract({}, '$.' || %s)"},
}


def sql(part: str) -> str:
    """This database's SQL for `part` (PostgreSQL or SQLite, the two the project runs on)."""
    return _SQL[connection.vendor][part]


def table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# Per database session: the hot statements it holds (True), or may hold (None: an execution that
# prepared it failed, and whether its PREPARE ran is looked up in the session before the next use).
_PREPARED: weakref.WeakKeyDictionary[Any, dict[str, bool | None]] = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"(?<!%)%s")
_NO_SUCH_STATEMENT = "26000"  # invalid_sql_statement_name: "prepared statement … does not exist"
_ALREADY_PREPARED = "42P05"  # duplicate_prepared_statement


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None) or getattr(exc, "sqlstate", None)


def hot_query(name: str, statement: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of one of the hot statements. On PostgreSQL each is a prepared statement of the
    connection (its PREPARE sent with its first EXECUTE: one round trip, one query).
    `IMPRIMATUR_API_PREPARED_STATEMENTS = False` sends them plain (e.g. behind a PgBouncer in
    transaction mode, which does not keep a session's prepared statements).

    What this process believes the session holds is never more than the session holds: a failed
    PREPARE-and-EXECUTE may or may not have left the statement (psycopg refuses a NUL before
    sending anything; a bad value fails the EXECUTE after the PREPARE ran), so the next use asks
    `pg_prepared_statements` once instead of guessing. A failed request never makes the next fail."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or not getattr(settings, "IMPRIMATUR_API_PREPARED_STATEMENTS", True):
            cursor.execute(statement, params)
            return cursor.fetchall()
        prepared_name = f"imprimatur_{name}"
        prepared = _PREPARED.setdefault(connection.connection, {})
        if name in prepared and prepared[name] is None:
            cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [prepared_name])
            if cursor.fetchone() is None:
                del prepared[name]
            else:
                prepared[name] = True
        execute = f"EXECUTE {prepared_name}" + (f"({', '.join(['%s'] * len(params))})" if params else "")
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
        body = _PLACEHOLDER.sub(lambda _: f"${next(numbers)}", statement)
        try:
            cursor.execute(f"PREPARE {prepared_name} AS {body}; {execute}", params)
        except DatabaseError as exc:
            # Prepared statements outlive a failure and a rollback: the PREPARE may have run.
            prepared[name] = True if _sqlstate(exc) == _ALREADY_PREPARED else None
            raise
        cursor.nextset()
        prepared[name] = True
        return cursor.fetchall()


def keyed_rows(request: Any, name: str, query: str, params: list[Any], *,
               order: str | None = None) -> list[tuple[Any, ...]]:
    """The rows of `query`, read in the same statement as whether the request's API key is usable
    now (neither revoked nor expired) when its state is still to be read: a one-row sub-select on
    the key's primary key, left-joined to the query's rows (`order`: their column to keep the
    order by). A key found unusable raises AuthenticationFailed (401)."""
    key_id = key_to_confirm(request)
    usable, now = key_usable_sql()
    statement = (f"SELECT u.usable, p.* FROM (SELECT {usable} AS usable) u LEFT JOIN ({query}) p ON TRUE"
                 + (f" ORDER BY p.{order}" if order else ""))
    rows = hot_query(name, statement, [key_id, now, *params])
    if key_id is not None:
        settle_key(request, usable=rows[0][0] is not None)
    # An empty result is one row of NULLs (the left join's): every real row's first column is set.
    return [row[1:] for row in rows if row[1] is not None]
