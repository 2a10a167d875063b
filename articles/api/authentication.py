"""Who may read the public API, and how fast.

Downstream sites send `Authorization: Api-Key <prefix>.<secret>` (djangorestframework-api-key:
only a hash is stored). Whether a key may read is two questions, answered differently:

- Does the secret match a stored hash? That never changes for a key, so each process remembers
  the answer (the SHA-256 of the key → the key's id; `IMPRIMATUR_API_KEY_CACHE_SECONDS`, at most
  `VERIFIED_KEYS_KEPT` keys) and verifies a key's hash once per that delay.
- Is the key still usable (not revoked, not expired)? That is read from the database on every
  request, in one place per request: by the public API's hot requests in the same SQL statement
  as their rows (`key_usable_sql`, articles.api.statements), by any other response in one
  primary-key look-up before it leaves (`confirm_key`, from PublicView.finalize_response). A
  revocation or an expiry made by any process (the admin, a CLI, a raw UPDATE) is refused on the
  very next request in every process, with nothing to invalidate.

Rates are fixed-window counters in the cache (FixedWindowRateThrottle): shared by all the
workers when it is Redis.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.settings import api_settings
from rest_framework_api_key.models import APIKey
from rest_framework_api_key.permissions import KeyParser

try:
    from redis.exceptions import RedisError as _CacheDown
except ImportError:  # pragma: no cover - redis-py comes with celery[redis]
    _CacheDown = OSError

KEYWORD = "Api-Key"
VERIFIED_KEYS_KEPT = 4096
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownstreamSite:
    """The verified API key of a request (`request.auth`)."""

    key_id: str
    prefix: str
    name: str


def _cache_seconds() -> int:
    return int(getattr(settings, "IMPRIMATUR_API_KEY_CACHE_SECONDS", 300))


class _VerifiedKeys:
    """This process's memory of keys whose hash verified: digest → (when, site), least recently
    used dropped first. Holds no state a revocation changes."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[float, DownstreamSite]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> DownstreamSite | None:
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > _cache_seconds():
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry[1]

    def put(self, digest: str, site: DownstreamSite) -> None:
        if _cache_seconds() <= 0:
            return
        with self._lock:
            self._entries[digest] = (time.monotonic(), site)
            self._entries.move_to_end(digest)
            while len(self._entries) > VERIFIED_KEYS_KEPT:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


verified_keys = _VerifiedKeys()


@dataclass(frozen=True)
class IdentifiedKey:
    """A key whose hash matched: its site, and whether its usability was read just now (True when
    the row was loaded to verify it; False when the hash check came from this process's memory,
    and the key's state must still be read)."""

    site: DownstreamSite
    state_read: bool


def identify_key(key: str) -> IdentifiedKey | None:
    """The site whose stored hash the key matches, or None. A key remembered by this process is
    not looked up: its revocation and expiry are then for the caller to read (`key_is_usable`, or
    `key_usable_sql` inside the request's own statement)."""
    prefix = key.partition(".")[0]
    if not prefix or len(prefix) > 8 or "\x00" in key:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    site = verified_keys.get(digest)
    if site is not None:
        return IdentifiedKey(site, state_read=False)
    try:
        api_key = APIKey.objects.get_from_key(key)  # revoked keys excluded
    except APIKey.DoesNotExist:
        return None
    if api_key.has_expired:
        return None
    site = DownstreamSite(key_id=str(api_key.pk), prefix=api_key.prefix, name=api_key.name)
    verified_keys.put(digest, site)
    return IdentifiedKey(site, state_read=True)


def key_is_usable(key_id: str) -> bool:
    """Whether the key is neither revoked nor expired, now (one primary-key look-up)."""
    return APIKey.objects.filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=timezone.now()),
                                 pk=key_id, revoked=False).exists()


def key_usable_sql() -> tuple[str, str]:
    """A scalar sub-select that is 1 when the key (first parameter: its id) is neither revoked nor
    expired at the time given (second parameter), else NULL, and that parameter's value now: for
    a hot query to read the key's state in its own statement."""
    table = connection.ops.quote_name(APIKey._meta.db_table)
    sql = (f"(SELECT 1 FROM {table} k WHERE k.id = %s AND NOT k.revoked "
           "AND (k.expiry_date IS NULL OR k.expiry_date >= %s))")
    return sql, connection.ops.adapt_datetimefield_value(timezone.now())


# Set on a request by the authentication when the key's hash verified from this process's memory:
# the key id whose state (revoked, expired) is still to be read, once, before any response leaves.
KEY_TO_CONFIRM = "_imprimatur_api_key_to_confirm"
REFUSED = "The API key is unknown, revoked or expired."


