"""Webhook endpoints: the target is checked at registration as at delivery (one function), every
non-global address is refused, the delivery connects to the address that was checked (no second
DNS lookup to rebind), and the signing secret is validated, shown once and rotatable — every
change audited, the secret never.

Two stand-ins for the outside world, never for our code: `dns` answers for names under
partner.example (as a partner's DNS would, and may change its answer between two lookups), and
`internet` routes a connection to a public address to a real server on 127.0.0.1 (nothing
leaves the machine: any other non-loopback connect fails the test).
"""

from __future__ import annotations

import io
import json
import socket
import ssl

import pytest
import trustme
from django.core.management import CommandError, call_command
from django.urls import reverse
from standardwebhooks import Webhook

from governance.background import delivery
from governance.models import AuditEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from governance.workflow import configuration
from governance.workflow.exceptions import ContentInvalid
from tests.reliability.http_receiver import Receiver

PUBLIC = "93.184.215.14"  # a globally routed address; `internet` serves it locally
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Resolver:
    """The partner's DNS: answers set by the test, given in turn (the last one repeats)."""

    def __init__(self, real):
        self.real = real
        self.answers: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def answer(self, name: str, *addresses: str) -> None:
        self.answers[name] = list(addresses)

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        if host not in self.answers:
            return self.real(host, port, family, type, proto, flags)
        self.asked.append(host)
        queue = self.answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        port = int(port or 0)
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]


@pytest.fixture
def dns(monkeypatch):
    resolver = Resolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


class Internet:
    """Routes (public address, port) to a local server; any other non-loopback address is refused."""

    def __init__(self, real_connect):
        self.real_connect = real_connect
        self.routes: dict[tuple[str, int], tuple[str, int]] = {}
        self.connected: list[tuple[str, int]] = []

    def route(self, address: str, port: int, *, to: tuple[str, int]) -> None:
        self.routes[(address, port)] = to

    def connect(self, sock, address):
        host, port = address[0], address[1]
        self.connected.append((host, port))
        if (host, port) in self.routes:
            return self.real_connect(sock, self.routes[(host, port)])
        if not host.startswith("127.") and host != "::1":
            raise OSError(f"test network: no route to {host}")
        return self.real_connect(sock, address)


@pytest.fixture
def internet(monkeypatch):
    network = Internet(socket.socket.connect)
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: network.connect(sock, address))
    return network


@pytest.fixture
def receivers():
    started: list[Receiver] = []

    def start(*args, **kwargs) -> Receiver:
        receiver = Receiver(*args, **kwargs).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


def endpoint_for(url: str, secret: str | None = None) -> WebhookEndpoint:
    endpoint, _ = configuration.webhook_endpoint_create(actor=None, fields={"name": "Partner", "url": url},
                                                        secret=secret)
    return endpoint


# --- which addresses may receive webhooks ----------------------------------------------------------

@pytest.mark.parametrize("address", ["192.0.0.8", "100.64.0.1", "224.0.0.1", "0.0.0.0", "[64:ff9b::7f00:1]",
                                     "[2002:7f00:1::]", "[::ffff:127.0.0.1]", "[ff02::1]", "[fe80::1]"])
def test_it_refuses_every_address_that_is_not_globally_reachable(address):
    assert delivery.target_refusal(f"https://{address}/hook", allow_private=False)


@pytest.mark.parametrize("url", [f"https://{PUBLIC}/hook", "https://[2606:4700::1111]/hook", "http://192.0.0.9/"])
def test_it_accepts_a_public_address(url):
    assert delivery.target_refusal(url, allow_private=False) is None


def test_it_accepts_a_name_that_resolves_to_public_addresses_only(db, dns, settings):
    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = False
    dns.answer("hooks.partner.example", PUBLIC)
    endpoint = endpoint_for("https://hooks.partner.example/imprimatur")
    assert endpoint.url == "https://hooks.partner.example/imprimatur"
    dns.answer("hooks.partner.example", "10.0.0.7")
    with pytest.raises(ContentInvalid) as refused:
        endpoint_for("https://hooks.partner.example/other")
    assert "10.0.0.7" in refused.value.errors["url"][0]


def test_the_admin_refuses_the_cloud_metadata_address_at_registration(client, chief, settings):
    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = False
    client.force_login(chief)

    response = client.post(reverse("admin:governance_webhookendpoint_add"),
                           {"name": "metadata", "url": "http://169.254.169.254/latest/meta-data/"})

    assert response.status_code == 200
    assert "169.254.169.254" in str(response.context["adminform"].form.errors["url"])
    assert not WebhookEndpoint.objects.exists() and not AuditEvent.objects.exists()


