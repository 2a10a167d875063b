"""Maps the domain's exceptions to HTTP once: 409 for a refused rule, 403 for permission or a
failed re-authentication, 429 with `Retry-After` while signing is locked, 400 with field errors
for bad content. Everything answers `{"detail", "code"}` (+ `rule`, + field errors).

Field errors have one shape on every 400, whichever layer found them (a serializer, a service's
ContentInvalid, a query parameter): `errors` is flat, keyed by the path of the field —
`title`, `references[0].doi`, `references[1].authors[2]` — and `detail` repeats the first one.
DRF's nested errors (lists of dicts, `{index: …}` for list items) are mapped to it here, once."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from governance.workflow.exceptions import ContentInvalid, GovernanceError

NON_FIELD_ERRORS = "non_field_errors"
_NON_FIELD_NAMES = (NON_FIELD_ERRORS, "__all__")  # DRF's and Django's names for "the object as a whole"


def field_errors(errors: Any) -> dict[str, list[str]]:
    """Field errors in any nesting (DRF's serializer errors, Django's `message_dict`, ours) as one
    flat dict keyed by field path: `{"references[1].authors[2]": ["…"]}`. Errors about a whole
    object are keyed by its path (`references[1]`), or `non_field_errors` at the top."""
    flat: dict[str, list[str]] = {}
    _flatten(errors, "", flat)
    return flat


def _child_path(path: str, name: Any) -> str:
    if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):  # DRF's {index: errors} of a list
        return f"{path}[{name}]"
    name = str(name)
    for whole in _NON_FIELD_NAMES:
        if name == whole:
            return path
        if name.endswith(f".{whole}"):  # e.g. a service's f"references[0].{name}" for Django's __all__
            name = name.removesuffix(f".{whole}")
    return f"{path}.{name}" if path else name


def _flatten(errors: Any, path: str, flat: dict[str, list[str]]) -> None:
    if isinstance(errors, dict):
        for name, value in errors.items():
            _flatten(value, _child_path(path, name), flat)
    elif isinstance(errors, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in errors):
            if errors:
                flat.setdefault(path or NON_FIELD_ERRORS, []).extend(str(item) for item in errors)
        else:  # one entry per list item, empty for the items without errors
            for index, item in enumerate(errors):
                if item:
                    _flatten(item, f"{path}[{index}]", flat)
    else:
        flat.setdefault(path or NON_FIELD_ERRORS, []).append(str(errors))


def _invalid(errors: Any) -> dict[str, Any]:
    flat = field_errors(errors) or {NON_FIELD_ERRORS: ["Invalid input."]}
    name, messages = next(iter(flat.items()))
    return {"detail": f"{name}: {messages[0]}", "code": "invalid", "errors": flat}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ContentInvalid):
        return Response(_invalid(exc.errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, GovernanceError):
        response = Response(exc.as_dict(), status=exc.http_status)
        if getattr(exc, "retry_after", None) is not None:  # SigningLocked: 429 says when to come back
            response["Retry-After"] = str(exc.retry_after)
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _invalid(response.data)
    elif isinstance(exc, exceptions.ParseError):
        # A body that is not JSON (or nests too deep) is bad input like any other: field errors too.
        detail = str(exc.detail)
        response.data = {"detail": detail, "code": "parse_error", "errors": {NON_FIELD_ERRORS: [detail]}}
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"detail": str(detail), "code": getattr(detail, "code", None) or getattr(exc, "default_code", "error")}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response.data["retry_after"] = int(exc.wait)
    return response
