"""The audit trail: append-only, hash-chained.

Each event's hash covers every field of the event and the previous event's hash. Appends lock
the single AuditChainHead row (SELECT … FOR UPDATE), so concurrent writers queue up and the
chain never forks; the lock is held to the end of the caller's transaction, which also makes the
changes feed's `seq` follow commit order.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from governance.models import AuditChainHead, AuditEvent, ChangeEvent
from governance.workflow.rows import JSONText, insert_rows

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq", "at", "actor_id", "actor_username", "action", "object_type", "object_id", "object_repr",
    "article_id", "article_slug", "from_state", "to_state", "reason", "data",
)


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    payload: dict[str, Any] = {name: getattr(event, name) for name in HASHED_FIELDS}
    payload["at"] = event.at.isoformat(timespec="microseconds")
    payload["prev_hash"] = prev_hash
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def lock_chain() -> AuditChainHead:
    """Lock (creating on first use) the chain head; must run inside a transaction."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def record(
    *,
    action: str,
    obj: Model,
    actor: Any = None,
    article: Any = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    object_id: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction. `object_id` names the
    object when its primary key does not fit the 64 characters or is a secret's hash (an API
    key's prefix, a token's lookup key)."""
    with transaction.atomic():
        head = lock_chain()
        actor_user = actor if getattr(actor, "is_authenticated", False) else None
        event = AuditEvent(
            seq=head.last_seq + 1,
            at=timezone.now(),
            actor=actor_user,
            actor_username=actor_user.get_username() if actor_user else "system",
            action=action,
            object_type=obj._meta.label_lower,
            object_id=object_id if object_id is not None else str(obj.pk),
            object_repr=str(obj)[:300],
            article_id=article.pk if article is not None else None,
            article_slug=article.slug if article is not None else "",
            from_state=from_state or "",
            to_state=to_state or "",
            reason=reason or "",
            data=json.loads(json.dumps(data or {}, default=str)),
        )
        event.prev_hash = head.last_hash
        event.hash = event_hash(event, head.last_hash)
        event.save()
        AuditChainHead.objects.filter(pk=1).update(last_seq=event.seq, last_hash=event.hash)
        return event


@dataclass(slots=True)
class PendingEvent:
    """One event for `record_many` (the same fields as `record`'s arguments)."""

    action: str
    object_type: str
    object_id: str
    object_repr: str = ""
    article_id: int | None = None
    article_slug: str = ""
    from_state: str = ""
    to_state: str = ""
    reason: str = ""
    data: dict[str, Any] | None = None  # or a JSONText (the JSON text of such a dict)


def record_many(events: Iterable[PendingEvent], *, actor: Any = None) -> int:
    """Append N events under one chain lock with one statement (COPY on PostgreSQL): the bulk
    path of the background jobs. The chain is exactly what N calls to `record` would have
    written; no model instance is built and each hash is computed from its canonical text
    directly (see `_canonical`, which this loop inlines). The rows stream in `seq` order as they
    are built (COPY sends each while the next is hashed), so every index of the table but
    `action`'s receives ascending keys. Returns the number of events appended."""
    events = iter(events)
    first = next(events, None)
    if first is None:
        return 0
    with transaction.atomic():
        head = lock_chain()
        actor_user = actor if getattr(actor, "is_authenticated", False) else None
        actor_id = actor_user.pk if actor_user else None
        actor_username = actor_user.get_username() if actor_user else "system"
        now = timezone.now()
        prev_hash, seq = head.last_hash, head.last_seq
        sha256, value, encode_data, json_text = hashlib.sha256, _value, _encode_data, JSONText
        texts: dict[str, str] = {}  # the JSON text of strings that repeat (action, states, reason…)
        canonical_data: dict[str, str] = {}

        def text(v: Any) -> str:
            if type(v) is not str:
                return value(v)
            t = texts.get(v)
            if t is None:
                t = texts[v] = value(v)
            return t

        def data_of(data: Any) -> str:
            if type(data) is not json_text:
                return encode_data(data)
            t = canonical_data.get(data)  # JSON text given by the caller: canonicalised once per distinct text
            if t is None:
                t = canonical_data[data] = encode_data(json.loads(data))
            return t

        actor_part = f'"actor_id":{value(actor_id)},"actor_username":{value(actor_username)},'
        at_part = f'"at":{value(now.isoformat(timespec="microseconds"))},"data":'
        def rows() -> Iterator[tuple[Any, ...]]:
            nonlocal seq, prev_hash
            for pending in itertools.chain((first,), events):
                seq += 1
                object_id, object_repr = str(pending.object_id), pending.object_repr[:300]
                article_slug, from_state = pending.article_slug or "", pending.from_state or ""
                to_state, reason = pending.to_state or "", pending.reason or ""
                data_text = data_of(pending.data)
                canonical = (f'{{"action":{text(pending.action)},{actor_part}"article_id":{value(pending.article_id)},'
                             f'"article_slug":{value(article_slug)},{at_part}{data_text},"from_state":{text(from_state)},'
                             f'"object_id":{value(object_id)},"object_repr":{value(object_repr)},'
                             f'"object_type":{text(pending.object_type)},"prev_hash":"{prev_hash}",'
                             f'"reason":{text(reason)},"seq":{seq},"to_state":{text(to_state)}}}')
                event_hash_ = sha256(canonical.encode()).hexdigest()
                yield (seq, now, actor_id, actor_username, pending.action, pending.object_type, object_id,
                       object_repr, pending.article_id, article_slug, from_state, to_state, reason,
                       json_text(data_text), prev_hash, event_hash_)
                prev_hash = event_hash_

        written = insert_rows(AuditEvent, _ROW_FIELDS, rows())
        AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=prev_hash)
        return written


