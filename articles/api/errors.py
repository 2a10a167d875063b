"""Django-level error pages for the API: a URL under /api/ that matches no route answers JSON
like every other API error, not the HTML page meant for readers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "No such API resource.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)
