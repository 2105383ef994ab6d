"""The fanout WebSocket protocol, version 1 (``/ws``).

The client offers the subprotocol :data:`SUBPROTOCOL` (``Sec-WebSocket-Protocol``), and may
carry its token as a second one, ``bearer.<token>`` (browsers cannot set headers on a
WebSocket); the server echoes only :data:`SUBPROTOCOL`, never the token.

Text messages are JSON objects with ``"v": 1``. The client sends ops
(:data:`CLIENT_OPS`, built by :func:`subscribe_message` and :func:`ping_message`); the
server sends ``type`` (:data:`SERVER_MESSAGE_TYPES`), an ``error`` carrying one of
:data:`ERROR_CODES`. With ``video: "jpeg"`` the server also sends binary messages:
:func:`pack_video` header + JPEG.

Binary video message layout (network byte order)::

    u8  version (1)
    u8  camera id length N
    N   camera id (ASCII)
    u64 seq
    i64 ts (capture time, Unix ns)
    u16 width, u16 height (pixels)
    ... JPEG bytes
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from courtside_contracts.errors import ContractError
from courtside_contracts.names import InvalidName, validate_name

PROTOCOL_VERSION = 1
#: Largest client text message the server reads; bigger ones get an error.
MAX_CLIENT_MESSAGE_BYTES = 16 * 1024
#: Largest number of cameras or models named in one subscribe.
MAX_SUBSCRIBE_NAMES = 256

#: The subprotocol fanout speaks and echoes back.
SUBPROTOCOL = "courtside.v1"
#: A token offered as the subprotocol ``bearer.<token>``; never echoed by the server.
BEARER_SUBPROTOCOL_PREFIX = "bearer."

#: Client ops.
OP_SUBSCRIBE = "subscribe"
OP_PING = "ping"
CLIENT_OPS: tuple[str, ...] = (OP_SUBSCRIBE, OP_PING)

#: The ``type`` of every server text message. ``analytics`` carries a camera's court analytics
#: (``{"analytics": <courtside_contracts.analytics message>}``); clients ignore types they do not know.
SERVER_MESSAGE_TYPES: tuple[str, ...] = ("subscribed", "annotation", "status", "dropped", "pong", "error",
                                         "analytics")
#: The name a subscribe's ``models`` list gives to ask for ``analytics`` messages (with ``models``
#: omitted they come with everything else); no model may be named so.
ANALYTICS_MODEL = "analytics"

#: The ``code`` of a server ``error`` message, with its meaning. The connection lives on
#: after every one except ``idle`` (no subscribe in time: the server closes).
ERROR_CODES: Mapping[str, str] = MappingProxyType({
    "bad_json": "the message is not valid JSON",
    "bad_request": "a field is missing or wrong (names, video mode, a binary message)",
    "bad_version": "the protocol version is not 1",
    "unknown_op": "the op is neither subscribe nor ping",
    "too_large": f"the message exceeds {MAX_CLIENT_MESSAGE_BYTES} bytes",
    "forbidden": "the token may not see a camera that was asked for",
    "idle": "no subscribe arrived in time",
})

VideoMode = Literal["jpeg", "none"]
VIDEO_MODES: tuple[str, ...] = ("jpeg", "none")
#: The fixed part of a binary video message after the camera id (struct format, its fields).
VIDEO_FIXED_FORMAT = "!QqHH"
VIDEO_FIXED_FIELDS: tuple[str, ...] = ("seq", "ts", "width", "height")
_VIDEO_FIXED = struct.Struct(VIDEO_FIXED_FORMAT)
#: Bytes of the fixed part (u64 + i64 + u16 + u16 = 20).
VIDEO_FIXED_BYTES = _VIDEO_FIXED.size


def bearer_subprotocol(token: str) -> str:
    """The subprotocol that carries ``token``: ``bearer.<token>``."""
    return f"{BEARER_SUBPROTOCOL_PREFIX}{token}"


def bearer_from_subprotocols(subprotocols: Iterable[str]) -> str | None:
    """The token carried as subprotocol ``bearer.<token>`` (the first one), else None."""
    for proto in subprotocols:
        if proto.startswith(BEARER_SUBPROTOCOL_PREFIX) and len(proto) > len(BEARER_SUBPROTOCOL_PREFIX):
            return proto[len(BEARER_SUBPROTOCOL_PREFIX):]
    return None


def subscribe_message(cameras: Sequence[str] | None = None, models: Sequence[str] | None = None,
                      video: VideoMode = "none") -> str:
    """The client's ``subscribe``; None = everything the token may see (cameras) / every model.

    The server validates the names and answers ``subscribed`` or an ``error``.
    """
    request: dict[str, Any] = {"v": PROTOCOL_VERSION, "op": OP_SUBSCRIBE, "video": video}
    if cameras is not None:
        request["cameras"] = list(cameras)
    if models is not None:
        request["models"] = list(models)
    return json.dumps(request, separators=(",", ":"))


def ping_message(nonce: str | None = None) -> str:
    """The client's application ``ping``; the server answers ``pong`` with the same nonce."""
    return json.dumps({"v": PROTOCOL_VERSION, "op": OP_PING, "nonce": nonce}, separators=(",", ":"))