_ROW_FIELDS = ("seq", "at", "actor_id", "actor_username", "action", "object_type", "object_id", "object_repr",
               "article_id", "article_slug", "from_state", "to_state", "reason", "data", "prev_hash", "hash")
# The canonical text of `event_hash`, built piece by piece: json.dumps with these settings writes
# a str with encode_basestring (ensure_ascii=False), an int with int.__repr__, None as null, and
# the keys sorted. Anything else goes through the same encoder, so the text is identical.
_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_string = json.encoder.encode_basestring  # type: ignore[attr-defined]
_PLAIN = (str, bool, int, type(None))


def _value(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return _encoder.encode(value)


def _encode_data(data: dict[str, Any] | None) -> str:
    """The JSON text of an event's `data` as `record` stores and hashes it (after its JSON
    round trip, which changes nothing for a flat dict of strings, numbers and booleans)."""
    if not data:
        return "{}"
    if not all(type(k) is str and type(v) in _PLAIN for k, v in data.items()):
        data = json.loads(json.dumps(data, default=str))
    return _encoder.encode(data)


def _canonical(*, action: Any, actor_id: Any, actor_username: Any, article_id: Any, article_slug: Any, at: str,
               data_text: str, from_state: Any, object_id: Any, object_repr: Any, object_type: Any, reason: Any,
               seq: int, to_state: Any) -> tuple[str, str]:
    """`event_hash`'s canonical text, split around the previous hash's 64 characters."""
    v = _value
    head = (f'{{"action":{v(action)},"actor_id":{v(actor_id)},"actor_username":{v(actor_username)},'
            f'"article_id":{v(article_id)},"article_slug":{v(article_slug)},"at":{v(at)},"data":{data_text},'
            f'"from_state":{v(from_state)},"object_id":{v(object_id)},"object_repr":{v(object_repr)},'
            f'"object_type":{v(object_type)},"prev_hash":"')
    tail = f'","reason":{v(reason)},"seq":{v(seq)},"to_state":{v(to_state)}}}'
    return head, tail


def record_changes(changes: Iterable[tuple[str, Any, str]]) -> int:
    """Append several (type, article, revision_hash) entries to the changes feed in one statement
    (COPY on PostgreSQL), after taking the chain lock; `article` needs only `pk` and `slug`.
    Returns the number of entries."""
    changes = list(changes)
    if not changes:
        return 0
    with transaction.atomic():
        lock_chain()
        now = timezone.now()
        entry = ChangeEvent.public_entry
        return insert_rows(ChangeEvent, ("type", "article_id", "slug", "revision", "at", "entry_json"), [
            (str(type), article.pk, article.slug, revision_hash, now,
             entry(type=type, slug=article.slug, at=now, revision=revision_hash))
            for type, article, revision_hash in changes])


def record_change(*, type: str, article: Any, revision_hash: str) -> ChangeEvent:
    """Append to the public changes feed, after taking the chain lock (commit order = seq order)."""
    with transaction.atomic():
        lock_chain()
        now = timezone.now()
        return ChangeEvent.objects.create(
            type=type, article_id=article.pk, slug=article.slug, revision=revision_hash, at=now,
            entry_json=ChangeEvent.public_entry(type=type, slug=article.slug, at=now, revision=revision_hash),
        )


@dataclass
class ChainCheck:
    ok: bool
    count: int
    broken_seq: int | None = None
    why: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.count} events"
        return f"audit chain broken at seq {self.broken_seq}: {self.why}"


