"""What no view should have to survive, refused before any view runs.

- Control characters (Unicode category Cc: U+0000 to U+001F, U+007F to U+009F) in the path, in a query
  parameter's name or value, or in a form field: 400 naming the parameter. A NUL cannot even be
  sent to PostgreSQL (psycopg refuses it), so each view that passed one on to a query answered 500;
  refusing them here is one rule for every route (the public API, the editor, the reports, the
  admin's filters) instead of a check per view. Tab, CR and LF stay allowed in form fields (a text
  area's line breaks), never in a query parameter.
- A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE: 413. Django checks that limit only when a view
  reads `request.body` or a form; DRF's JSON parser reads the raw stream, which skipped the check.
  Multipart bodies may carry files beyond the limit (Django bounds only their other fields, while
  parsing): those are refused when the fields are read below.

Under /api/ the refusals are JSON in the contract's error shape (`{"detail", "code", "errors"}`);
elsewhere a small HTML page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render

CONTROL_IN_PARAMETER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_IN_FORM_FIELD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REFUSED = "Control characters are not allowed."


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def refusal(request: HttpRequest, *, status: int, code: str, name: str, message: str) -> HttpResponse:
    """The error answer: the contract's JSON under /api/, an HTML page elsewhere."""
    shown = name.encode("unicode_escape").decode("ascii") if not name.isprintable() else name
    if is_api(request):
        return JsonResponse({"detail": f"{shown}: {message}", "code": code, "errors": {name: [message]}}, status=status)
    return render(request, "articles/refused.html", {"name": shown, "message": message, "status": status, "code": code},
                  status=status)


def first_control_character(params: QueryDict, pattern: re.Pattern[str]) -> str | None:
    """The name of the first parameter whose name or one of whose values holds a character
    `pattern` matches."""
    for name, values in params.lists():
        if pattern.search(name) or any(isinstance(value, str) and pattern.search(value) for value in values):
            return name
    return None


def _too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return refusal(request, status=413, code="request_too_large", name="non_field_errors",
                   message=f"The request body is larger than the limit of {limit:,} bytes.")


class InputGuardMiddleware:
    """Refuses control characters in parameters and form fields (400) and oversized bodies (413)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.check(request) or self.get_response(request)

    def check(self, request: HttpRequest) -> HttpResponse | None:
        if CONTROL_IN_PARAMETER.search(request.path_info):
            return refusal(request, status=400, code="invalid", name="path", message=REFUSED)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        content_type = request.content_type or ""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # The same test Django makes when `request.body` is read, made for every body but multipart.
        if limit is not None and length > limit and content_type != "multipart/form-data":
            return _too_large(request)
        try:
            name = first_control_character(request.GET, CONTROL_IN_PARAMETER)
            if name is not None:
                return refusal(request, status=400, code="invalid", name=name, message=REFUSED)
            if request.method == "POST" and content_type in FORM_TYPES:
                name = first_control_character(request.POST, CONTROL_IN_FORM_FIELD)
                if name is not None:
                    return refusal(request, status=400, code="invalid", name=name, message=REFUSED)
        except RequestDataTooBig:
            return _too_large(request)
        except (TooManyFieldsSent, TooManyFilesSent) as exc:
            return refusal(request, status=400, code="too_many_fields", name="non_field_errors", message=str(exc))
        return None