def key_to_confirm(request: Any) -> str | None:
    """The id of the request's key when its state is still to be read, else None."""
    return getattr(request, KEY_TO_CONFIRM, None)


def settle_key(request: Any, *, usable: bool) -> None:
    """Record that the request's key state was read; refuse the request (401) if it is unusable."""
    setattr(request, KEY_TO_CONFIRM, None)
    if not usable:
        raise exceptions.AuthenticationFailed(REFUSED, code="invalid_api_key")


def confirm_key(request: Any) -> None:
    """Read the key's state now, if no statement of the request has read it (one look-up)."""
    key_id = key_to_confirm(request)
    if key_id is not None:
        settle_key(request, usable=key_is_usable(key_id))


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`. No key: not authenticated (401 unless anonymous reads are
    allowed). A wrong key: 401 at once; a revoked or expired one: 401 once its state is read,
    before any response leaves (`key_to_confirm`)."""

    parser = KeyParser()

    def authenticate(self, request: Any) -> tuple[Any, DownstreamSite] | None:
        key = self.parser.get_from_authorization(request)
        if key is None:
            return None
        identified = identify_key(key.strip())
        if identified is None:
            raise exceptions.AuthenticationFailed(REFUSED, code="invalid_api_key")
        setattr(request, KEY_TO_CONFIRM, None if identified.state_read else identified.site.key_id)
        return AnonymousUser(), identified.site

    def authenticate_header(self, request: Any) -> str:
        return KEYWORD


class PublicReadAccess(permissions.BasePermission):
    """A valid API key, or nothing at all when IMPRIMATUR_PUBLIC_API_ANONYMOUS is on."""

    message = "Send an API key: 'Authorization: Api-Key <key>'."

    def has_permission(self, request: Any, view: Any) -> bool:
        if isinstance(request.auth, DownstreamSite):
            return True
        return bool(getattr(settings, "IMPRIMATUR_PUBLIC_API_ANONYMOUS", False))


def count_request(key: str, timeout: int) -> int:
    """Add one to the counter `key` (created expiring after `timeout` seconds) and return it.

    On Redis one round trip: SET NX (the counter at 0, with its expiry, if there is none) and INCR,
    pipelined (Django's RedisCache.incr would make two: EXISTS, then INCR). Elsewhere incr first,
    add when the counter is new, incr again if another request added it first. The counter is an
    int stored as Django's Redis serializer stores ints (raw), so `cache.get(key)` reads it."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        raw_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(raw_key, write=True)
        with client.pipeline(transaction=False) as pipe:
            pipe.set(raw_key, 0, ex=timeout, nx=True)
            pipe.incr(raw_key)
            return int(pipe.execute()[1])
    try:
        return backend.incr(key)
    except ValueError:
        if backend.add(key, 1, timeout):
            return 1
        return backend.incr(key)


class FixedWindowRateThrottle(throttling.BaseThrottle):
    """At most N requests per window (`N/s|m|h|d`, rate setting `scope`, read on every request so
    a deployment or a test can change it) for each identity, counted in the cache: one counter
    per identity and window (not DRF's list of every request's timestamp, re-pickled on each
    request), so every worker sharing the cache (Redis) shares the limit. Windows start at
    multiples of their length since the epoch; a refused request answers 429 with `Retry-After`
    the seconds to the window's end."""

    scope = ""
    cache_format = "throttle:%(scope)s:%(ident)s"
    _wait: float | None = None

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        rate = self.get_rate()
        if rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        limit, duration = throttling.SimpleRateThrottle.parse_rate(self, rate)
        now = time.time()
        window = int(now // duration)
        try:
            count = count_request(f"{ident}:{window}", duration + 1)
        except _CacheDown:
            # The rate limit is a guard against runaway clients, not an access rule: with the
            # shared counters unreachable, serve (approved content only, as ever) and say so.
            logger.warning("cache unreachable: %s not counted against its rate", ident)
            return True
        if count <= limit:
            return True
        self._wait = (window + 1) * duration - now
        return False

    def wait(self) -> float | None:
        return self._wait


class ApiKeyRateThrottle(FixedWindowRateThrottle):
    """Per downstream site: rate setting `api_key` (default 1200/min)."""

    scope = "api_key"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not isinstance(request.auth, DownstreamSite):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.key_id}


class AnonymousPublicRateThrottle(FixedWindowRateThrottle):
    """Anonymous readers (when allowed), per client address: rate setting `anon_public`."""

    scope = "anon_public"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, DownstreamSite):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "articles.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A downstream site's key, sent as `Authorization: Api-Key <key>` "
            "(create one with `manage.py create_api_key NAME`).",
        }
