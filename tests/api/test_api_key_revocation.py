"""A revoked or expired API key is refused on the very next request in every process, on every
public endpoint (the 304 path included), with no query added to the hot path: the key's state is
read in the same SQL statement as the stored response. Only the key's hash verification is
remembered by a process (prefix + digest → key id); nothing a revocation must invalidate."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.utils import timezone
from rest_framework_api_key.models import APIKey

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


@pytest.fixture
def live(make_article, drive, chief):
    from governance.workflow import services

    article = drive(make_article(title="Live article"), "published")
    gone = drive(make_article(title="Withdrawn article"), "published")
    services.article_withdraw(article=gone, actor=chief, reason="Superseded")
    return article, gone


def _urls(article, gone) -> dict[str, str]:
    return {
        "detail": f"/api/v1/articles/{article.slug}/",
        "jsonld": f"/api/v1/articles/{article.slug}/?format=jsonld",
        "list": "/api/v1/articles/",
        "list page": "/api/v1/articles/?page_size=1&cursor=cD0w",  # p=0: after the slug "0"
        "filtered list": "/api/v1/articles/?q=live",
        "changes": "/api/v1/changes/",
        "gone": f"/api/v1/articles/{gone.slug}/",
        "missing": "/api/v1/articles/no-such-article/",
        "board": "/api/v1/board/",
        "topics": "/api/v1/topics/",
        "policy": "/api/v1/policy/",
    }


def _revoke_behind_our_back(key: str, **columns) -> None:
    """What another process's save does to the row: no signal, no cache call in this process."""
    prefix = key.partition(".")[0]
    assignments = ", ".join(f"{name} = %s" for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE rest_framework_api_key_apikey SET {assignments} WHERE prefix = %s",
                       [*columns.values(), prefix])


@pytest.mark.parametrize("change", ["revoked", "expired"])
def test_a_key_revoked_or_expired_elsewhere_is_refused_at_once_everywhere(site, api_key, live, change,
                                                                          settings_override_rates):
    urls = _urls(*live)
    etag = site.get(urls["detail"])["ETag"]
    before = {name: site.get(url).status_code for name, url in urls.items()}
    assert site.get(urls["detail"], HTTP_IF_NONE_MATCH=etag).status_code == 304

    if change == "revoked":
        _revoke_behind_our_back(api_key, revoked=True)
    else:
        _revoke_behind_our_back(api_key, expiry_date=timezone.now() - dt.timedelta(seconds=1))
    after = {name: site.get(url) for name, url in urls.items()}
    revalidated = site.get(urls["detail"], HTTP_IF_NONE_MATCH=etag)

    assert set(before.values()) <= {200, 404, 410}, before
    assert {name: r.status_code for name, r in after.items()} == {name: 401 for name in urls}
    assert revalidated.status_code == 401
    assert {r.json()["code"] for r in after.values()} == {"invalid_api_key"}
    assert {r["WWW-Authenticate"] for r in after.values()} == {"Api-Key"}


def test_it_reads_the_key_state_in_the_hot_requests_single_statement(site, api_key, live,
                                                                     django_assert_num_queries):
    urls = _urls(*live)
    etag = site.get(urls["detail"])["ETag"]  # the key's hash verified (one look-up), then remembered
    for name in ("detail", "list", "list page", "changes"):
        with django_assert_num_queries(1):
            assert site.get(urls[name]).status_code == 200, name
    with django_assert_num_queries(1):
        assert site.get(urls["detail"], HTTP_IF_NONE_MATCH=etag).status_code == 304

    _revoke_behind_our_back(api_key, revoked=True)
    for name in ("detail", "list", "list page", "changes"):
        with django_assert_num_queries(1):
            assert site.get(urls[name]).status_code == 401, name
    with django_assert_num_queries(1):
        assert site.get(urls["detail"], HTTP_IF_NONE_MATCH=etag).status_code == 401


def test_a_new_key_works_at_once_and_a_deleted_one_is_refused(site, api_key, live):
    url = _urls(*live)["detail"]
    assert site.get(url).status_code == 200

    APIKey.objects.filter(prefix=api_key.partition(".")[0]).delete()

    assert site.get(url).status_code == 401


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def another_process(live_db, tmp_path):
    """A gunicorn web process (one sync worker) on 127.0.0.1, serving the test database."""
    from tests.reliability.conftest import database_url

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "IMPRIMATUR_MANIFEST_STATIC": "0", "LOG_LEVEL": "WARNING",
           "IMPRIMATUR_API_KEY_RATE": "100000/min", "DJANGO_SETTINGS_MODULE": "config.settings"}
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([GUNICORN, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                requests.get(base + "/api/v1/topics/", timeout=5)  # 401: no key, but the worker answers
                break
            except (requests.ConnectionError, requests.Timeout):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("gunicorn did not start:\n" + log.read_text(errors="replace")) from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.postgres
def test_a_key_revoked_in_one_process_is_refused_at_once_by_another(another_process, live):
    key_row, key = APIKey.objects.create_key(name="mirror.example")
    urls = _urls(*live)
    headers = {"Authorization": f"Api-Key {key}"}
    etag = requests.get(another_process + urls["detail"], headers=headers, timeout=10).headers["ETag"]
    before = {name: requests.get(another_process + url, headers=headers, timeout=10).status_code
              for name, url in urls.items()}

    key_row.revoked = True
    key_row.save()  # as the admin's revocation saves it, in this process
    after = {name: requests.get(another_process + url, headers=headers, timeout=10).status_code
             for name, url in urls.items()}
    revalidated = requests.get(another_process + urls["detail"], headers={**headers, "If-None-Match": etag}, timeout=10)

    assert set(before.values()) <= {200, 404, 410}, before
    assert after == {name: 401 for name in urls}
    assert revalidated.status_code == 401
