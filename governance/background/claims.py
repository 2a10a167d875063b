"""Claim → send → settle: the one way the background jobs send something at most once and never
lose it (reminders, notification emails, webhook deliveries).

1. Claim: one conditional UPDATE … RETURNING sets the rows' lease column to the claim's expiry
   (`until`), only on rows not done and not held by a live lease; the ids returned are this
   caller's alone, whatever other workers run the same claim at once. The expiry is also the
   claim token: every later write filters on it.
2. Send, outside any transaction: nothing is locked while a mail server or an endpoint is talked
   to. No send starts once less than `send_margin()` of the lease is left (the rest are released
   untried), so another worker never reclaims a row that is still being sent.
3. Settle, in one transaction: only rows still holding the token are marked done or released (a
   row whose lease ran out and that another worker claimed since is left to that worker).

`send_claimed` runs the three steps for a batch of emails (reminders, notifications); webhook
delivery (governance.background.delivery) claims in its sweep and settles each attempt itself,
through `claim` and the same token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Model
from django.utils import timezone

from governance.background.bulk import any_of, any_of_sql

logger = logging.getLogger(__name__)

Item = TypeVar("Item")


def send_margin() -> dt.timedelta:
    """How much of the lease must be left to start one more send: a send can take the mail
    connection's timeout (EMAIL_TIMEOUT) twice (connect, then the exchange), and the marking
    transaction must commit before the lease runs out."""
    return dt.timedelta(seconds=2 * (getattr(settings, "EMAIL_TIMEOUT", None) or 10) + 10)


def claim(model: type[Model], pks: Sequence[int], *, lease: str, now: dt.datetime, until: dt.datetime,
          done: str | None = None, attempts: str | None = None,
          ready: Iterable[tuple[str, str, Any]] = ()) -> set[int]:
    """Of `pks`, claim those free to work on: `done` (if given) still NULL, each `ready`
    condition (column, operator, value) true, and `lease` free or expired. They get
    `lease = until` (and one more `attempts`, if given) in one conditional UPDATE … RETURNING
    (PostgreSQL and SQLite ≥ 3.35): the ids returned are this caller's alone."""
    if not pks:
        return set()
    quote = connection.ops.quote_name
    meta = model._meta
    where, params = any_of_sql("id", pks)
    # Adapted as the ORM does, so the stored lease is the claim token an ORM filter
    # (`lease=until`) matches on every backend.
    adapt = connection.ops.adapt_datetimefield_value
    sets = [f"{quote(lease)} = %s"] + ([f"{quote(attempts)} = {quote(attempts)} + 1"] if attempts else [])
    conditions = [where] + ([f"{quote(done)} IS NULL"] if done else [])
    condition_params = list(params)
    for column, operator, value in ready:
        if operator not in ("=", "<=", "<", ">=", ">"):
            raise ValueError(f"unsupported operator {operator!r}")
        conditions.append(f"{quote(meta.get_field(column).column)} {operator} %s")
        condition_params.append(meta.get_field(column).get_db_prep_value(value, connection))
    conditions.append(f"({quote(lease)} IS NULL OR {quote(lease)} < %s)")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} WHERE {' AND '.join(conditions)} RETURNING id",
            [adapt(until), *condition_params, adapt(now)])
        return {row[0] for row in cursor.fetchall()}


def settle(model: type[Model], pks: Sequence[int], *, done: str, lease: str, until: dt.datetime,
           values: dict[str, Any]) -> set[int]:
    """Set `values` on those of `pks` that this caller still holds (`lease = until`, the claim
    token, and `done` still NULL), in one UPDATE … RETURNING; the ids returned are the rows
    written. A row whose lease ran out and that another worker claimed since is left alone."""
    if not pks:
        return set()
    quote = connection.ops.quote_name
    meta = model._meta
    assignments, set_params = [], []
    for name, value in values.items():
        model_field = meta.get_field(name)
        assignments.append(f"{quote(model_field.column)} = %s")
        set_params.append(model_field.get_db_prep_save(value, connection))
    where, params = any_of_sql("id", pks)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "
            f"WHERE {where} AND {quote(lease)} = %s AND {quote(done)} IS NULL RETURNING id",
            [*set_params, *params, connection.ops.adapt_datetimefield_value(until)])
        return {row[0] for row in cursor.fetchall()}


@dataclass(frozen=True)
class Columns:
    """Where a table keeps its sending: `done` (NULL until sent), `lease` (the claim's expiry and
    token), `attempts` (claims counted), `error` (the last failure, for the admin)."""

    done: str
    lease: str
    attempts: str
    error: str


class Unsendable(Exception):
    """Raised by a `send` for an item that cannot go now (no address, nobody to escalate to): it is
    left unsent with this reason and tried again on the next run."""


class MailConnectionFailed(Exception):
    """The mail connection could not be opened: every email of the batch not sent yet waits."""


