"""The segment message on ``clips.<camera>``: one closed recording segment of one camera.

Ingest cuts each camera's own packets (no re-encode) into fragmented MP4 segments,
puts the bytes in the JetStream object store ``segments`` under ``object_key`` and
publishes this message on ``clips.<camera>`` (stream ``CLIPS``, work queue) with
``Nats-Msg-Id = segment_id``, so a re-sent segment is dropped by the stream.

Units: ``start_ns``/``end_ns`` and every ``ts`` are wall-clock Unix nanoseconds
(the unit of a frame's ``Cs-Ts``); ``pts`` and ``pts_origin`` are source
presentation times in seconds (the unit of ``Cs-Pts``). Media time ``t`` inside
the segment's MP4 is ``pts - pts_origin`` seconds. The index lists every frame
of the segment that was published on ``frames.<camera>``, in pts order, so an
annotation (joined by ``seq`` or ``ts``) lands on its exact video frame.
Invariants: ``start_ns < end_ns``, ``bytes > 0``, every index ``pts >= pts_origin``.

The segment's bytes are fragmented MP4, ``ftyp moov (moof mdat)*`` with an optional
trailing ``mfra``; :func:`segment_problems` checks that shape (the archiver refuses a
truncated or corrupt segment) and :func:`playable_prefix` finds what a crash left
playable (at most the fragment being written is lost).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from courtside_contracts.annotations import _int
from courtside_contracts.errors import ContractError
from courtside_contracts.names import InvalidName, validate_name

#: Codecs recorded without re-encoding (FFmpeg codec names).
CODECS: frozenset[str] = frozenset({"h264", "hevc"})
#: Segment ids: ``<camera>-<start_ns>``, a safe object-store key and NATS message id.
SEGMENT_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}-[0-9]{1,20}")
#: Most index entries in one message (10 min at 120 fps): a bound on the message size.
MAX_INDEX = 72_000


def segment_id(camera: str, start_ns: int) -> str:
    """The id of the segment of ``camera`` starting at ``start_ns`` (Unix ns)."""
    return f"{validate_name(camera, 'camera')}-{int(start_ns)}"


def _num(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ContractError(f"{where} must be a finite number, got {value!r:.40}")
    return float(value)


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One published frame: ``seq`` (None when the frame never got one: dropped before
    publishing), source ``pts`` in seconds, capture ``ts`` in Unix ns."""

    seq: int | None
    pts: float
    ts: int

    def to_list(self) -> list[Any]:
        return [self.seq, round(self.pts, 6), self.ts]

    @classmethod
    def from_list(cls, raw: Any, where: str) -> IndexEntry:
        if not isinstance(raw, list) or len(raw) != 3:
            raise ContractError(f"{where} must be [seq, pts, ts]")
        seq = None if raw[0] is None else _int(raw[0], f"{where}.seq", 1)
        return cls(seq, _num(raw[1], f"{where}.pts"), _int(raw[2], f"{where}.ts", 1))


