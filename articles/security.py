"""The Content-Security-Policy middleware (django-csp), with one allowance for the admin; and the
client address django-axes keys login lockouts on.

Scripts are strict everywhere: only our own static files, no inline script, no eval. Styles are
strict on the editor UI and the public pages; under /admin/ and /api/docs/ inline styles are
allowed, because Django's admin templates (e.g. the change list without actions), our admin
customisations and Swagger UI use them. An inline style cannot run code, so the allowance does not weaken the
protection against injected script.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from django.conf import settings
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


def login_client_address(request: HttpRequest) -> str | None:
    """The address a sign-in comes from, for django-axes (AXES_CLIENT_IP_CALLABLE).

    Behind the TLS proxy (BEHIND_TLS_PROXY: one trusted hop) every connection comes from the proxy;
    the client is the last address in X-Forwarded-For, the one the proxy appended. Anything before
    it was written by the client and is not trusted. Elsewhere, or when the header holds no
    address, the connection's own address. (django-ipware, which axes can use instead, prefers a
    globally routable address wherever it stands in the header, so a client could choose its own
    lockout key by writing one before the address the proxy appended.)"""
    remote = request.META.get("REMOTE_ADDR")
    if not getattr(settings, "BEHIND_TLS_PROXY", False):
        return remote
    last = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return remote
