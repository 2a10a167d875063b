"""Maps the domain's exceptions to HTTP once: 409 for a refused rule, 403 for permission or a
failed re-authentication, 400 with field errors for bad content. Everything answers
`{"detail", "code"}` (+ `rule`, + field errors)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import ContentInvalid, GovernanceError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ContentInvalid):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code, "errors": exc.errors}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, GovernanceError):
        return Response(exc.as_dict(), status=exc.http_status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data
        detail = "Invalid input."
        if isinstance(errors, dict) and errors:
            name, messages = next(iter(errors.items()))
            message = messages[0] if isinstance(messages, list) and messages else messages
            detail = f"{name}: {message}"
        response.data = {"detail": detail, "code": "invalid", "errors": errors}
    elif isinstance(exc, exceptions.ParseError):
        # A body that is not JSON (or nests too deep) is bad input like any other: field errors too.
        detail = str(exc.detail)
        response.data = {"detail": detail, "code": "parse_error", "errors": {"non_field_errors": [detail]}}
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"detail": str(detail), "code": getattr(detail, "code", None) or getattr(exc, "default_code", "error")}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response.data["retry_after"] = int(exc.wait)
    return response
