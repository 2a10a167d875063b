"""Who may call the APIs: editorial-API tokens of staff users (django-rest-knox) and API keys of
downstream sites (djangorestframework-api-key). Each is created and revoked here only, and
audited: `editorial_token.create` / `.revoke`, `api_key.create` / `.revoke`. The audit keeps
what identifies a credential (a token's lookup key, a key's prefix, its name, owner and expiry),
never the secret or its hash; the secret itself is returned once, to be shown once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken
from rest_framework_api_key.models import APIKey

from articles.models import iso
from governance.models import EditorialToken
from governance.workflow import audit, policies
from governance.workflow.exceptions import ContentInvalid, GovernanceError, NotPermitted

API_KEY_NAME_MAX = APIKey._meta.get_field("name").max_length


# --- editorial tokens ---------------------------------------------------------------------------

def _token_data(token: AuthToken) -> dict[str, Any]:
    return {"user": token.user.get_username(), "token_key": token.token_key, "expiry": iso(token.expiry)}


def editorial_token_create(*, actor: Any, user: Any, expires_in: dt.timedelta) -> tuple[EditorialToken, str]:
    """A new editorial-API token for `user`, expiring after `expires_in`; returns the row and the
    token (shown once: only its digest is stored). `actor` None is the system (the
    `drf_create_token` command, run by whoever holds the server); in the app, the managing editor."""
    if actor is not None and not policies.may_manage_api_access(actor):
        raise NotPermitted("Only the managing editor creates editorial tokens.", rule="may_manage_api_access")
    if not user.is_active:
        raise ContentInvalid({"user": [f"{user.get_username()} is not an active user."]})
    if expires_in <= dt.timedelta(0):
        raise ContentInvalid({"expires_in": ["A token must expire in the future."]})
    with transaction.atomic():
        token_row, token = EditorialToken.objects.create(user=user, expiry=expires_in)  # knox's manager: digest only
        audit.record(action="editorial_token.create", obj=token_row, actor=actor, object_id=token_row.token_key,
                     data=_token_data(token_row))
    return token_row, token


def editorial_token_revoke(*, actor: Any, token: AuthToken) -> None:
    """Revoke an editorial token: knox's way, the row is deleted (it answers 401 from the next
    request, in every process); the audit keeps which token it was, whose, and when it would
    have expired. The managing editor revokes anyone's; a user their own."""
    if actor is not None and not policies.may_revoke_editorial_token(actor, token):
        raise NotPermitted("Only the managing editor revokes another user's editorial tokens.",
                           rule="may_manage_api_access")
    with transaction.atomic():
        token_row = EditorialToken.objects.select_for_update(of=("self",)).select_related("user").filter(
            pk=token.pk).first()
        if token_row is None:
            raise GovernanceError("This token has already been revoked.", rule="token_exists")
        data = {**_token_data(token_row), "created": iso(token_row.created)}
        audit.record(action="editorial_token.revoke", obj=token_row, actor=actor, object_id=token_row.token_key,
                     data=data)
        token_row.delete()


# --- API keys of downstream sites ---------------------------------------------------------------

def _key_data(api_key: APIKey) -> dict[str, Any]:
    return {"prefix": api_key.prefix, "name": api_key.name, "expiry": iso(api_key.expiry_date)}


def api_key_create(*, actor: Any, name: str, expiry_date: dt.datetime | None = None) -> tuple[APIKey, str]:
    """A downstream site's key for the public API; returns the row and the key (shown once: only
    a hash is stored). `actor` None is the system (`create_api_key`); in the admin, the managing
    editor."""
    if actor is not None and not policies.may_manage_api_access(actor):
        raise NotPermitted("Only the managing editor creates API keys.", rule="may_manage_api_access")
    name = (name or "").strip()
    if not name:
        raise ContentInvalid({"name": ["Give the downstream site a name."]})
    if len(name) > API_KEY_NAME_MAX:
        raise ContentInvalid({"name": [f"The name is longer than {API_KEY_NAME_MAX} characters."]})
    if expiry_date is not None and expiry_date <= timezone.now():
        raise ContentInvalid({"expiry_date": ["The expiry date is in the past."]})
    with transaction.atomic():
        api_key, key = APIKey.objects.create_key(name=name, expiry_date=expiry_date)
        audit.record(action="api_key.create", obj=api_key, actor=actor, object_id=api_key.prefix,
                     data=_key_data(api_key))
    return api_key, key


def api_key_revoke(*, actor: Any, api_key: APIKey, reason: str = "") -> APIKey:
    """Revoke a downstream site's key: `revoked` is set and saved (never deleted, so its history
    stays), which sends post_save for the public API to forget any copy it verified."""
    if actor is not None and not policies.may_manage_api_access(actor):
        raise NotPermitted("Only the managing editor revokes API keys.", rule="may_manage_api_access")
    with transaction.atomic():
        locked = APIKey.objects.select_for_update().get(pk=api_key.pk)
        if locked.revoked:
            raise GovernanceError(f"The API key {locked.prefix} ({locked.name}) is already revoked.",
                                  rule="api_key_active")
        locked.revoked = True
        locked.save()  # a model save, not a queryset update: post_save must fire
        audit.record(action="api_key.revoke", obj=locked, actor=actor, object_id=locked.prefix, reason=reason,
                     data=_key_data(locked))
    return locked