def test_add_webhook_refuses_with_the_same_words_as_delivery(db, settings):
    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = False
    url = "http://192.0.0.8/hook"
    with pytest.raises(CommandError) as refused:
        call_command("add_webhook", url)
    assert str(refused.value) == f"url: {delivery.target_refusal(url)}"
    assert not WebhookEndpoint.objects.exists()


# --- the connection goes to the address that was checked ---------------------------------------------

def test_the_delivery_connects_to_the_address_that_was_checked_not_a_rebound_one(
        settings, dns, internet, receivers, make_article, drive):
    """The partner's name resolves to a public address when checked and to an internal one a
    moment later (DNS rebinding): the request must reach the address that was checked."""
    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = False
    internal = receivers("127.0.0.2")  # an internal service on the port the URL names
    partner = receivers()  # the partner's server, reached at PUBLIC
    internet.route(PUBLIC, internal.port, to=("127.0.0.1", partner.port))
    dns.answer("hooks.partner.example", PUBLIC)
    endpoint = endpoint_for(f"http://hooks.partner.example:{internal.port}/hook", secret=SECRET)
    drive(make_article(), "published")
    dns.answer("hooks.partner.example", PUBLIC, "127.0.0.2")  # checked: public; asked again: internal
    dns.asked.clear()

    row = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.deliver(row.pk) == "delivered"

    assert internal.requests == []
    [received] = partner.requests
    assert received.headers["host"] == f"hooks.partner.example:{internal.port}"
    assert Webhook(SECRET).verify(received.body, received.headers)["type"] == "article.published"
    assert dns.asked == ["hooks.partner.example"]  # one lookup: the check's
    assert [c for c in internet.connected if c[1] == internal.port] == [(PUBLIC, internal.port)]


def test_a_name_resolving_to_a_private_address_at_delivery_is_refused_without_connecting(
        settings, dns, internet, make_article, drive):
    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = False
    dns.answer("hooks.partner.example", PUBLIC)
    endpoint = endpoint_for("http://hooks.partner.example/hook")
    drive(make_article(), "published")
    dns.answer("hooks.partner.example", "169.254.169.254")

    row = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.deliver(row.pk) == "failed"
    assert "169.254.169.254" in WebhookAttempt.objects.get(delivery=row).error
    assert [c for c in internet.connected if c[1] == 80] == []


@pytest.fixture
def tls_partner(receivers, tmp_path, monkeypatch):
    """An HTTPS receiver on 127.0.0.1 whose certificate, from a CA the delivery trusts, names
    `name`; records the server name each client asked for (SNI)."""
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))  # requests' own setting for a private CA

    def start(name: str):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(name).configure_cert(context)
        server_names: list[str | None] = []
        context.sni_callback = lambda sock, server_name, ctx: server_names.append(server_name)
        receiver = receivers(ssl_context=context)
        receiver.server_names = server_names
        return receiver

    return start


def test_https_to_the_checked_address_sends_the_name_and_verifies_the_certificate_for_it(
        settings, dns, tls_partner, make_article, drive):
    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = True
    partner = tls_partner("hooks.partner.example")
    dns.answer("hooks.partner.example", "127.0.0.1")
    endpoint = endpoint_for(f"https://hooks.partner.example:{partner.port}/hook", secret=SECRET)
    drive(make_article(), "published")

    row = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.deliver(row.pk) == "delivered"
    [received] = partner.requests
    assert partner.server_names == ["hooks.partner.example"]
    assert received.headers["host"] == f"hooks.partner.example:{partner.port}"


def test_https_refuses_a_certificate_for_another_name(settings, dns, tls_partner, make_article, drive):
    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = True
    partner = tls_partner("someone-else.example")
    dns.answer("hooks.partner.example", "127.0.0.1")
    endpoint = endpoint_for(f"https://hooks.partner.example:{partner.port}/hook")
    drive(make_article(), "published")

    row = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.deliver(row.pk) == "retry"
    assert partner.requests == []
    assert "certificate" in WebhookAttempt.objects.get(delivery=row).error.lower()


# --- the secret: validated, shown once, rotatable ------------------------------------------------------

def _secret_on(page: str) -> str:
    return page.split('data-webhook-secret="', 1)[1].split('"', 1)[0]


