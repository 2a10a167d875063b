"""The one small exception hierarchy of the domain, mapped once to HTTP (governance.api_errors)
and once to admin/UI messages."""

from __future__ import annotations


class GovernanceError(Exception):
    """Base class: a request the domain refuses, with a machine-readable code and rule."""

    code = "refused"
    http_status = 409

    def __init__(self, message: str, *, rule: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.field = field

    def as_dict(self) -> dict[str, str]:
        payload = {"detail": self.message, "code": self.code}
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
    """The password re-entered to sign did not match (HTTP 403); nothing is recorded."""

    code = "reauthentication_failed"
    http_status = 403


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