@dataclass(frozen=True, slots=True)
class SegmentMessage:
    """A closed segment (see the module docstring for units and invariants).

    ``crc32c`` is the CRC-32C (Castagnoli) of the whole file as an unsigned 32-bit
    integer (GCS shows the same value as base64 of its 4 big-endian bytes);
    ``size`` is the file's length in bytes (``bytes`` in JSON); ``fragments`` is the number of ``moof`` boxes (about one per second).
    """

    segment_id: str
    camera: str
    start_ns: int
    end_ns: int
    codec: str
    width: int
    height: int
    size: int
    object_key: str
    fragments: int
    crc32c: int
    pts_origin: float
    index: tuple[IndexEntry, ...] = ()

    def __post_init__(self) -> None:
        try:
            validate_name(self.camera, "camera")
        except InvalidName as exc:
            raise ContractError(f"camera: {exc}") from None
        if not SEGMENT_ID_RE.fullmatch(self.segment_id) or not self.segment_id.startswith(self.camera + "-"):
            raise ContractError(f"segment_id must be '<camera>-<start_ns>', got {self.segment_id!r:.80}")
        if not SEGMENT_ID_RE.fullmatch(self.object_key):
            raise ContractError(f"object_key must be a segment id, got {self.object_key!r:.80}")
        _int(self.start_ns, "start_ns", 1)
        if _int(self.end_ns, "end_ns", 1) <= self.start_ns:
            raise ContractError(f"end_ns must be after start_ns ({self.end_ns} <= {self.start_ns})")
        if self.codec not in CODECS:
            raise ContractError(f"codec must be one of {', '.join(sorted(CODECS))}, got {self.codec!r:.40}")
        _int(self.width, "width", 1)
        _int(self.height, "height", 1)
        _int(self.size, "bytes", 1)
        _int(self.fragments, "fragments", 0)
        if not 0 <= _int(self.crc32c, "crc32c") <= 0xFFFFFFFF:
            raise ContractError(f"crc32c must fit in 32 bits, got {self.crc32c}")
        _num(self.pts_origin, "pts_origin")
        if len(self.index) > MAX_INDEX:
            raise ContractError(f"index has {len(self.index)} entries, more than {MAX_INDEX}")
        for i, entry in enumerate(self.index):
            if entry.pts < self.pts_origin - 1e-6:
                raise ContractError(f"index[{i}].pts {entry.pts} is before pts_origin {self.pts_origin}")

    @property
    def duration_s(self) -> float:
        """Wall-clock length of the segment in seconds."""
        return (self.end_ns - self.start_ns) / 1e9

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment_id": self.segment_id, "camera": self.camera,
            "start_ns": self.start_ns, "end_ns": self.end_ns, "codec": self.codec,
            "width": self.width, "height": self.height, "bytes": self.size,
            "object_key": self.object_key, "fragments": self.fragments, "crc32c": self.crc32c,
            "pts_origin": round(self.pts_origin, 6), "index": [e.to_list() for e in self.index],
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, data: Any) -> SegmentMessage:
        if not isinstance(data, dict):
            raise ContractError("segment message must be a JSON object")
        index_raw = data.get("index", [])
        if not isinstance(index_raw, list):
            raise ContractError("index must be an array of [seq, pts, ts]")
        for key in ("segment_id", "camera", "codec", "object_key"):
            if not isinstance(data.get(key), str):
                raise ContractError(f"{key} must be a string")
        return cls(
            segment_id=data["segment_id"], camera=data["camera"],
            start_ns=_int(data.get("start_ns"), "start_ns", 1), end_ns=_int(data.get("end_ns"), "end_ns", 1),
            codec=data["codec"], width=_int(data.get("width"), "width", 1),
            height=_int(data.get("height"), "height", 1), size=_int(data.get("bytes"), "bytes", 1),
            object_key=data["object_key"], fragments=_int(data.get("fragments"), "fragments"),
            crc32c=_int(data.get("crc32c"), "crc32c"), pts_origin=_num(data.get("pts_origin"), "pts_origin"),
            index=tuple(IndexEntry.from_list(e, f"index[{i}]") for i, e in enumerate(index_raw)),
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> SegmentMessage:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ContractError(f"segment message is not JSON: {exc}") from None
        return cls.from_dict(data)


# -- the segment's bytes: top-level boxes of fragmented MP4 ------------------------------

#: Bytes of a box header (32-bit size + 4-character type).
BOX_HEADER = 8


@dataclass(frozen=True, slots=True)
class Box:
    """A top-level box: 4-character ``kind``, byte ``offset`` in the file, total ``size`` in bytes."""

    kind: str
    offset: int
    size: int


def boxes(data: bytes | memoryview) -> tuple[list[Box], int]:
    """The complete top-level boxes, and the offset where parsing stopped (== len when all complete)."""
    out: list[Box] = []
    pos, end = 0, len(data)
    while pos + BOX_HEADER <= end:
        size = int.from_bytes(data[pos:pos + 4], "big")
        kind = bytes(data[pos + 4:pos + 8]).decode("latin-1")
        header = BOX_HEADER
        if size == 1:  # 64-bit size follows
            if pos + 16 > end:
                break
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        if size < header or pos + size > end or not kind.isprintable():
            break
        out.append(Box(kind, pos, size))
        pos += size
    return out, pos


def playable_prefix(data: bytes | memoryview) -> int:
    """Length of the longest prefix ``ftyp moov (moof mdat)*`` of complete boxes (0 if none)."""
    found, _ = boxes(data)
    kinds = [b.kind for b in found]
    if kinds[:2] != ["ftyp", "moov"]:
        return 0
    end = found[1].offset + found[1].size
    i = 2
    while i + 1 < len(found) and kinds[i] == "moof" and kinds[i + 1] == "mdat":
        end = found[i + 1].offset + found[i + 1].size
        i += 2
    return end


def segment_problems(data: bytes | memoryview) -> list[str]:
    """What is wrong with a closed segment's bytes; empty when it is whole."""
    found, stop = boxes(data)
    kinds = [b.kind for b in found]
    issues: list[str] = []
    if stop != len(data):
        issues.append(f"truncated or corrupt box at byte {stop} of {len(data)}")
    if kinds[:2] != ["ftyp", "moov"]:
        issues.append("does not start with ftyp, moov")
    body = kinds[2:]
    if body and body[-1] == "mfra":
        body = body[:-1]
    if len(body) % 2 or any(body[i:i + 2] != ["moof", "mdat"] for i in range(0, len(body), 2)):
        issues.append("fragments are not moof/mdat pairs")
    if not body:
        issues.append("no media fragments")
    return issues


def fragment_count(data: bytes | memoryview) -> int:
    """Number of ``moof`` boxes."""
    return sum(1 for b in boxes(data)[0] if b.kind == "moof")
