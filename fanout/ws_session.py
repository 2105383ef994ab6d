"""The ``/ws`` endpoint: authenticate, accept, then one receive loop and one sender task.

Protocol v1 (courtside_contracts.ws). The receive loop parses ops and queues replies; the
sender task drains the client's channel. Data reaches the socket directly from
the hub while the client keeps up, when the server offers the fast path
(:mod:`fanout.direct_write`); see :mod:`fanout.channel`.
Bad JSON, unknown ops, oversize messages and forbidden cameras get an ``error``
reply and the connection lives on.

Mounted as a pure ASGI middleware (:class:`LiveSocketMiddleware`) rather than a
router entry: every client-message then goes straight to the server's ASGI
``send``, without the wrappers Starlette puts around a routed WebSocket's
``send`` (two extra calls per client per message; bench/fanout_clients.py
measures the per-client cost).
"""

from __future__ import annotations

import asyncio
import logging
import time

from courtside_contracts.ws import (
    Ping,
    ProtocolError,
    Subscribe,
    error_message,
    parse_client_message,
    server_message,
)
from fastapi import WebSocket
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from fanout.auth import (
    SUBPROTOCOL,
    Principal,
    Scope,
    bearer_from_header,
    bearer_from_subprotocols,
    origin_allowed,
)
from fanout.channel import ClientChannel, ControlOverflow
from fanout.deps import get_runtime
from fanout.direct_write import direct_writer
from fanout.errors import Forbidden, Unauthorized
from fanout.limits import ConnectionLimiter
from fanout.runtime import FanoutRuntime
from fanout.subscriptions import NOTHING, resolve

log = logging.getLogger(__name__)

#: Close codes (4000-4999 are the application's).
CLOSE_IDLE = 4408
CLOSE_POLICY = 1008
#: Seconds the sender gets to flush the last replies before a server-side close.
CLOSE_FLUSH_S = 1.0


def _peer(ws: WebSocket) -> str:
    return f"{ws.client.host}:{ws.client.port}" if ws.client else "?"


async def _authorize(ws: WebSocket, runtime: FanoutRuntime) -> Principal | None:
    """The caller, or None after a 401/403 denial response (the handshake is refused)."""
    if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"),
                          runtime.config.fanout.cors_origins):
        log.info("ws %s: origin %s refused", _peer(ws), ws.headers.get("origin"))
        await ws.send_denial_response(JSONResponse({"detail": "origin not allowed"}, 403))
        return None
    token = (bearer_from_header(ws.headers.get("authorization"))
             or bearer_from_subprotocols(ws.scope.get("subprotocols", [])))
    try:
        principal = runtime.auth.authenticate(token)
        principal.require(Scope.READ)
    except Unauthorized as exc:
        log.info("ws %s: refused (%s)", _peer(ws), exc)
        await ws.send_denial_response(JSONResponse({"detail": str(exc)}, 401,
                                                   headers={"WWW-Authenticate": "Bearer"}))
        return None
    except Forbidden as exc:
        log.info("ws %s: refused (%s)", _peer(ws), exc)
        await ws.send_denial_response(JSONResponse({"detail": str(exc)}, 403))
        return None
    return principal


def _handle(text: str, channel: ClientChannel, runtime: FanoutRuntime) -> None:
    """One client message -> subscription change and/or a queued reply."""
    try:
        op = parse_client_message(text)
        if isinstance(op, Subscribe):
            subscription = resolve(op, channel.principal)
            runtime.hub.subscribe(channel, subscription)
            channel.control(server_message("subscribed", **subscription.describe()))
            status = runtime.status_message(subscription.cameras)
            channel.offer(status, len(status))
        elif isinstance(op, Ping):
            channel.control(server_message("pong", nonce=op.nonce, ts=time.time_ns()))
    except ProtocolError as exc:
        runtime.protocol_errors += 1
        channel.control(error_message(exc.code, str(exc)))
    except Forbidden as exc:
        runtime.protocol_errors += 1
        channel.control(error_message("forbidden", str(exc)))


