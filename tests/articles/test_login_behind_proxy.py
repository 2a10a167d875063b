"""Login lockout (django-axes) behind the TLS proxy (BEHIND_TLS_PROXY) keys on the client's address
as the one trusted proxy appended it to X-Forwarded-For, not on the proxy's own address: one person
failing to sign in cannot lock everyone out, and what a client writes into the header itself is
not trusted."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

PROXY = "10.0.0.1"


def _sign_in(client, password: str, forwarded_for: str | None):
    extra = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post("/editor/login/", {"username": "writer", "password": password}, **extra)


@pytest.fixture
def behind_proxy(settings):
    settings.BEHIND_TLS_PROXY = True
    return settings


def test_two_clients_behind_the_proxy_are_locked_out_separately(client, writer, behind_proxy):
    for _ in range(behind_proxy.AXES_FAILURE_LIMIT):
        refused = _sign_in(client, "wrong", "198.51.100.7")
    other = _sign_in(client.__class__(), PASSWORD, "203.0.113.20")

    assert refused.status_code == 429
    assert other.status_code == 302  # signed in: the other client is not locked out
    assert _sign_in(client.__class__(), PASSWORD, "198.51.100.7").status_code == 429


def test_a_forged_forwarded_for_does_not_escape_the_lockout(client, writer, behind_proxy):
    for i in range(behind_proxy.AXES_FAILURE_LIMIT):
        # The proxy appends the address it saw; what the client sent stands before it.
        _sign_in(client, "wrong", f"192.0.2.{i}, 198.51.100.7")

    assert _sign_in(client, PASSWORD, "192.0.2.200, 198.51.100.7").status_code == 429


def test_without_the_proxy_the_header_is_ignored(client, writer, settings):
    settings.BEHIND_TLS_PROXY = False
    for i in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "wrong", f"198.51.100.{i}")

    assert _sign_in(client, PASSWORD, "203.0.113.99").status_code == 429  # all from REMOTE_ADDR
