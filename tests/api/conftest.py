"""Clients of the API: a downstream site with an API key, and editorial users with editorial
tokens (django-rest-knox, made by the same service as `manage.py drf_create_token`)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from governance.workflow import api_access


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


def editorial_token(user) -> str:
    # Ten years: tests that travel in time must not meet an expired token by accident.
    return api_access.editorial_token_create(actor=None, user=user, expires_in=dt.timedelta(days=3650))[1]


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {editorial_token(user)}")
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
