"""Where a webhook may go, and going exactly there.

`check_target` is the one check of an endpoint's URL: the admin form, `manage.py add_webhook`, the
configuration service and every delivery attempt call it, so a URL is refused at registration
with the words delivery would use. It resolves the host once; every address the name has must be
globally reachable (unless IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE), and the `Target` it returns pins
the first of them. `post` then connects to that pinned address, never resolving the name again
(a name that answers a public address to the check and 127.0.0.1 to the connection — DNS
rebinding — reaches the public one), while the request still names the host (Host header) and,
for https, TLS sends it as SNI and verifies the certificate against it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The endpoint's URL may not be called (scheme, or an address that is not globally reachable)."""


# Python 3.11's `is_global` predates the IANA special-purpose registry corrections of 3.12.4/3.13
# (gh-113171): these ranges are not globally reachable either, yet 3.11 calls them global.
_ALSO_NOT_GLOBAL = [ipaddress.ip_network(n) for n in (
    "192.0.0.0/24",    # IETF protocol assignments (but .9 and .10, below)
    "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
    "3fff::/20",       # documentation (2024)
    "5f00::/16",       # SRv6 segment identifiers
)]
_GLOBAL_EXCEPTIONS = [ipaddress.ip_network(n) for n in ("192.0.0.9/32", "192.0.0.10/32")]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: the last 32 bits are the IPv4 target


def is_public(address: Address) -> bool:
    """Is `address` a globally reachable unicast address? An IPv6 address that carries an IPv4
    one (mapped, 6to4, NAT64) is judged by the IPv4 address it reaches."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None)
        if embedded is not None:
            return is_public(embedded)
    if address.is_multicast or not address.is_global:
        return False
    if any(address in network for network in _GLOBAL_EXCEPTIONS):
        return True
    return not any(address in network for network in _ALSO_NOT_GLOBAL if network.version == address.version)


@dataclass(frozen=True)
class Target:
    """A checked webhook URL and the address its host resolved to when checked."""

    url: str
    scheme: str
    hostname: str
    port: int
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def check_target(url: str, *, allow_private: bool | None = None) -> Target:
    """The target of `url`, resolved once. Raises TargetRefused (why, in words for a person)
    for a URL that is not http(s) or a host with any address that is not globally reachable
    (unless private targets are allowed), and ConnectionError for a host that does not resolve."""
    allow_private = settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE if allow_private is None else allow_private
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"'{url}' is not a valid URL ({exc}).") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(f"'{url}' is not an http(s) URL.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectionError(f"cannot resolve {parts.hostname}: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise ConnectionError(f"cannot resolve {parts.hostname}: no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise TargetRefused(
                    f"{parts.hostname} resolves to {address}, which is not a globally reachable address "
                    "(private, loopback, link-local, shared, reserved or multicast); "
                    "set IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE=1 to allow it.")
    return Target(url=url, scheme=parts.scheme, hostname=parts.hostname, port=port, address=str(addresses[0]))


def target_refusal(url: str, *, allow_private: bool | None = None) -> str | None:
    """Why `url` may not receive webhooks, or None (`check_target` in words; ConnectionError
    for a host that does not resolve)."""
    try:
        check_target(url, allow_private=allow_private)
    except TargetRefused as exc:
        return str(exc)
    return None


class PinnedAddressAdapter(HTTPAdapter):
    """A requests adapter that connects to the target's checked address: the connection pool is
    keyed on (and connects to) that address, TLS is told the hostname for SNI and for checking
    the certificate (urllib3's `server_hostname` and `assert_hostname`), the Host header names
    the host, and no proxy is used (a proxy would resolve the name again)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(self, request: requests.PreparedRequest, verify: bool | str,
                                             cert: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params["host"] = self.target.address
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = self.target.hostname
            pool_kwargs["assert_hostname"] = self.target.hostname
        return host_params, pool_kwargs

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: bool | str = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        request.headers["Host"] = self.target.host_header
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=None)


def post(target: Target, *, body: bytes, headers: dict[str, str], timeout: tuple[float, float]) -> requests.Response:
    """POST `body` to the checked target, connecting to its pinned address; no redirect is followed."""
    with requests.Session() as session:
        adapter = PinnedAddressAdapter(target)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session.post(target.url, data=body, headers=headers, allow_redirects=False, timeout=timeout)
