"""The one small exception hierarchy of the domain, mapped once to HTTP (governance.api.errors)
and once to admin/UI messages."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any


class GovernanceError(Exception):
    """Base class: a request the domain refuses, with a machine-readable code and rule."""

    code = "refused"
    http_status = 409

    def __init__(self, message: str, *, rule: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"detail": self.message, "code": self.code}
        if self.rule:
            payload["rule"] = self.rule
        return payload

    def __str__(self) -> str:
        return f"{self.message} (rule: {self.rule})" if self.rule else self.message


class TransitionRefused(GovernanceError):
    """A workflow transition refused by a named rule."""

    code = "transition_refused"


class AssignmentRefused(GovernanceError):
    code = "assignment_refused"


class ReviewRefused(GovernanceError):
    code = "review_refused"


class CredentialsRefused(GovernanceError):
    """A credential change that cannot be decided (already verified or rejected)."""

    code = "credentials_refused"


class ConflictRefused(GovernanceError):
    """A conflict-of-interest declaration that cannot be ended (already ended)."""

    code = "conflict_refused"


class NotPermitted(GovernanceError):
    """The policy does not let this user do this (HTTP 403)."""

    code = "permission_denied"
    http_status = 403


class ReauthenticationFailed(GovernanceError):
    """The password re-entered to sign did not match (HTTP 403): nothing is signed; the failure
    is audited (`signature.failed`). Says how many attempts are left before signing locks, and
    when it unlocks if this failure locked it."""

    code = "reauthentication_failed"
    http_status = 403

    def __init__(self, message: str, *, rule: str = "", attempts_left: int | None = None,
                 locked_until: dt.datetime | None = None) -> None:
        super().__init__(message, rule=rule)
        self.attempts_left = attempts_left
        self.locked_until = locked_until

    def as_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = super().as_dict()
        if self.attempts_left is not None:
            payload["attempts_left"] = self.attempts_left
        if self.locked_until is not None:
            payload["locked_until"] = self.locked_until.isoformat()
        return payload


class SigningLocked(GovernanceError):
    """Signing is locked for this user after too many failed password re-checks (HTTP 429 with
    `Retry-After`): even the right password signs nothing until `locked_until`."""

    code = "signing_locked"
    http_status = 429

    def __init__(self, message: str, *, locked_until: dt.datetime, now: dt.datetime) -> None:
        super().__init__(message, rule="signing_locked")
        self.locked_until = locked_until
        self.retry_after = max(1, math.ceil((locked_until - now).total_seconds()))

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "locked_until": self.locked_until.isoformat(), "retry_after": self.retry_after}


class ContentInvalid(GovernanceError):
    """Bad content: carries field errors ({field: [messages]}) (HTTP 400)."""

    code = "invalid"
    http_status = 400

    def __init__(self, errors: dict[str, list[str]], *, rule: str = "content_valid") -> None:
        first_field, messages = next(iter(errors.items()))
        super().__init__(f"{first_field}: {messages[0]}", rule=rule, field=first_field)
        self.errors = errors


class ConfigurationRefused(GovernanceError):
    """A configuration change refused by a named rule (e.g. deleting a topic in use)."""

    code = "configuration_refused"
