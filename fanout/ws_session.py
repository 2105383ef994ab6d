"""The ``/ws`` endpoint: authenticate, accept, then one receive loop and one sender task.

Protocol v1 (contracts.ws). The receive loop parses ops and queues replies; the
sender task is the only writer of the socket and drains the client's channel.
Bad JSON, unknown ops, oversize messages and forbidden cameras get an ``error``
reply and the connection lives on.
"""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import APIRouter, WebSocket
from fastapi.responses import JSONResponse
from starlette.websockets import WebSocketDisconnect

from contracts.ws import Ping, ProtocolError, Subscribe, error_message, parse_client_message, server_message
from fanout.auth import (
    SUBPROTOCOL,
    Principal,
    bearer_from_header,
    bearer_from_subprotocols,
    origin_allowed,
)
from fanout.channel import ClientChannel, ControlOverflow
from fanout.deps import get_runtime
from fanout.errors import Forbidden, Unauthorized
from fanout.runtime import FanoutRuntime
from fanout.subscriptions import NOTHING, resolve

log = logging.getLogger(__name__)
router = APIRouter()

#: Close codes (4000-4999 are the application's).
CLOSE_IDLE = 4408
CLOSE_POLICY = 1008


async def _sender(ws: WebSocket, channel: ClientChannel) -> None:
    """The only writer of ``ws``: control replies first, then data, ``dropped`` before lost data."""
    send = ws.send
    try:
        while True:
            message = channel.next_message()
            if message is None:
                await channel.wait()
                continue
            if type(message) is str:
                await send({"type": "websocket.send", "text": message})
            else:
                await send({"type": "websocket.send", "bytes": message})
            channel.sent += 1
    except (WebSocketDisconnect, RuntimeError, OSError):
        return  # the peer is gone; the receive loop sees the disconnect and cleans up


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
        return runtime.auth.authenticate(token)
    except Unauthorized as exc:
        log.info("ws %s: refused (%s)", _peer(ws), exc)
        await ws.send_denial_response(JSONResponse({"detail": str(exc)}, 401,
                                                   headers={"WWW-Authenticate": "Bearer"}))
        return None


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
        except ControlOverflow as exc:
            log.info("ws #%d %s: closing, %s", channel.id, channel.peer, exc)
            return CLOSE_POLICY


async def _drain_then_close(ws: WebSocket, channel: ClientChannel, sender: asyncio.Task[None],
                            code: int) -> None:
    """Flush pending control replies (bounded wait), then close with ``code``."""
    deadline = time.monotonic() + 1.0
    while channel.pending_control and not sender.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)
    try:
        await ws.close(code)
    except (RuntimeError, OSError, WebSocketDisconnect):
        pass


@router.websocket("/ws")
async def websocket_endpoint(ws: WebSocket) -> None:
    runtime = get_runtime(ws)
    principal = await _authorize(ws, runtime)
    if principal is None:
        return
    offered = ws.scope.get("subprotocols", [])
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    channel = runtime.hub.register(principal, _peer(ws))
    log.info("ws #%d %s: connected as %s", channel.id, channel.peer, principal.label)
    sender = asyncio.create_task(_sender(ws, channel), name=f"ws-send-{channel.id}")
    close_code: int | None = None
    try:
        close_code = await _receive_loop(ws, channel, runtime)
    finally:
        runtime.hub.unregister(channel)
        if close_code is not None:
            await _drain_then_close(ws, channel, sender, close_code)
        else:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        log.info("ws #%d %s: gone (sent %d, dropped %d)", channel.id, channel.peer, channel.sent,
                 channel.queue.total_dropped)
