"""Who may read the public API, and how fast.

Downstream sites send `Authorization: Api-Key <prefix>.<secret>` (djangorestframework-api-key:
only a hash is stored). A verified key is remembered in the cache for a few seconds
(`IMPRIMATUR_API_KEY_CACHE_SECONDS`, default 30) so that a conditional GET answered with 304
costs one query, not two; a revoked key is forgotten from the cache at once (in every worker when
the cache is Redis, settings.CACHES; else within that delay in the other processes).

Rates are fixed-window counters in the same cache (FixedWindowRateThrottle): shared by all the
workers when it is Redis.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
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
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownstreamSite:
    """The verified API key of a request (`request.auth`)."""

    key_id: str
    prefix: str
    name: str


def _cache_key(prefix: str) -> str:
    return f"imprimatur:api-key:{prefix}"


def _cache_seconds() -> int:
    return int(getattr(settings, "IMPRIMATUR_API_KEY_CACHE_SECONDS", 30))


@receiver([post_save, post_delete], sender=APIKey)
def _forget_cached_key(sender: Any, instance: APIKey, **kwargs: Any) -> None:
    try:
        cache.delete(_cache_key(instance.prefix))
    except _CacheDown:
        # The revocation stands in the database; a copy cached before Redis went down lasts at
        # most IMPRIMATUR_API_KEY_CACHE_SECONDS.
        logger.warning("cache unreachable: could not forget API key %s", instance.prefix)


def verify_key(key: str) -> DownstreamSite | None:
    """The site a key belongs to, or None if the key is unknown, revoked or expired."""
    prefix = key.partition(".")[0]
    if not prefix or len(prefix) > 8 or "\x00" in key:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    try:
        cached = cache.get(_cache_key(prefix))
    except _CacheDown:
        # Redis down: verify against the database (one more query) rather than refuse readers.
        logger.warning("cache unreachable: verifying API key %s in the database", prefix)
        cached = None
    if cached is not None and cached[0] == digest:
        return cached[1]
    try:
        api_key = APIKey.objects.get_from_key(key)
    except APIKey.DoesNotExist:
        return None
    if api_key.has_expired:
        return None
    site = DownstreamSite(key_id=str(api_key.pk), prefix=api_key.prefix, name=api_key.name)
    with contextlib.suppress(_CacheDown):  # logged by the get above
        cache.set(_cache_key(prefix), (digest, site), _cache_seconds())
    return site


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`. No key: not authenticated (401 unless anonymous reads are
    allowed). A wrong, revoked or expired key: 401."""

    parser = KeyParser()

    def authenticate(self, request: Any) -> tuple[Any, DownstreamSite] | None:
        key = self.parser.get_from_authorization(request)
        if key is None:
            return None
        site = verify_key(key.strip())
        if site is None:
            raise exceptions.AuthenticationFailed("The API key is unknown, revoked or expired.", code="invalid_api_key")
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser(), site

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
