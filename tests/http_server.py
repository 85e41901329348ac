"""A real HTTP server on 127.0.0.1 for tests: routes set per test, requests recorded.

Usage::

    from .http_server import LocalServer, Response   # (tests is a package)

    @pytest.fixture
    def server() -> Iterator[LocalServer]:
        with LocalServer() as srv:
            yield srv

    def test_something(server):
        server.route("/page", Response(body=b"<html>...</html>"))
        server.redirect("/a", "/b"); server.redirect("/b", "/a")        # a redirect loop
        server.route("/slow", Response(body=b"late", delay=2.0))         # slow headers
        server.route("/drip", Response(body=[b"x"] * 50, chunk_delay=0.1))  # slow body
        server.route("/huge", Response.huge(50_000_000, content_length=False))
        server.sequence("/feed", [Response(body=b"v1"), Response(body=b"v2")])  # changes
        server.route("/dyn", lambda request: Response(body=request.path.encode()))
        url = server.url("/page")
        ...
        assert server.requests[0].headers["User-Agent"].startswith("eventwire/")

Unknown paths answer 404. Every response closes the connection (HTTP/1.0), so a body
without Content-Length is delimited by the close, as with many real servers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass
class Request:
    """One request the server received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Response:
    """What a route answers.

    Attributes:
        body: Bytes, or an iterable of byte chunks (streamed, flushed one by one).
        status: HTTP status code.
        content_type: Content-Type header; None leaves it out.
        headers: Extra headers.
        delay: Seconds to wait before sending anything (a slow server).
        chunk_delay: Seconds to wait before each chunk (a slow body).
        content_length: Send a Content-Length header (only possible when ``body`` is bytes,
            or when ``declared_length`` is given).
        declared_length: Content-Length to announce, true or not.
    """

    body: bytes | Iterable[bytes] = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunk_delay: float = 0.0
    content_length: bool = True
    declared_length: int | None = None

    @classmethod
    def huge(
        cls, size: int, *, content_length: bool = True, chunk: int = 65536, **kwargs: Any
    ) -> Response:
        """A body of ``size`` bytes generated on the fly (never held in memory)."""

        return cls(
            body=_Filler(size, chunk),
            content_length=content_length,
            declared_length=size if content_length else None,
            content_type=kwargs.pop("content_type", "text/plain"),
            **kwargs,
        )


Handler = Callable[[Request], Response]


class _Filler:
    """``size`` bytes in chunks, re-iterable so a route can serve it more than once."""

    def __init__(self, size: int, chunk: int) -> None:
        self.size = size
        self.chunk = chunk

    def __iter__(self) -> Iterator[bytes]:
        block = b"a" * self.chunk
        left = self.size
        while left > 0:
            yield block[: min(self.chunk, left)]
            left -= self.chunk


class LocalServer:
    """A threaded HTTP server on an ephemeral port of 127.0.0.1.

    Routes match the path without the query string. Use as a context manager, or call
    :meth:`close`.
    """

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[Request] = []
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output clean

            def do_GET(self) -> None:  # noqa: N802
                outer._serve(self, "GET")

            def do_HEAD(self) -> None:  # noqa: N802
                outer._serve(self, "HEAD")

            def do_POST(self) -> None:  # noqa: N802
                outer._serve(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        # Do not wait for handlers still sleeping in a slow response when closing.
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "/") -> str:
        """Absolute URL of ``path`` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def route(self, path: str, response: Response | Handler) -> None:
        """Answer ``path`` with a fixed response, or with ``handler(request)``."""
        handler = response if callable(response) else (lambda _req, r=response: r)
        with self._lock:
            self._routes[path] = handler

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        """Redirect ``path`` to ``to`` (a path on this server or an absolute URL)."""
        location = to if "://" in to else self.url(to)
        self.route(path, Response(status=status, headers={"Location": location}))

    def sequence(self, path: str, responses: list[Response]) -> None:
        """Answer successive requests with successive responses; the last one repeats."""
        queue = list(responses)

        def next_response(_request: Request) -> Response:
            with self._lock:
                return queue.pop(0) if len(queue) > 1 else queue[0]

        self.route(path, next_response)

    def requests_to(self, path: str) -> list[Request]:
        """Requests received for ``path``."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        """Stop serving and release the port; slow handlers are cut short."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(method, parts.path, parts.query, dict(handler.headers.items()), body)
        with self._lock:
            self.requests.append(request)
            route = self._routes.get(parts.path)
        response = route(request) if route else Response(body=b"not found", status=404)
        try:
            self._write(handler, response, send_body=method != "HEAD")
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass  # the client gave up (timeout, size cap): that is what many tests check

    def _write(self, handler: BaseHTTPRequestHandler, response: Response, send_body: bool) -> None:
        if response.delay and self._stopping.wait(response.delay):
            return
        handler.send_response(response.status)
        if response.content_type:
            handler.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        body = response.body
        if response.declared_length is not None:
            handler.send_header("Content-Length", str(response.declared_length))
        elif response.content_length and isinstance(body, bytes):
            handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        if not send_body:
            return
        chunks = [body] if isinstance(body, bytes) else body
        for chunk in chunks:
            if response.chunk_delay and self._stopping.wait(response.chunk_delay):
                return
            handler.wfile.write(chunk)
            handler.wfile.flush()


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