def test_the_admin_shows_a_new_secret_once_and_never_on_the_change_page(client, chief, webhook_receiver):
    client.force_login(chief)

    response = client.post(reverse("admin:governance_webhookendpoint_add"), {
        "name": "Partner", "url": webhook_receiver.url, "event_types": ["article.published"], "is_active": "on"})

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get()
    secret = _secret_on(response.content.decode())
    assert secret == endpoint.secret and secret.startswith("whsec_")
    Webhook(secret)
    assert endpoint.event_types == ["article.published"]
    change = client.get(reverse("admin:governance_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    listing = client.get(reverse("admin:governance_webhookendpoint_changelist")).content.decode()
    assert secret not in change and secret[6:] not in change and secret not in listing
    [event] = AuditEvent.objects.filter(action="webhook_endpoint.create")
    assert event.data["new"] == {"name": "Partner", "url": webhook_receiver.url,
                                 "event_types": ["article.published"], "is_active": True, "disabled_reason": ""}
    assert secret[6:] not in json.dumps(event.data)


@pytest.mark.parametrize("secret, why", [
    ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_"),
    ("whsec_not*base64*at*all*not*base64", "base64"),
    ("whsec_c2hvcnQ=", "between 24 and 64 bytes"),
])
def test_a_bad_secret_is_a_field_error(client, chief, webhook_receiver, secret, why):
    client.force_login(chief)

    response = client.post(reverse("admin:governance_webhookendpoint_add"),
                           {"name": "Partner", "url": webhook_receiver.url, "secret": secret, "is_active": "on"})

    assert response.status_code == 200
    assert why in str(response.context["adminform"].form.errors["secret"])
    with pytest.raises(ContentInvalid) as refused:
        endpoint_for(webhook_receiver.url, secret=secret)
    assert "secret" in refused.value.errors
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_rotates_a_secret_shows_the_new_one_once_and_audits_without_it(client, chief, webhook_receiver):
    endpoint = endpoint_for(webhook_receiver.url, secret=SECRET)
    client.force_login(chief)

    response = client.post(reverse("admin:governance_webhookendpoint_changelist"),
                           {"action": "rotate_secret", "_selected_action": [endpoint.pk]})

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    endpoint.refresh_from_db()
    new = _secret_on(response.content.decode())
    assert new == endpoint.secret and new != SECRET
    [event] = AuditEvent.objects.filter(action="webhook_endpoint.rotate_secret")
    assert event.object_id == str(endpoint.pk) and event.actor_username == "chief"
    everything = json.dumps(list(AuditEvent.objects.values_list("data", flat=True)))
    assert new[6:] not in everything and SECRET[6:] not in everything


def test_the_cli_adds_and_rotates_through_the_audited_service(db, webhook_receiver):
    out = io.StringIO()
    call_command("add_webhook", webhook_receiver.url, "--name", "Partner", stdout=out)
    endpoint = WebhookEndpoint.objects.get()
    assert out.getvalue().strip().splitlines()[-1] == endpoint.secret
    out = io.StringIO()
    call_command("rotate_webhook_secret", str(endpoint.pk), stdout=out)
    old = endpoint.secret
    endpoint.refresh_from_db()
    assert out.getvalue().strip().splitlines()[-1] == endpoint.secret != old
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "webhook_endpoint.create", "webhook_endpoint.rotate_secret"]
    with pytest.raises(CommandError, match="no webhook endpoint #999"):
        call_command("rotate_webhook_secret", "999")


def test_an_endpoint_change_in_the_admin_is_audited_and_rechecked(client, chief, webhook_receiver, settings):
    endpoint = endpoint_for(webhook_receiver.url, secret=SECRET)
    client.force_login(chief)
    url = reverse("admin:governance_webhookendpoint_change", args=[endpoint.pk])

    client.post(url, {"name": "Partner site", "url": webhook_receiver.url, "event_types": ["article.withdrawn"],
                      "is_active": "on", "disabled_reason": ""})
    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = False
    refused = client.post(url, {"name": "Partner site", "url": "http://[::1]:9/hook", "is_active": "on",
                                "disabled_reason": ""})
    client.post(reverse("admin:governance_webhookendpoint_delete", args=[endpoint.pk]), {"post": "yes"})

    [update] = AuditEvent.objects.filter(action="webhook_endpoint.update")
    assert update.data["changed"] == {"name": ["Partner", "Partner site"], "event_types": [[], ["article.withdrawn"]]}
    assert refused.status_code == 200 and "url" in refused.context["adminform"].form.errors
    assert AuditEvent.objects.filter(action="webhook_endpoint.delete").count() == 1
    assert not WebhookEndpoint.objects.exists()
