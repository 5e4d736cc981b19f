"""A scripted, in-process PoGo for the client's unit tests: a ``requests`` adapter.

Token endpoints issue numbered tokens and API routes reject unknown or revoked ones with 401,
like PoGo; every other answer is scripted per test (a queue of responses or exceptions per
route, or a handler). Every request the client sends is recorded, with its timeout.
"""

from __future__ import annotations

import base64
import io
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests import PreparedRequest, Response, Session
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from integrations.poweroffice import PowerOfficeClient, PowerOfficeConfig
from integrations.poweroffice.auth import TokenCache
from integrations.poweroffice.ratelimit import LocalRateLimiter

BASE = "https://pogo.test"
APP_KEY = "app-key-0000-secret"
CLIENT_KEY = "client-key-1111-secret"
SUBSCRIPTION_KEY = "sub-key-2222-secret"

CONFIG = PowerOfficeConfig(
    v2_base_url=f"{BASE}/v2",
    v2_token_url=f"{BASE}/OAuth/Token",
    v1_base_url=f"{BASE}/v1",
    v1_token_url=f"{BASE}/v1/OAuth/Token",
    application_key=APP_KEY,
    subscription_key=SUBSCRIPTION_KEY,
    timeout=7.5,
)

Answer = Response | BaseException
Handler = Callable[["Sent"], Answer]


def response(
    status: int = 200, body: Any = None, *, raw: bytes | None = None, headers=None
) -> Response:
    resp = Response()
    resp.status_code = status
    if raw is not None:
        content = raw
    elif body is None:
        content = b""
    elif isinstance(body, str | bytes):
        content = body.encode() if isinstance(body, str) else body
    else:
        content = json.dumps(body).encode()
    resp._content = content
    resp.raw = io.BytesIO(content)
    resp.headers = CaseInsensitiveDict(headers or {})
    if body is not None and raw is None and "Content-Type" not in resp.headers:
        resp.headers["Content-Type"] = "application/json"
    resp.reason = {200: "OK", 204: "No Content"}.get(status, "")
    return resp


def problem(status: int, title: str, detail: str = "") -> Response:
    body = {
        "Type": "about:blank",
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": "/x",
    }
    return response(status, body)


@dataclass
class Sent:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict
    body: bytes
    timeout: Any

    def json(self) -> Any:
        return json.loads(self.body)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class FakePoGo(BaseAdapter):
    token_expires_in: int = 1200
    sent: list[Sent] = field(default_factory=list)
    scripts: dict[tuple[str, str], deque[Answer]] = field(default_factory=dict)
    handlers: dict[tuple[str, str], Handler] = field(default_factory=dict)
    valid_tokens: set[str] = field(default_factory=set)
    issued: list[str] = field(default_factory=list)
    token_answers: deque[Answer] = field(default_factory=deque)

    def __post_init__(self) -> None:
        super().__init__()

    # --- scripting -------------------------------------------------------------------------

    def script(self, method: str, path: str, *answers: Answer) -> None:
        self.scripts.setdefault((method, path), deque()).extend(answers)

    def handle(self, method: str, path: str, handler: Handler) -> None:
        self.handlers[(method, path)] = handler

    def revoke_tokens(self) -> None:
        """PoGo forgets every token (as when one expires server-side)."""
        self.valid_tokens.clear()

    def api_calls(self, path: str | None = None) -> list[Sent]:
        return [
            s
            for s in self.sent
            if "/OAuth/Token" not in s.path and (path is None or s.path == path)
        ]

    def token_calls(self) -> list[Sent]:
        return [s for s in self.sent if "/OAuth/Token" in s.path]

    # --- the adapter -----------------------------------------------------------------------

    def send(
        self,
        request: PreparedRequest,
        stream=False,
        timeout=None,
        verify=True,
        cert=None,
        proxies=None,
    ):
        url = urlsplit(request.url)
        body = request.body or b""
        sent = Sent(
            method=request.method,
            path=url.path,
            query=parse_qs(url.query),
            headers=CaseInsensitiveDict(request.headers),
            body=body.encode() if isinstance(body, str) else body,
            timeout=timeout,
        )
        self.sent.append(sent)
        answer = self._answer(sent)
        if isinstance(answer, BaseException):
            raise answer
        answer.request = request
        answer.url = request.url
        return answer

    def _answer(self, sent: Sent) -> Answer:
        if sent.path.endswith("/OAuth/Token"):
            if self.token_answers:
                return self.token_answers.popleft()
            return self._token(sent)
        if not sent.path.startswith("/v2/Onboarding"):
            token = sent.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.valid_tokens:
                return problem(401, "Unauthorized", "Access token is missing, invalid or expired.")
        key = (sent.method, sent.path)
        if self.scripts.get(key):
            return self.scripts[key].popleft()
        if key in self.handlers:
            return self.handlers[key](sent)
        return problem(404, "Not Found", f"no fake route {key}")

    def _token(self, sent: Sent) -> Response:
        expected = base64.b64encode(f"{APP_KEY}:{CLIENT_KEY}".encode()).decode()
        if sent.headers.get("Authorization") != f"Basic {expected}":
            return response(
                401, {"error": "invalid_client", "error_description": "Unknown client key."}
            )
        token = f"tok-{len(self.issued) + 1}"
        self.issued.append(token)
        self.valid_tokens.add(token)
        return response(
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": self.token_expires_in},
        )

    def close(self) -> None:
        pass


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_client(
    fake: FakePoGo,
    *,
    client_key: str | None = CLIENT_KEY,
    clock: FakeClock | None = None,
    sleeps: list[float] | None = None,
    config: PowerOfficeConfig = CONFIG,
    **kwargs: Any,
) -> PowerOfficeClient:
    session = Session()
    session.mount(BASE, fake)
    recorded = sleeps if sleeps is not None else []
    return PowerOfficeClient(
        config,
        client_key=client_key,
        session=session,
        sleep=recorded.append,
        token_cache=TokenCache(clock=clock or FakeClock()),
        rate_limiter=kwargs.pop("rate_limiter", LocalRateLimiter(10_000)),
        **kwargs,
    )