@dataclass
class Batch(Generic[Item]):
    """A claimed batch while it is sent: the rows held, what became of each, the mail connection
    (opened at the first email, closed when the batch ends)."""

    until: dt.datetime
    mine: set[int]
    sent: list[Item] = field(default_factory=list)
    failed: dict[str, list[int]] = field(default_factory=dict)
    untried: list[int] = field(default_factory=list)
    _mailer: Any = None

    def fail(self, pk: int, error: str) -> None:
        self.failed.setdefault(error[:500], []).append(pk)

    def mail(self, message: EmailMessage) -> None:
        """Send one email over the batch's connection."""
        if self._mailer is None:
            mailer = get_connection()
            try:
                mailer.open()
            except Exception as exc:
                raise MailConnectionFailed(str(exc)) from exc
            self._mailer = mailer
        message.connection = self._mailer
        self._mailer.send_messages([message])

    def close(self) -> None:
        if self._mailer is not None:
            with contextlib.suppress(Exception):
                self._mailer.close()


def send_claimed(model: type[Model], items: Sequence[Item], *, key: Callable[[Item], int], columns: Columns,
                 lease: dt.timedelta, send: Callable[[Item, Batch[Item]], None],
                 on_settled: Callable[[list[Item], dt.datetime], None] | None = None) -> list[Item]:
    """Claim `items` (rows of `model`, `key` giving each one's id), `send` each that this worker
    holds, outside any transaction, then settle: in one transaction the sent ones are marked done
    and `on_settled(sent, at)` writes what goes with them; a failed one is released with its
    error; one left untried because the lease was running out is released, its attempt not
    counted. Returns the items sent and marked by this worker."""
    now = timezone.now()
    until = now + lease
    last_start = until - send_margin()
    batch: Batch[Item] = Batch(until=until, mine=claim(model, [key(item) for item in items], lease=columns.lease,
                                                       now=now, until=until, done=columns.done,
                                                       attempts=columns.attempts))
    if not batch.mine:
        return []  # sent already, or other workers hold them
    try:
        _send_each(batch, items, key=key, send=send, last_start=last_start)
    finally:
        batch.close()
    if batch.untried:
        logger.warning("%s batch stopped with %s unsent: its claim was about to expire", model.__name__,
                       len(batch.untried))
    return _settle(model, batch, key=key, columns=columns, on_settled=on_settled)


def _send_each(batch: Batch[Item], items: Sequence[Item], *, key: Callable[[Item], int],
               send: Callable[[Item, Batch[Item]], None], last_start: dt.datetime) -> None:
    for item in items:
        pk = key(item)
        if pk not in batch.mine:
            continue
        if batch.untried or timezone.now() >= last_start:  # the lease is about to run out: stop here
            batch.untried.append(pk)
            continue
        try:
            send(item, batch)
        except MailConnectionFailed as exc:  # nothing more can go: the rest wait for the next run
            logger.warning("mail connection failed: %s", exc)
            settled = {key(done) for done in batch.sent} | {p for pks in batch.failed.values() for p in pks}
            for other in items:
                if key(other) in batch.mine and key(other) not in settled and key(other) not in batch.untried:
                    batch.fail(key(other), str(exc))
            return
        except Unsendable as exc:
            logger.warning("%s %s not sent: %s", type(item).__name__, pk, exc)
            batch.fail(pk, str(exc))
            continue
        except Exception as exc:  # any transport error: left unsent for the next run
            logger.warning("%s %s failed: %s", type(item).__name__, pk, exc)
            batch.fail(pk, str(exc))
            continue
        batch.sent.append(item)


def _settle(model: type[Model], batch: Batch[Item], *, key: Callable[[Item], int], columns: Columns,
            on_settled: Callable[[list[Item], dt.datetime], None] | None) -> list[Item]:
    settled_at = timezone.now()
    with transaction.atomic():
        held = model._default_manager.filter(**{columns.lease: batch.until, f"{columns.done}__isnull": True})
        for error, pks in batch.failed.items():
            held.filter(any_of("pk", pks)).update(**{columns.lease: None, columns.error: error})
        if batch.untried:
            held.filter(any_of("pk", batch.untried)).update(
                **{columns.lease: None, columns.attempts: F(columns.attempts) - 1})
        marked = settle(model, [key(item) for item in batch.sent], done=columns.done, lease=columns.lease,
                        until=batch.until, values={columns.done: settled_at, columns.lease: None, columns.error: ""})
        if len(marked) < len(batch.sent):
            logger.error("%s rows %s were sent after their claim ran out; not marked by this worker", model.__name__,
                         sorted({key(item) for item in batch.sent} - marked))
        sent = [item for item in batch.sent if key(item) in marked]
        if sent and on_settled is not None:
            on_settled(sent, settled_at)
    return sent