def verify(events: Iterable[AuditEvent] | None = None) -> ChainCheck:
    """Walk the whole chain in `seq` order; the first event whose link or hash fails is named.

    On a running system events keep arriving while the walk runs. Called on its own (the
    verify_audit command), the chain and its head are read in one snapshot: one transaction,
    REPEATABLE READ on PostgreSQL, and they must agree exactly. Called inside a caller's
    transaction (whose isolation is set), the head is read first: events past it that continue
    the chain correctly were appended since and are not a break."""
    if events is not None or connection.in_atomic_block:
        return _verify(events, strict=False)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _verify(None, strict=True)


def _verify(events: Iterable[AuditEvent] | None, *, strict: bool) -> ChainCheck:
    head = AuditChainHead.objects.filter(pk=1).first()
    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000) if events is None else events
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    hash_at_head = GENESIS if head is None or head.last_seq == 0 else None
    for event in events:
        if event.seq != expected_seq:
            why = "missing event(s) before it" if event.seq > expected_seq else "sequence out of order"
            return ChainCheck(False, count, event.seq, f"{why} (expected seq {expected_seq})")
        if event.prev_hash != prev_hash:
            return ChainCheck(False, count, event.seq, "previous-hash link does not match (reordered or removed)")
        if event_hash(event, prev_hash) != event.hash:
            return ChainCheck(False, count, event.seq, "content does not match its hash (edited)")
        prev_hash = event.hash
        expected_seq += 1
        count += 1
        if head is not None and event.seq == head.last_seq:
            hash_at_head = event.hash
    if head is None:
        return ChainCheck(True, count)
    past_head_ok = not strict and count > head.last_seq and hash_at_head == head.last_hash
    if not past_head_ok and (head.last_seq != count or head.last_hash != prev_hash):
        return ChainCheck(False, count, count + 1 if head.last_seq > count else count,
                          f"chain ends at seq {count} but the head records seq {head.last_seq} (events removed)")
    return ChainCheck(True, count)


def verify_article(article_id: int) -> ChainCheck:
    """Check the events of one article: each must hash correctly against its stored link, and
    its link must be the hash of the event just before it in the global chain."""
    events = list(AuditEvent.objects.filter(article_id=article_id).order_by("seq"))
    previous = {
        e.seq: e.hash
        for e in AuditEvent.objects.filter(seq__in=[ev.seq - 1 for ev in events]).only("seq", "hash")
    }
    for event in events:
        expected_prev = GENESIS if event.seq == 1 else previous.get(event.seq - 1)
        if expected_prev is None or event.prev_hash != expected_prev:
            return ChainCheck(False, len(events), event.seq, "previous-hash link does not match")
        if event_hash(event, event.prev_hash) != event.hash:
            return ChainCheck(False, len(events), event.seq, "content does not match its hash (edited)")
    return ChainCheck(True, len(events))