class ProtocolError(ContractError):
    """A client message is not valid protocol; ``code`` is sent back in the error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Subscribe:
    """``cameras``/``models`` None = everything the token may see."""

    cameras: tuple[str, ...] | None
    models: tuple[str, ...] | None
    video: VideoMode


@dataclass(frozen=True, slots=True)
class Ping:
    """Application-level ping (browsers cannot send WebSocket ping frames)."""

    nonce: str | None = None


ClientOp = Subscribe | Ping


def _names(raw: Any, kind: str) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ProtocolError("bad_request", f"{kind}s must be a list of names or omitted")
    if len(raw) > MAX_SUBSCRIBE_NAMES:
        raise ProtocolError("bad_request", f"at most {MAX_SUBSCRIBE_NAMES} {kind}s per subscribe")
    try:
        return tuple(dict.fromkeys(validate_name(n, kind) for n in raw))
    except InvalidName as exc:
        raise ProtocolError("bad_request", str(exc)) from None


def parse_client_message(text: str | bytes) -> ClientOp:
    """Parse one client message; raise :class:`ProtocolError` with a code and a reason."""
    if len(text) > MAX_CLIENT_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"message exceeds {MAX_CLIENT_MESSAGE_BYTES} bytes")
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProtocolError("bad_json", "message is not valid JSON") from None
    except RecursionError:  # e.g. 10,000 nested '[': the parser's stack, not the server, gives up
        raise ProtocolError("bad_json", "message nests too deeply") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_request", "message must be a JSON object")
    version = data.get("v", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION:
        raise ProtocolError("bad_version", f"protocol version {version!r} unsupported; use 1")
    op = data.get("op")
    if op == OP_SUBSCRIBE:
        video = data.get("video", "none")
        if video not in VIDEO_MODES:
            raise ProtocolError("bad_request", "video must be 'jpeg' or 'none'")
        return Subscribe(_names(data.get("cameras"), "camera"),
                         _names(data.get("models"), "model"), video)
    if op == OP_PING:
        nonce = data.get("nonce")
        return Ping(None if nonce is None else str(nonce)[:64])
    raise ProtocolError("unknown_op", f"unknown op {str(op)[:40]!r}; expected subscribe or ping")


def server_message(type_: str, **fields: Any) -> str:
    """Encode a server text message (``type`` plus fields, with the version)."""
    return json.dumps({"v": PROTOCOL_VERSION, "type": type_, **fields}, separators=(",", ":"))


def error_message(code: str, message: str) -> str:
    return server_message("error", code=code, message=message)


@dataclass(frozen=True, slots=True)
class VideoHeader:
    camera: str
    seq: int
    ts: int
    width: int
    height: int


def pack_video(header: VideoHeader, jpeg: bytes) -> bytes:
    """Binary WebSocket message: header + JPEG (layout in the module docstring)."""
    cam = header.camera.encode("ascii")
    return b"".join((bytes((PROTOCOL_VERSION, len(cam))), cam,
                     _VIDEO_FIXED.pack(header.seq, header.ts, header.width, header.height), jpeg))


def unpack_video(message: bytes) -> tuple[VideoHeader, bytes]:
    """Inverse of :func:`pack_video`; the JPEG is returned as a slice."""
    if len(message) < 2 or message[0] != PROTOCOL_VERSION:
        raise ContractError("not a version-1 video message")
    n = message[1]
    end = 2 + n + _VIDEO_FIXED.size
    if len(message) < end:
        raise ContractError("video message truncated")
    try:
        camera = validate_name(message[2:2 + n].decode("ascii"), "camera")
    except (UnicodeDecodeError, InvalidName) as exc:
        raise ContractError(f"bad camera in video message: {exc}") from None
    seq, ts, width, height = _VIDEO_FIXED.unpack_from(message, 2 + n)
    return VideoHeader(camera, seq, ts, width, height), message[end:]
