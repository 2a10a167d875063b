"""Webhooks, part two: delivery of the outbox (governance.background.webhooks writes it).

`deliver_pending` (after each commit that wrote deliveries, every minute from beat, and after each
attempt for that endpoint) claims due deliveries (a lease in `claimed_until`) and queues one
Celery task per claimed row, at most IMPRIMATUR_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT (default 2)
per endpoint at a time, so a dead or slow endpoint ties up at most that many worker slots and
never delays the others; a claimed row is not queued again. `deliver` takes over its row's claim
(a conditional UPDATE on the lease the sweep set), posts the JSON body signed per Standard Webhooks (the `standardwebhooks`
library; `webhook-id` is the delivery's `message_id`, the same on every retry), logs the attempt
and records the outcome. No transaction is open during the HTTP call.

Outcomes: 2xx → delivered. 410 Gone → the endpoint is disabled and its pending deliveries stop.
Anything else (another status, a timeout, a connection error, any other exception, logged as the
attempt's error) → retried after the back-off in
RETRY_SCHEDULE; after the last retry the delivery is marked failed. Each attempt checks the
endpoint's URL with `webhook_targets.check_target` (the check registration made) and connects to
the address that check resolved, never looking the name up again; a target with an address that
is not globally reachable is refused (failed, not retried) unless IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE.

If a worker dies mid-delivery, the task is redelivered by the broker (acks_late) and the sweep
re-queues the row once its lease runs out: delivery is at least once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from standardwebhooks import Webhook

from governance.background import claims
from governance.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from governance.workflow import audit, webhook_targets
from governance.workflow.webhook_targets import TargetRefused, target_refusal  # noqa: F401  (the check, re-exported here)

logger = logging.getLogger(__name__)

# Wait after the 1st, 2nd, … failed attempt; after the last, give up (9 attempts over ~27.5 h).
RETRY_SCHEDULE = [
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
]
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
USER_AGENT = "Imprimatur-Webhooks/1.0"

Status = WebhookDelivery.Status


def due(now: dt.datetime | None = None) -> QuerySet[WebhookDelivery]:
    """Pending deliveries whose time has come and that no worker holds."""
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))


def deliver_pending(*, limit: int = 1000, endpoint_id: int | None = None) -> int:
    """The sweep: claim and queue due deliveries, at most
    IMPRIMATUR_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT per endpoint counting those already claimed
    (queued or in flight), so a dead or slow endpoint holds at most that many worker slots and
    the others' deliveries are queued beside it. Each row is claimed here (a conditional
    UPDATE … RETURNING; its lease is the token the task is given), so the kick after every
    commit and the minute sweep never queue a row twice. Returns how many were queued."""
    from governance.background.tasks import deliver_webhook  # tasks imports this module: a cycle at import time

    cap = max(1, settings.IMPRIMATUR_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT)
    with transaction.atomic():
        # Sweeps take their endpoints' rows in turn (FOR UPDATE, in pk order), so counting what is in
        # flight and claiming the rest is one step: two sweeps ending at once (two attempts of an
        # endpoint finishing together) cannot each count the other's slots as free.
        endpoints = WebhookEndpoint.objects.select_for_update().order_by("pk")
        if endpoint_id is not None:
            endpoints = endpoints.filter(pk=endpoint_id)
        list(endpoints.values_list("pk", flat=True))
        now = timezone.now()
        pending = WebhookDelivery.objects.filter(status=Status.PENDING)
        if endpoint_id is not None:
            pending = pending.filter(endpoint_id=endpoint_id)
        busy = dict(pending.filter(claimed_until__gte=now).order_by().values_list("endpoint_id")
                    .annotate(n=Count("pk")).values_list("endpoint_id", "n"))
        candidates = due(now) if endpoint_id is None else due(now).filter(endpoint_id=endpoint_id)
        ranked = candidates.annotate(
            rank=Window(RowNumber(), partition_by=[F("endpoint_id")],
                        order_by=[F("next_attempt_at").asc(), F("pk").asc()]))
        ids = [pk for pk, endpoint, rank in ranked.filter(rank__lte=cap).order_by("next_attempt_at", "pk")
               .values_list("pk", "endpoint_id", "rank") if rank <= cap - busy.get(endpoint, 0)][:limit]
        if not ids:
            return 0
        token = now + dt.timedelta(seconds=settings.IMPRIMATUR_WEBHOOK_LEASE_SECONDS)
        claimed = claims.claim(WebhookDelivery, ids, lease="claimed_until", now=now, until=token,
                               ready=[("status", "=", Status.PENDING.value), ("next_attempt_at", "<=", now)])
    for pk in ids:
        if pk in claimed:
            deliver_webhook.delay(pk, token.isoformat())
    return len(claimed)


def _queue_next(endpoint_id: int) -> None:
    """A slot of this endpoint is free: queue its next due delivery now, not at the next sweep."""
    try:
        deliver_pending(endpoint_id=endpoint_id)
    except Exception:  # broker unreachable: the sweep will pick the rows up
        logger.warning("could not queue the next webhook delivery; the sweep will retry", exc_info=True)


def signed_request(delivery: WebhookDelivery, *, at: dt.datetime | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt. The timestamp is the attempt's; the id is not."""
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    at = (at or timezone.now()).astimezone(dt.UTC)
    signature = Webhook(delivery.endpoint.secret).sign(delivery.message_id, at, body)
    return body.encode(), {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def deliver(delivery_id: int, claim: str | None = None) -> str:
    """Attempt one delivery; returns what happened. `claim` is the lease `deliver_pending` claimed
    the row with: the attempt goes only if the row still holds it (a row re-queued after its
    claim ran out is attempted by one task only). Without it, only if it is due and unclaimed.
    Afterwards the endpoint's next due delivery is queued."""
    now = timezone.now()
    lease = now + dt.timedelta(seconds=settings.IMPRIMATUR_WEBHOOK_LEASE_SECONDS)
    if claim is not None:
        taken = WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING,
                                               claimed_until=dt.datetime.fromisoformat(claim))
    else:
        taken = due(now).filter(pk=delivery_id)
    if not taken.update(claimed_until=lease):
        return "skipped"
    outcome = _attempt(delivery_id, lease)
    if outcome != "disabled":
        endpoint_id = WebhookDelivery.objects.filter(pk=delivery_id).values_list("endpoint_id", flat=True).first()
        if endpoint_id is not None:
            _queue_next(endpoint_id)
    return outcome


