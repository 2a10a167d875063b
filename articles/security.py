"""The Content-Security-Policy middleware (django-csp), with one allowance for the admin.

Scripts are strict everywhere: only our own static files, no inline script, no eval. Styles are
strict on the editor UI and the public pages; under /admin/ and /api/docs/ inline styles are
allowed, because Django's admin templates (e.g. the change list without actions), our admin
customisations and Swagger UI use them. An inline style cannot run code, so the allowance does not weaken the
protection against injected script.
"""

from __future__ import annotations

from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponseBase

INLINE_STYLE_PREFIXES = ("/admin/", "/api/docs/")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False) -> Any:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path.startswith(INLINE_STYLE_PREFIXES):
            update = dict(parts.update or {})
            update["style-src"] = [*update.get("style-src", []), UNSAFE_INLINE]
            parts.update = update
        return parts