async def _receive_loop(ws: WebSocket, channel: ClientChannel, runtime: FanoutRuntime) -> int | None:
    """Read until the peer leaves (None) or we must close (returns the close code)."""
    limits = runtime.limits
    while True:
        timeout = limits.subscribe_timeout_s if channel.subscription is NOTHING else None
        try:
            message = await asyncio.wait_for(ws.receive(), timeout)
        except TimeoutError:
            channel.control(error_message("idle", f"no subscribe within {timeout:g} s"))
            return CLOSE_IDLE
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        try:
            if text is None:
                runtime.protocol_errors += 1
                channel.control(error_message("bad_request", "binary messages are not accepted; send JSON text"))
            else:
                _handle(text, channel, runtime)
            if not channel.direct:  # replies are waiting: let the sender write them before reading on
                await asyncio.sleep(0)
        except ControlOverflow as exc:
            log.info("ws #%d %s: closing, %s", channel.id, channel.peer, exc)
            return CLOSE_POLICY


class LiveSocketMiddleware:
    """Serves WebSocket requests for ``path`` itself; everything else goes to the app."""

    def __init__(self, app: ASGIApp, path: str = "/ws") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.path:
            await serve_websocket(WebSocket(scope, receive, send), send)
        else:
            await self.app(scope, receive, send)


def connection_limiter(ws: WebSocket) -> ConnectionLimiter:
    """The app's one limiter, made with the app (:func:`fanout.app.create_app`) on
    ``app.state.ws_connections``, where the metrics read its refusals."""
    limiter: ConnectionLimiter = ws.app.state.ws_connections
    return limiter


async def _admit(ws: WebSocket, runtime: FanoutRuntime, principal: Principal) -> str | None:
    """The credential key held for this client, or the refusal (429) already answered."""
    key = principal.key if runtime.auth.enabled else None  # auth off: one anonymous crowd, total cap only
    refusal = connection_limiter(ws).acquire(key)
    if refusal is not None:
        log.info("ws %s: refused (%s)", _peer(ws), refusal)
        await ws.send_denial_response(JSONResponse({"detail": refusal}, 429, headers={"Retry-After": "5"}))
        raise _Refused
    return key


class _Refused(Exception):
    """The handshake was answered with a refusal."""


async def serve_websocket(ws: WebSocket, send: Send) -> None:
    """One client connection, from handshake to cleanup; ``send`` is the server's raw ASGI send."""
    runtime = get_runtime(ws)
    principal = await _authorize(ws, runtime)
    if principal is None:
        return
    try:
        key = await _admit(ws, runtime, principal)
    except _Refused:
        return
    try:
        await _serve(ws, send, runtime, principal)
    finally:
        connection_limiter(ws).release(key)


async def _serve(ws: WebSocket, send: Send, runtime: FanoutRuntime, principal: Principal) -> None:
    offered = ws.scope.get("subprotocols", [])
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    channel = runtime.hub.register(principal, _peer(ws))
    write_now = direct_writer(ws.scope)
    if write_now is not None:
        channel.attach(write_now)
    log.info("ws #%d %s: connected as %s", channel.id, channel.peer, principal.label)
    sender = asyncio.create_task(channel.pump(send), name=f"ws-send-{channel.id}")
    close_code: int | None = None
    try:
        close_code = await _receive_loop(ws, channel, runtime)
    finally:
        runtime.hub.unregister(channel)
        if close_code is not None:  # the sender flushes the replies (the reason), then closes
            channel.close(close_code)
            await asyncio.wait([sender], timeout=CLOSE_FLUSH_S)
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        log.info("ws #%d %s: gone (sent %d, dropped %d)", channel.id, channel.peer, channel.sent,
                 channel.queue.total_dropped)
