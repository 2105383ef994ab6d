"""Typed server messages of protocol v1 and their parsing (pure: no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from courtside_contracts.analytics import AnalyticsMessage
from courtside_contracts.annotations import Annotation
from courtside_contracts.errors import ContractError
from courtside_contracts.ws import PROTOCOL_VERSION, unpack_video


@dataclass(frozen=True, slots=True)
class AnnotationMessage:
    """One model's results for one frame; coordinates in pixels of that frame."""

    annotation: Annotation

    @property
    def camera(self) -> str:
        return self.annotation.camera

    @property
    def model(self) -> str:
        return self.annotation.model

    @property
    def seq(self) -> int:
        return self.annotation.seq


@dataclass(frozen=True, slots=True)
class AnalyticsUpdate:
    """One frame of a camera's court analytics (court metres, m/s, Unix ns; see courtside_contracts.analytics)."""

    analytics: AnalyticsMessage

    @property
    def camera(self) -> str:
        return self.analytics.camera

    @property
    def seq(self) -> int:
        return self.analytics.seq


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """A JPEG frame; ``ts`` is its capture time (Unix ns), ``seq`` joins it to annotations."""

    camera: str
    seq: int
    ts: int
    width: int
    height: int
    jpeg: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Subscribed:
    """The server's confirmation; ``None`` means all (cameras: all the token may see)."""

    cameras: tuple[str, ...] | None
    models: tuple[str, ...] | None
    video: str


@dataclass(frozen=True, slots=True)
class Status:
    """Live state of the cameras (ingest) and models (inference) this client sees."""

    cameras: dict[str, dict[str, Any]]
    models: dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Dropped:
    """This client was too slow: ``count`` messages lost since the last report, ``total`` overall."""

    count: int
    total: int


@dataclass(frozen=True, slots=True)
class Error:
    """The server refused a request (``code``: bad_json, forbidden, ...); the connection lives on."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Pong:
    nonce: str | None
    ts: int


Message = AnnotationMessage | AnalyticsUpdate | VideoFrame | Subscribed | Status | Dropped | Error


def _names(raw: Any) -> tuple[str, ...] | None:
    return None if raw is None else tuple(str(n) for n in raw)


def parse_message(raw: str | bytes) -> Message | Pong | None:
    """Parse one server message; None for types this client does not know (newer servers).

    Raises :class:`courtside_contracts.errors.ContractError` for malformed data.
    """
    if isinstance(raw, bytes):
        header, jpeg = unpack_video(raw)
        return VideoFrame(header.camera, header.seq, header.ts, header.width, header.height, bytes(jpeg))
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ContractError(f"server message is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("v") != PROTOCOL_VERSION:
        raise ContractError("server message is not a version-1 object")
    kind = data.get("type")
    try:
        if kind == "annotation":
            return AnnotationMessage(Annotation.from_dict(data["annotation"]))
        if kind == "analytics":
            return AnalyticsUpdate(AnalyticsMessage.from_dict(data["analytics"]))
        if kind == "subscribed":
            return Subscribed(_names(data.get("cameras")), _names(data.get("models")), str(data["video"]))
        if kind == "status":
            return Status(dict(data.get("cameras", {})), dict(data.get("models", {})))
        if kind == "dropped":
            return Dropped(int(data["count"]), int(data["total"]))
        if kind == "error":
            return Error(str(data["code"]), str(data["message"]))
        if kind == "pong":
            return Pong(data.get("nonce"), int(data["ts"]))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ContractError):
            raise
        raise ContractError(f"malformed {kind} message: {exc!r}") from None
    return None
