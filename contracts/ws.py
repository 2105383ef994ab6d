"""The fanout WebSocket protocol, version 1 (``/ws``).

Text messages are JSON objects with ``"v": 1``. The client sends ops
(``subscribe``, ``ping``); the server sends ``type``: ``subscribed``,
``annotation``, ``status``, ``dropped``, ``pong``, ``error``. With ``video:
"jpeg"`` the server also sends binary messages: :func:`pack_video` header + JPEG.

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
from dataclasses import dataclass
from typing import Any, Literal

from contracts.errors import ContractError
from contracts.names import InvalidName, validate_name

PROTOCOL_VERSION = 1
#: Largest client text message the server reads; bigger ones get an error.
MAX_CLIENT_MESSAGE_BYTES = 16 * 1024
#: Largest number of cameras or models named in one subscribe.
MAX_SUBSCRIBE_NAMES = 256

VideoMode = Literal["jpeg", "none"]
_VIDEO_FIXED = struct.Struct("!QqHH")


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
    if not isinstance(data, dict):
        raise ProtocolError("bad_request", "message must be a JSON object")
    version = data.get("v", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION:
        raise ProtocolError("bad_version", f"protocol version {version!r} unsupported; use 1")
    op = data.get("op")
    if op == "subscribe":
        video = data.get("video", "none")
        if video not in ("jpeg", "none"):
            raise ProtocolError("bad_request", "video must be 'jpeg' or 'none'")
        return Subscribe(_names(data.get("cameras"), "camera"),
                         _names(data.get("models"), "model"), video)
    if op == "ping":
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
