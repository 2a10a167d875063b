"""Clients of the API: a downstream site with an API key, and editorial users with DRF tokens."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters and verified keys live in the cache; every test starts from none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_key(db) -> str:
    _, key = APIKey.objects.create_key(name="heart-charity.example")
    return key


@pytest.fixture
def site(api_key) -> APIClient:
    """A downstream site's client, sending its API key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def as_writer(writer) -> APIClient:
    return token_client(writer)


@pytest.fixture
def as_chief(chief) -> APIClient:
    return token_client(chief)


@pytest.fixture
def as_reviewer(board):
    """A client for each board member: `as_reviewer(board[0])`."""
    return lambda member: token_client(member.user)


@pytest.fixture
def settings_override_rates(settings):
    """Rates high enough for tests that make thousands of requests in a minute."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"api_key": "1000000/min", "anon_public": "1000000/min"}}