def _attempt(delivery_id: int, lease: dt.datetime) -> str:
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        WebhookDelivery.objects.filter(pk=delivery_id).update(status=Status.DISABLED, claimed_until=None)
        return "disabled"

    status_code, error, permanent = None, "", False
    started = time.monotonic()
    try:
        target = webhook_targets.check_target(endpoint.url)  # resolved once: the connection goes there
        try:
            body, headers = signed_request(delivery)
        except Exception as exc:  # a malformed secret: retrying cannot help
            raise TargetRefused(f"cannot sign with the endpoint's secret ({type(exc).__name__}: {exc})") from exc
        response = webhook_targets.post(target, body=body, headers=headers, timeout=(
            settings.IMPRIMATUR_WEBHOOK_CONNECT_TIMEOUT, settings.IMPRIMATUR_WEBHOOK_TIMEOUT))
        status_code = response.status_code
        response.close()
    except TargetRefused as exc:
        error, permanent = f"refused: {exc}", True
    except (requests.RequestException, ConnectionError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # anything else (a bug, an odd URL): logged and counted, then backed off
        logger.exception("webhook delivery %s failed unexpectedly", delivery.pk)
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record_outcome(delivery, lease=lease, status_code=status_code, error=error, permanent=permanent,
                           duration_ms=duration_ms)


def _record_outcome(delivery: WebhookDelivery, *, lease: dt.datetime, status_code: int | None, error: str,
                    permanent: bool, duration_ms: int) -> str:
    now = timezone.now()
    attempts = delivery.attempts + 1
    with transaction.atomic():
        WebhookAttempt.objects.create(delivery=delivery, at=now, status_code=status_code, error=error[:500],
                                      duration_ms=duration_ms)
        rows = WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.PENDING)
        if status_code is not None and 200 <= status_code < 300:
            rows.update(status=Status.DELIVERED, delivered_at=now, attempts=F("attempts") + 1, claimed_until=None)
            return "delivered"
        if status_code == 410:
            reason = f"the endpoint answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC"
            endpoint = delivery.endpoint
            if WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(is_active=False,
                                                                                    disabled_reason=reason):
                # A change of the configuration like an edit in the admin, by the system: audited.
                audit.record(action="webhook_endpoint.update", obj=endpoint, reason=reason, data={"changed": {
                    "is_active": [True, False], "disabled_reason": [endpoint.disabled_reason, reason]}})
            rows.update(status=Status.DISABLED, attempts=F("attempts") + 1, claimed_until=None)
            WebhookDelivery.objects.filter(endpoint_id=delivery.endpoint_id, status=Status.PENDING).update(
                status=Status.DISABLED)
            return "disabled"
        # Only the holder of the lease reschedules: a worker whose lease ran out leaves it alone.
        rows = rows.filter(claimed_until=lease)
        if permanent or attempts >= MAX_ATTEMPTS:
            rows.update(status=Status.FAILED, attempts=F("attempts") + 1, claimed_until=None)
            return "failed"
        rows.update(attempts=F("attempts") + 1, claimed_until=None, next_attempt_at=now + RETRY_SCHEDULE[attempts - 1])
        return "retry"
