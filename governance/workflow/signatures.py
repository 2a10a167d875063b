"""The e-signature's password re-check, guarded against guessing.

A board member signs a review decision by re-entering their password
(`services.review_record` calls `signature_reauthenticate` on every path: the admin review page
and the editorial API). Each failed re-check is kept as a `SigningFailure` row and audited as
`signature.failed` (actor, assignment, article, path, client address; never the password). After
IMPRIMATUR_SIGNATURE_FAILURE_LIMIT failures within IMPRIMATUR_SIGNATURE_FAILURE_WINDOW_MINUTES
(rule `signing_locked`, governance.workflow.rules) the user's signing is locked: even the right password
signs nothing until the window has passed or the managing editor unlocks it (`signing_unlock`,
audited `signature.unlock`). A successful signature erases no failure.

The count lives in the database, not a per-process cache, so every gunicorn worker agrees. Each
attempt locks the user's `SigningGuard` row (SELECT … FOR UPDATE) while it counts, checks the
password and records a failure: one user's simultaneous attempts are checked one at a time, so two
wrong passwords sent at once both count and a burst of guesses with one attempt left gets exactly
one password check.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from axes.helpers import get_client_ip_address
from django.db import transaction
from django.utils import timezone

from governance.models import SigningFailure, SigningGuard
from governance.workflow import audit, policies, rules
from governance.workflow.exceptions import GovernanceError, NotPermitted, ReauthenticationFailed, SigningLocked
from reviewers.models import ReviewAssignment

PATHS = SigningFailure.Path


def request_client_address(request: Any) -> str | None:
    """The client's address as the login lockout (django-axes) sees it, or None if it is no IP
    address (so both lockouts follow one proxy configuration)."""
    address = get_client_ip_address(request)
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%d %b %Y %H:%M %Z")


def _lock_guard(user: Any) -> SigningGuard:
    """Lock (creating on first use) the user's guard row; must run inside a transaction. A
    concurrent first attempt waits on the row's insert, then finds it."""
    guard = SigningGuard.objects.select_for_update().filter(pk=user.pk).first()
    if guard is None:
        SigningGuard.objects.get_or_create(user=user)
        guard = SigningGuard.objects.select_for_update().get(pk=user.pk)
    return guard


def _counted_failures(guard: SigningGuard, now: dt.datetime) -> list[dt.datetime]:
    """The times of the guard's failures that count now, newest first (at most the limit: all the
    rule needs)."""
    since = rules.signing_counted_since(now, guard.counted_from)
    return list(guard.failures.filter(at__gt=since).order_by("-at")
                .values_list("at", flat=True)[:rules.signing_failure_limit()])


def signing_locked_until(user: Any, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the user's signing unlocks, or None if they may sign now."""
    guard = SigningGuard.objects.filter(pk=user.pk).first()
    if guard is None:
        return None
    return rules.signing_locked_until(_counted_failures(guard, now or timezone.now()))


def _locked(locked_until: dt.datetime, now: dt.datetime) -> SigningLocked:
    limit, minutes = rules.signing_failure_limit(), int(rules.signing_window().total_seconds() // 60)
    return SigningLocked(
        f"Signing is locked until {_when(locked_until)} after {limit} failed password re-checks within {minutes} "
        f"minutes: nothing was signed. Sign again after that time, or ask the managing editor to unlock it.",
        locked_until=locked_until, now=now)


def signature_reauthenticate(*, actor: Any, assignment: ReviewAssignment, password: str, path: str,
                             client_address: str | None = None) -> None:
    """Check the password a signer re-entered, under the failure limit.

    Returns if it matches and signing is not locked. Raises `SigningLocked` (no password is
    checked) while the rule `signing_locked` holds, and `ReauthenticationFailed` for a wrong
    password, after recording the failure (`SigningFailure` + audit `signature.failed`) in this
    function's own transaction: the refusal is raised only once that transaction has committed
    (an exception inside it would roll the record back). Callers must not hold a transaction open
    around it for the same reason; the admin and the API views hold none.
    """
    now = timezone.now()
    refusal: ReauthenticationFailed | None = None
    with transaction.atomic():
        guard = _lock_guard(actor)
        counted = _counted_failures(guard, now)
        locked_until = rules.signing_locked_until(counted)
        if locked_until is None:
            if password and actor.check_password(password):
                return
            SigningFailure.objects.create(guard=guard, at=now, assignment=assignment, path=path,
                                          client_address=client_address)
            failures = len(counted) + 1  # counted was below the limit, so it holds every counted failure
            limit = rules.signing_failure_limit()
            locked_now = rules.signing_locked_until([now, *counted])
            audit.record(action="signature.failed", obj=assignment, actor=actor, article=assignment.article,
                         data={"path": path, "client_address": client_address, "failures_in_window": failures,
                               "limit": limit, "locked_until": locked_now.isoformat() if locked_now else None})
            left = max(0, limit - failures)
            message = "The password does not match: nothing was signed."
            if locked_now is None:
                message += f" {left} attempt{'s' if left != 1 else ''} left before signing is locked."
            else:
                message += f" Signing is now locked until {_when(locked_now)}."
            refusal = ReauthenticationFailed(message, rule="reauthentication", attempts_left=left,
                                             locked_until=locked_now)
    if refusal is None:
        raise _locked(locked_until, now)
    raise refusal


def signing_unlock(*, actor: Any, user: Any, reason: str = "") -> SigningGuard:
    """The managing editor unlocks a user's signing before the window has passed: failures up to
    now stop counting (they stay on record). Audited `signature.unlock` with how many failures
    counted and when the lock would have ended. Refused if signing is not locked."""
    if not policies.may_unlock_signing(actor, user):
        raise NotPermitted("Only the managing editor unlocks signing, and never their own.", rule="may_unlock_signing")
    now = timezone.now()
    with transaction.atomic():
        guard = SigningGuard.objects.select_for_update().filter(pk=user.pk).first()
        locked_until = rules.signing_locked_until(_counted_failures(guard, now)) if guard is not None else None
        if locked_until is None:
            raise GovernanceError(f"{user.get_username()} may sign: their signing is not locked.", rule="signing_locked")
        failures = guard.failures.filter(at__gt=rules.signing_counted_since(now, guard.counted_from)).count()
        guard.counted_from, guard.unlocked_by = now, actor
        guard.save(update_fields=["counted_from", "unlocked_by"])
        audit.record(action="signature.unlock", obj=guard, actor=actor, reason=reason,
                     data={"user": user.get_username(), "failures_counted": failures,
                           "locked_until": locked_until.isoformat(), "counted_from": now.isoformat()})
    return guard
