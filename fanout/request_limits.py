"""Request size limits of fanout's HTTP surface: a pure ASGI middleware in front of every route.

A request whose URL is longer than ``max_url_bytes`` gets 414, one whose body is larger than
``max_body_bytes`` (declared by Content-Length, or counted while it streams in) gets 413; both
with a JSON ``detail`` naming the limit, counted in :class:`RequestRefusals` (on
``app.state.http_refusals`` for the metrics collector). WebSockets pass untouched (their
message size is uvicorn's ``ws_max_size``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Bytes of an oversized body read and discarded before answering 413 (beyond: the connection drops).
DRAIN_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class RequestRefusals:
    """Requests refused since start, by reason."""

    body_too_large: int = 0
    url_too_long: int = 0


class RequestLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, max_url_bytes: int, counts: RequestRefusals) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_url_bytes = max_url_bytes
        self.counts = counts

    async def _refuse(self, send: Send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if url_bytes > self.max_url_bytes:
            self.counts.url_too_long += 1
            await self._refuse(send, 414, f"the URL is longer than {self.max_url_bytes} bytes")
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            self.counts.body_too_large += 1
            await self._refuse(send, 413, f"the request body is larger than {self.max_body_bytes} bytes")
            return
        seen = 0
        over = False
        replaced = False

        async def counted_receive() -> Message:
            """Past the limit the app sees the body end there; its answer is replaced by a 413."""
            nonlocal seen, over
            if over:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    over = True
                    self.counts.body_too_large += 1
                    # Read the rest (discarded, bounded) so the client gets the 413 rather than a reset.
                    more = message.get("more_body", False)
                    while more and seen < DRAIN_BYTES:
                        message = await receive()
                        seen += len(message.get("body", b""))
                        more = message["type"] == "http.request" and message.get("more_body", False)
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if not over:
                await send(message)
            elif not replaced and message["type"] == "http.response.start":
                replaced = True
                await self._refuse(send, 413, f"the request body is larger than {self.max_body_bytes} bytes")

        await self.app(scope, counted_receive, guarded_send)
