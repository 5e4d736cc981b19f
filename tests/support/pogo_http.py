"""Route the PowerOffice client's HTTP to the in-process sandbox (``pogo_sandbox`` at /pogo/).

Register with ``pytest_plugins = ["tests.support.pogo_http"]`` in ``tests/conftest.py``; then a
test that asks for ``pogo_wsgi`` gets every ``PowerOfficeClient`` it builds (through
``integrations.clients.poweroffice_client`` or directly) talking to the Django app in this
process through real HTTP handling: URL routing, middleware, status codes, headers, bodies.

Every exchange is also a contract check: the sandbox validates each request and (with
``POGO_SANDBOX_VALIDATE_RESPONSES``, on in test settings) each response against PowerOffice's
published spec (``pogo_sandbox/contract``). A response that breaks it fails the test at
teardown, naming the violation; ``operations()`` lists the spec operations the test exercised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import requests
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

from integrations.poweroffice.auth import clear_token_caches
from tests.support.wsgi_transport import WSGIAdapter

try:  # the sandbox's "drop" fault, raised where no socket exists to shut down
    from pogo_sandbox.api import conformance
    from pogo_sandbox.api.faults import ConnectionDropped
except ImportError:  # pragma: no cover - sandbox not installed
    ConnectionDropped = None  # type: ignore[assignment,misc]
    conformance = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int | None  # None: the connection was dropped


class SandboxAdapter(WSGIAdapter):
    """``WSGIAdapter`` that records each exchange and turns the sandbox's dropped connection
    into what ``requests`` raises for a real one."""

    def __init__(self, app, *, exchanges: list[Exchange]):
        super().__init__(app)
        self.exchanges = exchanges

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        path = request.path_url.split("?", 1)[0]
        try:
            response = super().send(request, stream, timeout, verify, cert, proxies)
        except BaseException as exc:
            if ConnectionDropped is not None and isinstance(exc, ConnectionDropped):
                self.exchanges.append(Exchange(request.method, path, None))
                raise requests.ConnectionError(
                    "Connection aborted: the sandbox dropped the connection", request=request
                ) from None
            raise
        self.exchanges.append(Exchange(request.method, path, response.status_code))
        return response


@dataclass
class PogoWSGI:
    """What the fixture gives a test: sessions bound to the sandbox, and the exchanges seen."""

    base_url: str
    exchanges: list[Exchange] = field(default_factory=list)
    adapter: SandboxAdapter = field(init=False)

    def __post_init__(self) -> None:
        self.adapter = SandboxAdapter(WSGIHandler(), exchanges=self.exchanges)

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount(self.base_url, self.adapter)
        return session

    def statuses(self, path: str) -> list[int | None]:
        """Statuses answered on ``path`` (e.g. ``/pogo/v2/Customers``), in order."""
        return [e.status for e in self.exchanges if e.path.lower() == path.lower()]

    def operations(self) -> set[tuple[str, str, str]]:
        """``(api, METHOD, spec path)`` of every operation validated against the contract since
        the test began, e.g. ``("v2", "GET", "/Customers/{id}")``."""
        if conformance is None:  # pragma: no cover - sandbox not installed
            return set()
        return {(op.api, op.method, op.path) for op in conformance.validated_operations}

    def violations(self) -> list:
        """Responses the sandbox found non-conforming (each answered as a 500 instead)."""
        return [] if conformance is None else list(conformance.response_violations)

    def forget_violations(self) -> None:
        """For a test that plants a non-conforming response on purpose."""
        if conformance is not None:
            conformance.response_violations.clear()


@pytest.fixture
def pogo_wsgi(db, monkeypatch) -> PogoWSGI:
    base_url = settings.SITE_URL.rstrip("/") + "/"
    state = PogoWSGI(base_url=base_url)

    import integrations.clients
    import integrations.poweroffice.client
    import integrations.poweroffice.ratelimit

    monkeypatch.setattr(integrations.clients, "session_factory", state.session)
    monkeypatch.setattr(integrations.poweroffice.client, "new_session", state.session)
    # A fresh process-wide limiter per test, so one test's burst does not slow the next.
    monkeypatch.setattr(integrations.poweroffice.ratelimit, "_shared", {})
    # Tokens cached by an earlier test name rows that test's transaction rolled back.
    clear_token_caches(settings.REDIS_URL)
    if conformance is not None:
        conformance.reset()
    yield state
    clear_token_caches(settings.REDIS_URL)
    violations = state.violations()
    if violations:
        pytest.fail(
            "The PoGo sandbox sent responses that break PowerOffice's contract:\n"
            + "\n".join(f"  {v}" for v in violations),
            pytrace=False,
        )
