"""The managing editor creates and revokes downstream sites' API keys in the admin, the key shown
exactly once; `manage.py create_api_key` goes through the same service. Each is audited
(`api_key.create`, `api_key.revoke`: prefix, name, expiry, never the secret); revoking sets
`revoked` (the row stays) with a model save, so post_save fires."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db.models.signals import post_save
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from governance.models import AuditEvent
from governance.workflow import api_access
from governance.workflow.exceptions import NotPermitted

ADD = "admin:rest_framework_api_key_apikey_add"
LIST = "admin:rest_framework_api_key_apikey_changelist"


def reads(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client.get("/api/v1/topics/").status_code


def key_shown(html: str) -> str:
    start = html.index('id="api-key">') + len('id="api-key">')
    return html[start:html.index("<", start)].strip()


def test_the_managing_editor_creates_a_key_shown_exactly_once(client, chief):
    client.force_login(chief)

    form = client.get(reverse(ADD))
    created = client.post(reverse(ADD), {"name": "heart-charity.example", "expiry_date_0": "2099-01-31",
                                         "expiry_date_1": "12:00:00"})

    assert form.status_code == 200
    assert created.status_code == 200
    key = key_shown(created.content.decode())
    stored = APIKey.objects.get()
    assert (stored.name, stored.prefix, key.split(".")[0]) == ("heart-charity.example", stored.prefix, stored.prefix)
    assert stored.expiry_date == dt.datetime(2099, 1, 31, 12, tzinfo=dt.UTC)
    assert reads(key) == 200
    later = [client.get(reverse(LIST)), client.get(reverse("admin:rest_framework_api_key_apikey_change",
                                                           args=[stored.pk]))]
    assert all(page.status_code == 200 and key not in page.content.decode() for page in later)
    event = AuditEvent.objects.get(action="api_key.create")
    assert event.actor_username == "chief"
    assert (event.object_id, event.data) == (stored.prefix, {"prefix": stored.prefix, "name": "heart-charity.example",
                                                             "expiry": "2099-01-31T12:00:00+00:00"})
    secret = key.split(".", 1)[1]
    assert secret not in json.dumps([event.object_id, event.object_repr, event.data])
    assert stored.hashed_key not in json.dumps(event.data)


@pytest.mark.parametrize(("fields", "error"), [({"name": "  "}, "name"),
                                               ({"name": "x" * 51}, "name"),
                                               ({"name": "site", "expiry_date_0": "2001-01-01",
                                                 "expiry_date_1": "00:00:00"}, "expiry_date")])
def test_it_refuses_a_bad_name_or_an_expiry_in_the_past_naming_the_field(client, chief, fields, error):
    client.force_login(chief)

    response = client.post(reverse(ADD), fields)

    assert response.status_code == 200
    assert error in response.context["form"].errors
    assert not APIKey.objects.exists()
    assert not AuditEvent.objects.filter(action="api_key.create").exists()


def test_the_managing_editor_revokes_keys_keeping_them(client, chief, site, api_key):
    client.force_login(chief)
    assert site.get("/api/v1/topics/").status_code == 200  # verified once: remembered in the cache
    stored = APIKey.objects.get()

    response = client.post(reverse(LIST), {"action": "revoke_keys", "_selected_action": [stored.pk]}, follow=True)
    again = client.post(reverse(LIST), {"action": "revoke_keys", "_selected_action": [stored.pk]}, follow=True)

    assert any("1 key(s) revoked" in str(m) for m in response.context["messages"])
    assert any("already revoked" in str(m) for m in again.context["messages"])
    assert APIKey.objects.get().revoked
    assert site.get("/api/v1/topics/").status_code == 401  # the cached copy was forgotten on post_save
    event = AuditEvent.objects.get(action="api_key.revoke")
    assert (event.actor_username, event.data["prefix"], event.data["name"]) == ("chief", stored.prefix,
                                                                                  "heart-charity.example")


def test_revoking_saves_the_key_so_post_save_fires(chief, api_key):
    saved = []

    def record(sender, instance, **kwargs):
        saved.append((sender, instance.revoked))

    post_save.connect(record, sender=APIKey)
    try:
        api_access.api_key_revoke(actor=chief, api_key=APIKey.objects.get())
    finally:
        post_save.disconnect(record, sender=APIKey)

    assert saved == [(APIKey, True)]


def test_the_command_creates_the_key_through_the_audited_service(db, capsys):
    call_command("create_api_key", "nhs-trust.example", "--expires-in-days", "30")

    key = capsys.readouterr().out.splitlines()[1].strip()
    event = AuditEvent.objects.get(action="api_key.create")
    assert (event.actor_username, event.data["name"], event.data["prefix"]) == ("system", "nhs-trust.example",
                                                                                 key.split(".")[0])
    assert reads(key) == 200


def test_nobody_else_keeps_api_keys(client, board, writer, api_key):
    stored = APIKey.objects.get()
    client.force_login(board[0].user)

    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(reverse(ADD)).status_code == 403
    client.post(reverse(LIST), {"action": "revoke_keys", "_selected_action": [stored.pk]})
    assert not APIKey.objects.get().revoked
    for actor in (board[0].user, writer):
        with pytest.raises(NotPermitted):
            api_access.api_key_revoke(actor=actor, api_key=stored)
        with pytest.raises(NotPermitted):
            api_access.api_key_create(actor=actor, name="mine.example")


def test_the_key_cannot_be_edited_or_deleted_in_the_admin(client, chief, api_key):
    stored = APIKey.objects.get()
    client.force_login(chief)
    change = reverse("admin:rest_framework_api_key_apikey_change", args=[stored.pk])

    client.post(change, {"name": "renamed", "revoked": "on"})
    client.post(reverse(LIST), {"action": "delete_selected", "_selected_action": [stored.pk], "post": "yes"})

    stored.refresh_from_db()
    assert (stored.name, stored.revoked) == ("heart-charity.example", False)
    assert not isinstance(admin.site._registry[APIKey], APIKeyModelAdmin)  # the library's unaudited admin is gone
