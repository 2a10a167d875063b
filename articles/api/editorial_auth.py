"""Who may call the editorial API: a staff session, or `Authorization: Token <token>`.

Tokens are django-rest-knox's: 64 random hex characters, stored only as a SHA-512 digest (and
their first 15 characters, the lookup key), each with an expiry
(`IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS`, default 90). `manage.py drf_create_token USERNAME` prints
a new one once; the managing editor revokes them in the admin (governance.workflow.api_access, audited).
An unknown, revoked or expired token answers 401.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.settings import knox_settings
from rest_framework import authentication, exceptions

_TOKEN = re.compile(rf"[0-9a-f]{{{knox_settings.AUTH_TOKEN_CHARACTER_LENGTH}}}")
INVALID = "The token is unknown, revoked or expired; ask for a new one (manage.py drf_create_token USERNAME)."


class EditorialTokenAuthentication(TokenAuthentication):
    """knox's token authentication, with three differences: a token that is not knox's shape
    (wrong length, non-hex, NUL, undecodable bytes) is refused before any query (knox would fail
    on bytes that are not UTF-8, and send a NUL to the database); an expired token is refused
    but kept (knox deletes it, and every other expired token of the user, on each request: one
    more query, and rows vanishing outside the audited revocation); and the 401 says what to do."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        try:
            text = token.decode("ascii")
        except UnicodeError:
            text = ""
        if not _TOKEN.fullmatch(text):
            raise exceptions.AuthenticationFailed(INVALID, code="invalid_token")
        try:
            return super().authenticate_credentials(token)
        except exceptions.AuthenticationFailed as exc:
            raise exceptions.AuthenticationFailed(INVALID, code="invalid_token") from exc

    def _cleanup_token(self, auth_token: Any) -> bool:
        return auth_token.expiry is not None and auth_token.expiry < timezone.now()


# Token first: an anonymous request is then told how to authenticate (401 with WWW-Authenticate).
EDITORIAL_AUTHENTICATION = [EditorialTokenAuthentication, authentication.SessionAuthentication]


class EditorialTokenScheme(OpenApiAuthenticationExtension):
    target_class = "articles.api.editorial_auth.EditorialTokenAuthentication"
    name = "EditorialToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Token <token>`: a staff user's editorial token, printed once by "
            "`manage.py drf_create_token USERNAME [--expires-in-days N]`. Only a digest is stored; every token "
            "expires (default `IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS`, 90 days) and the managing editor can "
            "revoke it in the admin. An unknown, revoked or expired token is 401 with `code: invalid_token`.",
        }
