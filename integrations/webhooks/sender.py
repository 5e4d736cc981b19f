"""The one place webhooks leave the building: an HTTP POST with the standard library's
``http.client`` (no redirects are ever followed), a timeout on connect and read, and a guard
against server-side request forgery — the host is resolved once, every address it resolves to
must be public (unless ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES``), and the connection goes to that
checked address, so a second DNS answer cannot point it elsewhere."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

#: What we read of a receiver's answer (only its status matters).
MAX_RESPONSE_BYTES = 64 * 1024


class WebhookURLRefused(Exception):
    """The URL may not be called (scheme, host or address)."""


@dataclass(frozen=True)
class SendResult:
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook endpoint (without resolving it), or None."""
    parts = urlsplit(url)
    allowed = {"https", "http"} if settings.WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        return _("Adressen må begynne med https://.")
    if not parts.hostname:
        return _("Adressen mangler vertsnavn.")
    if parts.username or parts.password:
        return _("Adressen kan ikke inneholde brukernavn eller passord.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        host = parts.hostname
        if host == "localhost" or host.endswith(".localhost") or host.endswith(".local"):
            return _("Adressen må være på internett, ikke på et lokalt nettverk.")
        try:
            if not _is_public(host):
                return _("Adressen må være på internett, ikke på et lokalt nettverk.")
        except ValueError:
            pass  # a name, not an address: checked when it is resolved
    return None


def _resolve(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise WebhookURLRefused(f"DNS lookup failed: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise WebhookURLRefused("DNS lookup returned no address")
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        private = [a for a in addresses if not _is_public(a)]
        if private:
            raise WebhookURLRefused(f"{host} resolves to a non-public address ({private[0]})")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate and SNI for the name in the URL, not the address we connected to.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> SendResult:
    """POST ``body`` to ``url``; a status (any) or an error text, never an exception. A
    redirect is not followed: it counts as a failed attempt."""
    problem = url_problem(url)
    if problem:
        return SendResult(None, str(problem))
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        address = _resolve(parts.hostname, port)
        connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
        connection = connection_class(parts.hostname, port, address, timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            status = response.status
        finally:
            connection.close()
    except WebhookURLRefused as exc:
        return SendResult(None, str(exc))
    except (OSError, http.client.HTTPException) as exc:  # timeouts, refused, TLS, protocol
        return SendResult(None, f"{type(exc).__name__}: {exc}"[:500])
    if 300 <= status < 400:
        return SendResult(status, "Redirect not followed")
    return SendResult(status, "" if 200 <= status < 300 else f"HTTP {status}")
