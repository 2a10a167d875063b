import datetime as dt
import os
import subprocess
import sys
import time

import pytest
import time_machine
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey


def test_it_refuses_a_request_without_a_key_with_401(db):
    response = APIClient().get("/api/v1/articles/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response.json()["code"] == "not_authenticated"


def test_it_refuses_a_wrong_key_with_401(db, api_key):
    client = APIClient()
    wrong = api_key[:-1] + ("y" if api_key.endswith("x") else "x")  # one character off, whatever it was
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {wrong}")

    response = client.get("/api/v1/topics/")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_it_refuses_a_revoked_key(site, api_key):
    assert site.get("/api/v1/topics/").status_code == 200
    key = APIKey.objects.get_from_key(api_key)
    key.revoked = True
    key.save()

    assert site.get("/api/v1/topics/").status_code == 401


def test_it_stores_only_a_hash_of_the_key(api_key):
    stored = APIKey.objects.get()

    assert api_key not in stored.hashed_key
    assert api_key.split(".")[1] not in str(APIKey.objects.values_list().get())


def test_it_opens_the_read_api_to_anonymous_clients_only_when_allowed(db, settings):
    assert APIClient().get("/api/v1/topics/").status_code == 401
    settings.IMPRIMATUR_PUBLIC_API_ANONYMOUS = True

    assert APIClient().get("/api/v1/topics/").status_code == 200


def _with_rates(settings, **rates):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}}


def test_it_throttles_per_key_with_retry_after(frozen_clock, site, settings, db):
    _with_rates(settings, api_key="3/min")
    _, other_key = APIKey.objects.create_key(name="another-site.example")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_key}")

    statuses = [site.get("/api/v1/topics/").status_code for _ in range(4)]
    throttled = site.get("/api/v1/topics/")

    assert statuses == [200, 200, 200, 429]
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert throttled.json()["code"] == "throttled"
    assert other.get("/api/v1/topics/").status_code == 200


def test_it_throttles_anonymous_clients_at_their_own_rate(frozen_clock, db, settings):
    settings.IMPRIMATUR_PUBLIC_API_ANONYMOUS = True
    _with_rates(settings, anon_public="2/min")
    client = APIClient()

    assert [client.get("/api/v1/topics/").status_code for _ in range(3)] == [200, 200, 429]


def test_it_creates_a_key_from_the_command_line_and_prints_it_once(db, capsys):
    call_command("create_api_key", "nhs-trust.example")

    printed = capsys.readouterr().out
    key = printed.splitlines()[1].strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert APIKey.objects.get().name == "nhs-trust.example"
    assert client.get("/api/v1/topics/").status_code == 200


def test_it_refuses_a_key_without_a_name(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_key", "  ")


def _counter(key_id: str, window: int):
    return cache.get(f"throttle:api_key:{key_id}:{window}")


@time_machine.travel(dt.datetime(2026, 3, 2, 12, 0, 45, tzinfo=dt.UTC), tick=False)
def test_it_counts_each_key_once_per_request_in_a_fixed_window_in_the_cache(site, api_key, settings, make_article,
                                                                             drive):
    _with_rates(settings, api_key="3/min")
    drive(make_article(), "published")
    key_id = str(APIKey.objects.get_from_key(api_key).pk)
    window = int(time.time() // 60)

    assert site.get("/api/v1/articles/").status_code == 200  # one statement
    assert site.get("/api/v1/articles/", {"q": "heart"}).status_code == 200  # through the ORM
    assert site.get("/api/v1/articles/no-such-article/").status_code == 404  # an error is counted too
    assert _counter(key_id, window) == 3  # one int per key and window, not a list of timestamps

    refused = [site.get("/api/v1/articles/"), site.get("/api/v1/topics/")]

    assert [r.status_code for r in refused] == [429, 429]
    assert [r["Retry-After"] for r in refused] == ["15", "15"]  # seconds to the end of the minute
    assert _counter(key_id, window) == 5  # a refusal is counted once
    with time_machine.travel(dt.datetime(2026, 3, 2, 12, 1, 0, tzinfo=dt.UTC), tick=False):
        assert site.get("/api/v1/articles/").status_code == 200  # a new window


def test_it_reads_the_rate_left_from_the_shared_cache(frozen_clock, site, api_key, settings, db):
    # What another worker counted is in the cache every worker reads: here, two requests' worth.
    _with_rates(settings, api_key="3/min")
    key_id = str(APIKey.objects.get_from_key(api_key).pk)
    window = int(time.time() // 60)
    cache.set(f"throttle:api_key:{key_id}:{window}", 2, 61)  # the clock stands still: the minute cannot turn

    assert [site.get("/api/v1/articles/").status_code for _ in range(2)] == [200, 429]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the shared Redis cache needs REDIS_URL (CI sets it)")
def test_it_shares_the_limit_between_processes_through_redis(site, api_key, settings, db):
    assert isinstance(caches["default"], RedisCache)
    _with_rates(settings, api_key="3/d")
    key_id = str(APIKey.objects.get_from_key(api_key).pk)
    counter = f"throttle:api_key:{key_id}:{int(time.time() // 86400)}"
    another_worker = ("import django; django.setup(); from articles.api.authentication import count_request; "
                      f"print([count_request({counter!r}, 86401) for _ in range(2)])")

    done = subprocess.run([sys.executable, "-c", another_worker], capture_output=True, text=True, check=True,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}, timeout=60)

    assert done.stdout.strip() == "[1, 2]"
    assert [site.get("/api/v1/articles/").status_code for _ in range(2)] == [200, 429]
    assert cache.get(counter) == 4


def test_it_serves_readers_and_revokes_keys_while_the_shared_cache_is_unreachable(site, api_key, settings):
    _with_rates(settings, api_key="1/d")
    # Nothing listens on port 1: every cache call raises redis' ConnectionError.
    unreachable = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=unreachable):
        statuses = [site.get("/api/v1/articles/").status_code for _ in range(3)]
        key = APIKey.objects.get_from_key(api_key)
        key.revoked = True
        key.save()
        after_revocation = site.get("/api/v1/articles/").status_code

    assert statuses == [200, 200, 200]  # verified in the database, not counted, not refused
    assert after_revocation == 401
