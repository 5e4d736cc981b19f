"""A ``requests`` transport adapter that hands requests to a WSGI app in this process.

The PowerOffice client then talks to the sandbox through real HTTP handling (status codes,
headers, bodies, the sandbox's middleware) without a socket, which keeps tests fast. At least
one test still goes through a live server over a real socket.
"""

import io
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.core import signals
from django.db import close_old_connections
from requests.adapters import BaseAdapter
from requests.models import Response
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers


class WSGIAdapter(BaseAdapter):
    def __init__(self, app, *, on_request=None):
        super().__init__()
        self.app = app
        self.on_request = on_request  # called with each PreparedRequest (fault tests, counters)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        if self.on_request is not None:
            self.on_request(request)
        url = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        environ = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "SERVER_NAME": url.hostname or "testserver",
            "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ[f"HTTP_{key}"] = value
        environ.setdefault("HTTP_HOST", url.netloc)

        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda chunk: None

        with _keep_test_connection():
            result = self.app(environ, start_response)
            try:
                content = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()

        response = Response()
        response.status_code = int(captured["status"].split(" ", 1)[0])
        response.reason = captured["status"].split(" ", 1)[1] if " " in captured["status"] else ""
        response.headers = CaseInsensitiveDict(captured["headers"])
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = content
        response.raw = io.BytesIO(content)
        response.url = request.url
        response.request = request
        response.connection = self
        return response

    def close(self):
        pass


@contextmanager
def _keep_test_connection():
    """Don't let the in-process request close the test's database connection.

    A real request ends with ``close_old_connections``, which drops a connection that is not in
    autocommit mode: inside a test's transaction that would be the test's own connection
    (PostgreSQL; SQLite's in-memory database ignores it). Django's test client disconnects the
    same handlers for the same reason.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
