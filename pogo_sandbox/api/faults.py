"""Fault injection on API routes (FaultRule rows, set from tests or the admin).

* ``500`` / ``503``: ProblemDetails with that status.
* ``429``: the gateway's rate-limit answer with ``Retry-After: 1``.
* ``timeout``: the request sleeps ``POGO_SANDBOX_TIMEOUT_SECONDS`` (default 65 s, past any sane
  client timeout) and then answers 504, so a client with a shorter timeout sees a read timeout.
* ``drop``: the server shuts the TCP connection down without answering. Under runserver,
  Django's live test server and gunicorn the socket is found through the WSGI environ and shut
  down, so a ``requests`` client gets a ``ConnectionError``. Where there is no socket (Django's
  test client, an in-process WSGI transport) ``ConnectionDropped`` is raised instead: a
  ``BaseException`` so Django's handler does not turn it into a 500.
"""

import socket
import time

from django.conf import settings
from django.http import HttpResponse

from pogo_sandbox.domain.operations import fault_random, pick_fault
from pogo_sandbox.models import FaultRule

from .http import gateway_error, problem, v1_error


class ConnectionDropped(BaseException):  # noqa: N818 - named after what the client sees
    """The sandbox hung up without an answer (fault ``drop``)."""


def _rule_for(path: str) -> FaultRule | None:
    path = path.lower()
    rules = [
        rule
        for rule in FaultRule.objects.filter(is_active=True)
        if path.startswith(rule.path_prefix.lower())
    ]
    return max(rules, key=lambda rule: len(rule.path_prefix), default=None)


def _find_socket(environ) -> socket.socket | None:
    if isinstance(environ.get("gunicorn.socket"), socket.socket):
        return environ["gunicorn.socket"]
    # runserver / LiveServerThread: wsgi.input is a LimitedStream over the socket's rfile.
    obj = environ.get("wsgi.input")
    for _ in range(6):
        if obj is None or isinstance(obj, socket.socket):
            break
        read = getattr(obj, "_read", None)
        obj = (
            getattr(read, "__self__", None)
            or getattr(obj, "raw", None)
            or getattr(obj, "_sock", None)
            or getattr(obj, "stream", None)
        )
    return obj if isinstance(obj, socket.socket) else None


def drop_connection(request) -> HttpResponse:
    sock = _find_socket(request.META)
    if sock is None:
        raise ConnectionDropped(request.path)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    # Nothing reaches the client: the server's write fails on the shut-down socket.
    return HttpResponse(status=500)


def apply_faults(request) -> HttpResponse | None:
    """A fault response for this request, or None to serve it normally (after any latency)."""
    rule = _rule_for(request.path)
    if rule is None:
        return None
    if rule.latency_ms:
        time.sleep(rule.latency_ms / 1000)
    if not rule.faults or fault_random.random() >= float(rule.error_rate):
        return None
    fault = pick_fault(rule.faults)
    if fault == FaultRule.Fault.HTTP_429:
        return gateway_error(
            429, "Rate limit is exceeded. Try again in 1 seconds.", Retry_After="1"
        )
    if fault == FaultRule.Fault.TIMEOUT:
        time.sleep(getattr(settings, "POGO_SANDBOX_TIMEOUT_SECONDS", 65))
        return _server_error(request, 504, "Gateway Timeout", "Injected fault: timeout")
    if fault == FaultRule.Fault.DROP:
        return drop_connection(request)
    status = int(fault)
    return _server_error(request, status, "Injected fault", f"Injected fault: {status}")


def _server_error(request, status: int, title: str, detail: str) -> HttpResponse:
    """v2 answers ProblemDetails; v1 its own validation envelope (with the HTTP status)."""
    if "/v1/" in request.path.lower():
        return v1_error(detail, status=status)
    return problem(status, title, detail, instance=request.path)
