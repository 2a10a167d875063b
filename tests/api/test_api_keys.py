import pytest
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey


def test_it_refuses_a_request_without_a_key_with_401(db):
    response = APIClient().get("/api/v1/articles/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response.json()["code"] == "not_authenticated"


def test_it_refuses_a_wrong_key_with_401(db, api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key[:-1]}x")

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


def test_it_throttles_per_key_with_retry_after(site, settings, db):
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


def test_it_throttles_anonymous_clients_at_their_own_rate(db, settings):
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
