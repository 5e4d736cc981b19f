"""The visitor's address, the one every per-address limit counts by.

django-axes (``AXES_CLIENT_IP_CALLABLE``), the per-address login limit
(:mod:`kravia_web.login_throttle`), Min side's lookup limit and DRF's anonymous throttling
(``NUM_PROXIES``) all follow ``TRUSTED_PROXY_COUNT``: the number of reverse proxies in front of
gunicorn that each **append** the address they received the connection from to
``X-Forwarded-For`` (nginx ``$proxy_add_x_forwarded_for``, Caddy, Traefik, a cloud load
balancer). The visitor is then the ``TRUSTED_PROXY_COUNT``-th entry from the right; everything
left of it was written by the visitor and is ignored. With ``0`` (development, or gunicorn
exposed directly) the header is ignored altogether and ``REMOTE_ADDR`` counts.

Example, one proxy: the visitor sends ``X-Forwarded-For: 6.6.6.6`` (forged), the proxy appends
the address it saw, ``1.2.3.4``; gunicorn gets ``6.6.6.6, 1.2.3.4`` and the visitor is
``1.2.3.4``. Behind two proxies (a load balancer, then nginx) the header ends
``…, 1.2.3.4, 10.0.0.1`` (10.0.0.1: the load balancer as nginx saw it) and the visitor is
``1.2.3.4``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def trusted_proxy_count() -> int:
    return max(int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0), 0)


def client_ip(request) -> str:
    """The visitor's IP address as text ('' when unknown); never a value the visitor chose
    unless no trusted proxy is configured in front of a proxy that lets it through."""
    meta = getattr(request, "META", {})
    remote = (meta.get("REMOTE_ADDR") or "").strip()
    count = trusted_proxy_count()
    if count == 0:
        return remote
    hops = [hop.strip() for hop in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        return remote
    candidate = hops[-min(count, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # A proxy wrote something that is not an address (misconfiguration): count the
        # connection's address rather than a free-form string.
        return remote
