"""Answers remembered per data version: a repeated API request is answered without a query.

The key is the data version of the snapshot the answer came from (see
:mod:`eventwire.web.snapshot`), the path, the raw query string and whether the client accepts
gzip. Before every request the store is checked (two ``stat`` calls); when it changed, the new
snapshot is taken first, so its version is new and no answer from older data can match. Only
successful answers are kept, least recently used dropped first beyond a byte budget.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread

from .queries import EventsDB

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Bytes of answers kept per server process.
MAX_BYTES = 64 * 1024 * 1024
#: Largest answer kept (a 10,000-event map page is about 3 MB).
MAX_ENTRY = 4 * 1024 * 1024

_Key = tuple[str, str, bytes, bool]
_Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class AnswerCache:
    """ASGI middleware remembering successful ``GET /api/...`` answers by data version.

    Args:
        app: The application answering misses.
        db: The store the answers come from.
        max_bytes: Budget of the remembered bodies.
        max_entry: Larger answers are not kept.
    """

    def __init__(
        self, app: ASGIApp, db: EventsDB, *, max_bytes: int = MAX_BYTES, max_entry: int = MAX_ENTRY
    ) -> None:
        self.app = app
        self.db = db
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._answers: OrderedDict[_Key, _Answer] = OrderedDict()
        self._version = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or not path.startswith("/api/")
            or path == "/api/health"  # tells the time and whether the store could be read
        ):
            await self.app(scope, receive, send)
            return
        if self.db.changed():
            # Copying the store takes a while: off the event loop, and every request waits
            # for it (answers never come from data older than the request).
            await anyio.to_thread.run_sync(self.db.refresh)
        version = self.db.current_version()
        if version != self._version:
            self._answers.clear()
            self.size = 0
            self._version = version
        accepts = b""
        for name, value in scope.get("headers", ()):
            if name.lower() == b"accept-encoding":
                accepts = value
        key = (version, path, scope.get("query_string", b""), b"gzip" in accepts.lower())
        answer = self._answers.get(key)
        if answer is not None:
            self.hits += 1
            self._answers.move_to_end(key)
            await send({
                "type": "http.response.start", "status": answer[0],
                "headers": [*answer[1], (b"x-eventwire-cache", b"hit")],
            })  # fmt: skip
            await send({"type": "http.response.body", "body": answer[2]})
            return
        self.misses += 1
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal status, headers, size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                message["headers"] = [*headers, (b"x-eventwire-cache", b"miss")]
            elif message["type"] == "http.response.body" and size <= self.max_entry:
                chunk = bytes(message.get("body", b""))
                chunks.append(chunk)
                size += len(chunk)
            await send(message)

        await self.app(scope, receive, capture)
        if status == 200 and size <= self.max_entry and self.db.current_version() == version:
            self._put(key, (200, headers, b"".join(chunks)))

    def _put(self, key: _Key, answer: _Answer) -> None:
        old = self._answers.pop(key, None)
        if old is not None:
            self.size -= len(old[2])
        self._answers[key] = answer
        self.size += len(answer[2])
        while self.size > self.max_bytes and self._answers:
            _, dropped = self._answers.popitem(last=False)
            self.size -= len(dropped[2])
