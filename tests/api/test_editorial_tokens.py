"""Editorial-API tokens (`Authorization: Token <token>`) are django-rest-knox tokens: stored as
a digest, expiring, created by `manage.py drf_create_token USERNAME` (printed once) and revoked
by the managing editor in the admin, each audited (`editorial_token.create` / `.revoke`). An
expired or revoked token answers 401."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from governance.models import AuditEvent
from governance.workflow import api_access
from governance.workflow.exceptions import NotPermitted

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
ARTICLES = "/api/v1/editorial/articles/"
TOKENS = "admin:governance_editorialtoken_changelist"


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def create_token(capsys, *args: str) -> str:
    call_command("drf_create_token", *args)
    out = capsys.readouterr().out.split()
    assert out[0] == "Generated" and out[3:] == ["for", "user", args[0]], out  # DRF's own first line
    return out[2]


def test_the_command_prints_a_token_once_and_stores_only_its_digest(chief, capsys):
    with time_machine.travel(NOON, tick=False):
        token = create_token(capsys, "chief")

    stored = AuthToken.objects.get(user=chief)
    assert stored.expiry == NOON + dt.timedelta(days=90)  # IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS
    row = json.dumps(list(AuthToken.objects.values_list()), default=str)
    assert token not in row and token[15:] not in row
    with time_machine.travel(NOON + dt.timedelta(days=1)):
        assert with_token(token).get(ARTICLES).status_code == 200
    event = AuditEvent.objects.get(action="editorial_token.create")
    assert event.data == {"user": "chief", "token_key": stored.token_key,
                          "expiry": (NOON + dt.timedelta(days=90)).isoformat()}
    assert token not in json.dumps([event.object_id, event.object_repr, event.data])


def test_the_command_takes_the_lifetime_from_an_option_or_the_setting(chief, capsys, settings):
    settings.IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS = 7
    with time_machine.travel(NOON, tick=False):
        create_token(capsys, "chief")
        create_token(capsys, "chief", "--expires-in-days", "2")

    assert sorted(AuthToken.objects.values_list("expiry", flat=True)) == [NOON + dt.timedelta(days=2),
                                                                          NOON + dt.timedelta(days=7)]


def test_reset_revokes_the_users_other_tokens(chief, capsys):
    old = create_token(capsys, "chief")

    new = create_token(capsys, "chief", "--reset")

    assert with_token(old).get(ARTICLES).status_code == 401
    assert with_token(new).get(ARTICLES).status_code == 200
    assert AuditEvent.objects.filter(action="editorial_token.revoke").count() == 1


@pytest.mark.parametrize("args", [("nobody",), ("chief", "--expires-in-days", "0"),
                                  ("chief", "--expires-in-days", "99999")])
def test_the_command_refuses_an_unknown_user_or_a_bad_lifetime(chief, args):
    with pytest.raises(CommandError):
        call_command("drf_create_token", *args)
    assert not AuthToken.objects.exists()


def test_an_expired_token_answers_401(chief, capsys):
    with time_machine.travel(NOON, tick=False):
        token = create_token(capsys, "chief", "--expires-in-days", "1")

    with time_machine.travel(NOON + dt.timedelta(days=1, seconds=1)):
        response = with_token(token).get(ARTICLES)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert response["WWW-Authenticate"] == "Token"
    assert AuthToken.objects.filter(user=chief).exists()  # refused, not silently deleted


@pytest.mark.parametrize("header", ["Token ", "Token abc", "Token " + "g" * 64, "Token " + "0" * 64,
                                    "Token \u00ff\u00fe", "Token a%00b"])
def test_a_malformed_or_unknown_token_answers_401(db, header):
    response = APIClient().get(ARTICLES, HTTP_AUTHORIZATION=header.replace("%00", "\x00"))

    assert response.status_code == 401


def test_the_managing_editor_revokes_a_users_tokens_in_the_admin(client, chief, writer, capsys):
    token = create_token(capsys, "writer")
    other = create_token(capsys, "writer")
    client.force_login(chief)

    listing = client.get(reverse(TOKENS)).content.decode()
    stored = AuthToken.objects.get(token_key=token[:15])
    response = client.post(reverse(TOKENS), {"action": "revoke_tokens", "_selected_action": [stored.pk]}, follow=True)

    assert token[:15] in listing and "writer" in listing and token not in listing
    assert any("1 token(s) revoked" in str(m) for m in response.context["messages"])
    assert with_token(token).get(ARTICLES).status_code == 401
    assert with_token(other).get(ARTICLES).status_code == 200
    event = AuditEvent.objects.get(action="editorial_token.revoke")
    assert (event.actor_username, event.data["user"], event.data["token_key"]) == ("chief", "writer", token[:15])


def test_nobody_but_the_managing_editor_keeps_tokens_in_the_admin(client, writer, board, capsys):
    token = create_token(capsys, "writer")
    stored = AuthToken.objects.get()
    for user in (writer, board[0].user):
        client.force_login(user)
        assert client.get(reverse(TOKENS)).status_code in (302, 403)  # 302: not staff, to the admin's login
        client.post(reverse(TOKENS), {"action": "revoke_tokens", "_selected_action": [stored.pk]})
    assert with_token(token).get(ARTICLES).status_code == 200
    with pytest.raises(NotPermitted):
        api_access.editorial_token_revoke(actor=board[0].user, token=stored)


def test_the_admin_creates_no_token_and_knox_own_admin_is_gone(client, chief):
    from django.contrib import admin

    client.force_login(chief)

    assert client.get(reverse("admin:governance_editorialtoken_add")).status_code == 403
    assert AuthToken not in admin.site._registry


def test_drf_authtoken_is_gone(db):
    assert not apps.is_installed("rest_framework.authtoken")
    assert "authtoken_token" not in connection.introspection.table_names()


def test_the_schema_documents_the_token_scheme(db):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    schemes = schema["components"]["securitySchemes"]
    operation = schema["paths"]["/api/v1/editorial/articles/"]["get"]

    (name,) = [n for n, s in schemes.items() if "Token" in json.dumps(s)]
    assert {"type": "apiKey", "in": "header", "name": "Authorization"}.items() <= schemes[name].items()
    assert "expire" in schemes[name]["description"] and "drf_create_token" in schemes[name]["description"]
    assert {name: []} in operation["security"]
