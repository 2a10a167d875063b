"""Who may read each public endpoint, and how often: one implementation per endpoint, so the same
refusals on every one (401 without a usable key, 429 with Retry-After over the rate), and a key
revoked behind the process's back is refused whatever the endpoint would have answered."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

ENDPOINTS = {
    "detail": "/api/v1/articles/{slug}/",
    "list": "/api/v1/articles/",
    "list page": "/api/v1/articles/?page_size=1&cursor=cD0w",
    "filtered list": "/api/v1/articles/?topic=cardiology",
    "changes": "/api/v1/changes/",
    "board": "/api/v1/board/",
    "topics": "/api/v1/topics/",
    "policy": "/api/v1/policy/",
}


@pytest.fixture
def urls(make_article, drive) -> dict[str, str]:
    article = drive(make_article(), "published")
    return {name: url.format(slug=article.slug) for name, url in ENDPOINTS.items()}


def _rates(settings, **rates) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}}


def test_every_endpoint_refuses_a_missing_or_wrong_key_with_401(urls, api_key):
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Api-Key " + api_key[:-1] + ("y" if api_key.endswith("x") else "x"))
    for name, url in urls.items():
        missing, refused = APIClient().get(url), wrong.get(url)
        assert (missing.status_code, missing.json()["code"], missing["WWW-Authenticate"]) == (
            401, "not_authenticated", "Api-Key"), name
        assert (refused.status_code, refused.json()["code"], refused["WWW-Authenticate"]) == (
            401, "invalid_api_key", "Api-Key"), name


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_endpoint_counts_each_request_once_and_answers_429_with_retry_after(site, urls, api_key, settings,
                                                                                 name):
    _rates(settings, api_key="2/min")
    key_id = str(APIKey.objects.get_from_key(api_key).pk)

    statuses = [site.get(urls[name]).status_code for _ in range(2)]
    refused = site.get(urls[name])

    assert set(statuses) <= {200, 404} and refused.status_code == 429, (statuses, refused.content)
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert cache.get(f"throttle:api_key:{key_id}:{int(time.time() // 60)}") in (3, None)  # None: the minute turned


def _revoke_behind_our_back(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE rest_framework_api_key_apikey SET revoked = %s WHERE prefix = %s",
                       [True, key.partition(".")[0]])


def test_a_revoked_key_is_refused_whatever_the_endpoint_would_have_answered(site, urls, api_key):
    refusals = {"bad parameter": urls["detail"] + "?audience=everyone", "bad cursor": "/api/v1/articles/?cursor=x",
                "missing": "/api/v1/articles/no-such-article/", "bad since": "/api/v1/changes/?since=bm90"}
    before = {name: site.get(url).status_code for name, url in refusals.items()}

    _revoke_behind_our_back(api_key)  # the key's hash stays remembered by this process
    after = {name: site.get(url) for name, url in refusals.items()}

    assert before == {"bad parameter": 400, "bad cursor": 400, "missing": 404, "bad since": 400}
    assert {name: r.status_code for name, r in after.items()} == {name: 401 for name in refusals}
    assert {r.json()["code"] for r in after.values()} == {"invalid_api_key"}

