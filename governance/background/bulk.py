"""Claiming rows to work on outside a transaction (sending mail, delivering webhooks), and settling
them after. The set-based writer (`insert_rows`, `allocate_ids`, `any_of`) is the workflow's
(`governance.workflow.rows`): re-exported here for the background jobs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

from governance.workflow.rows import JSONText, allocate_ids, any_of, any_of_sql, insert_rows  # noqa: F401


def claim(model: type[Model], pks: Sequence[int], *, done: str, lease: str, attempts: str, now: Any,
          until: Any) -> set[int]:
    """Claim rows to work on outside a transaction (sending mail): of `pks`, those whose `done`
    column is NULL and whose `lease` is free or expired get `lease = until` and one more
    `attempts`, in one conditional UPDATE … RETURNING (PostgreSQL and SQLite ≥ 3.35): the ids
    returned are this caller's alone, whatever other workers run the same claim at once."""
    if not pks:
        return set()
    quote = connection.ops.quote_name
    where, params = any_of_sql("id", pks)
    # Adapted as the ORM does, so the stored lease is the claim token an ORM filter
    # (`lease=until`) matches on every backend.
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {quote(lease)} = %s, {quote(attempts)} = {quote(attempts)} + 1 "
            f"WHERE {where} AND {quote(done)} IS NULL AND ({quote(lease)} IS NULL OR {quote(lease)} < %s) RETURNING id",
            [adapt(until), *params, adapt(now)])
        return {row[0] for row in cursor.fetchall()}


def settle(model: type[Model], pks: Sequence[int], *, done: str, lease: str, until: Any,
           values: dict[str, Any]) -> set[int]:
    """The other half of `claim`: set `values` on those of `pks` that this caller still holds
    (`lease = until`, the claim token, and `done` still NULL), in one UPDATE … RETURNING; the
    ids returned are the rows written. A row whose lease ran out and that another worker claimed
    since is left alone (its `lease` is that worker's token)."""
    if not pks:
        return set()
    quote = connection.ops.quote_name
    meta = model._meta
    assignments, set_params = [], []
    for name, value in values.items():
        field = meta.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")
        set_params.append(field.get_db_prep_save(value, connection))
    where, params = any_of_sql("id", pks)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "
            f"WHERE {where} AND {quote(lease)} = %s AND {quote(done)} IS NULL RETURNING id",
            [*set_params, *params, connection.ops.adapt_datetimefield_value(until)])
        return {row[0] for row in cursor.fetchall()}
