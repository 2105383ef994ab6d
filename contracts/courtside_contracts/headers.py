"""NATS header names and the typed metadata that travels with every frame.

Units: ``ts`` is wall-clock capture time in Unix **nanoseconds**; ``pts`` is the
source presentation time in **seconds** (float, may be None when the source has
none); ``width``/``height`` are pixels of the published (resized) JPEG.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from courtside_contracts.errors import ContractError
from courtside_contracts.names import InvalidName, validate_name

CAMERA = "Cs-Camera"
SEQ = "Cs-Seq"
TS = "Cs-Ts"
PTS = "Cs-Pts"
WIDTH = "Cs-Width"
HEIGHT = "Cs-Height"
ENCODING = "Cs-Encoding"
MSG_ID = "Nats-Msg-Id"

JPEG = "jpeg"
ENCODINGS = frozenset({JPEG})


def _int(headers: Mapping[str, str], name: str, minimum: int = 0) -> int:
    raw = headers.get(name)
    if raw is None:
        raise ContractError(f"header {name} is missing")
    try:
        value = int(raw)
    except ValueError:
        raise ContractError(f"header {name} is not an integer: {raw[:40]!r}") from None
    if value < minimum:
        raise ContractError(f"header {name} must be >= {minimum}, got {value}")
    return value


def frame_headers(camera: str, seq: int, ts: int, width: int, height: int, pts: float | None = None,
                  encoding: str = JPEG) -> dict[str, str]:
    """The headers of one frame on ``frames.<camera>``, from values already validated.

    The one place the header layout is written: :meth:`FrameMeta.to_headers` validates and
    calls it; a publisher that validated the camera once may call it per frame.
    """
    headers = {
        CAMERA: camera,
        SEQ: str(seq),
        TS: str(ts),
        WIDTH: str(width),
        HEIGHT: str(height),
        ENCODING: encoding,
    }
    if pts is not None:
        headers[PTS] = repr(float(pts))
    return headers


@dataclass(frozen=True, slots=True)
class FrameMeta:
    """Everything a consumer knows about a frame besides its JPEG bytes."""

    camera: str
    seq: int
    ts: int
    width: int
    height: int
    pts: float | None = None
    encoding: str = JPEG

    def __post_init__(self) -> None:
        try:
            validate_name(self.camera, "camera")
        except InvalidName as exc:
            raise ContractError(str(exc)) from None
        if self.seq < 0 or self.ts < 0 or self.width <= 0 or self.height <= 0:
            raise ContractError(f"frame meta out of range: {self!r}")
        if self.encoding not in ENCODINGS:
            raise ContractError(f"unsupported frame encoding {self.encoding!r}")

    def to_headers(self) -> dict[str, str]:
        """Headers for ``frames.<camera>``."""
        return frame_headers(self.camera, self.seq, self.ts, self.width, self.height, self.pts, self.encoding)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str] | None) -> FrameMeta:
        """Parse and validate frame headers; raise :class:`ContractError` when wrong."""
        if not headers:
            raise ContractError("frame message has no headers")
        camera = headers.get(CAMERA)
        if camera is None:
            raise ContractError(f"header {CAMERA} is missing")
        pts_raw = headers.get(PTS)
        pts: float | None = None
        if pts_raw not in (None, ""):
            try:
                pts = float(pts_raw)
            except ValueError:
                raise ContractError(f"header {PTS} is not a number: {pts_raw!r}") from None
        return cls(
            camera=camera,
            seq=_int(headers, SEQ),
            ts=_int(headers, TS),
            width=_int(headers, WIDTH, 1),
            height=_int(headers, HEIGHT, 1),
            pts=pts,
            encoding=headers.get(ENCODING, JPEG),
        )


def annotation_msg_id(camera: str, model: str, seq: int) -> str:
    """``Nats-Msg-Id`` of an annotation: JetStream drops a replayed duplicate."""
    return f"{camera}.{model}.{seq}"


def annotation_headers(camera: str, model: str, seq: int, ts: int) -> dict[str, str]:
    """Headers for ``annotations.<camera>.<model>``."""
    return {
        CAMERA: camera,
        SEQ: str(seq),
        TS: str(ts),
        MSG_ID: annotation_msg_id(camera, model, seq),
    }
