"""Object names in the archive and the timeline they describe: pure functions, no I/O.

``<prefix>/<camera>/<YYYY>/<MM>/<DD>/<start_ns>_<end_ns>.mp4`` plus ``.jsonl`` (the
sidecar) for segments, the date being the UTC day of ``start_ns``; saved clips live
apart, under ``<prefix>/clips/<camera>/<clip_id>.mp4`` (+ ``.jsonl`` and ``.json``),
where retention never looks. Every name is built from validated parts only (camera
tokens, integers), so no request can point outside the archive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from courtside_contracts.names import validate_name

#: ``clips`` is reserved: a camera with that id would share the saved clips' folder.
CLIPS_FOLDER = "clips"
_SEGMENT_NAME = re.compile(r"([0-9]{1,20})_([0-9]{1,20})\.mp4")
CLIP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}-[0-9]{1,20}-[0-9]{1,20}")


def _day(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC)


def camera_prefix(prefix: str, camera: str) -> str:
    return f"{prefix}/{validate_name(camera, 'camera')}/"


def segment_key(prefix: str, camera: str, start_ns: int, end_ns: int) -> str:
    """The object name of a segment's MP4."""
    day = _day(start_ns)
    return f"{camera_prefix(prefix, camera)}{day:%Y/%m/%d}/{int(start_ns)}_{int(end_ns)}.mp4"


def sidecar_key(media_key: str) -> str:
    """The annotation sidecar beside a segment's or clip's MP4."""
    return media_key.removesuffix(".mp4") + ".jsonl"


def day_prefixes(prefix: str, camera: str, start_ns: int, end_ns: int) -> list[str]:
    """The day folders that can hold segments overlapping [start_ns, end_ns): a segment
    starting the day before may reach into the range."""
    first = _day(start_ns).date() - timedelta(days=1)
    last = _day(end_ns).date()
    out, day = [], first
    while day <= last:
        out.append(f"{camera_prefix(prefix, camera)}{day:%Y/%m/%d}/")
        day += timedelta(days=1)
    return out


@dataclass(frozen=True, slots=True)
class Recorded:
    """One archived segment: wall times in Unix ns, ``size`` in bytes."""

    key: str
    start_ns: int
    end_ns: int
    size: int


def parse_segment_key(key: str) -> tuple[int, int] | None:
    """(start_ns, end_ns) of a segment's object name, None for anything else."""
    match = _SEGMENT_NAME.fullmatch(key.rsplit("/", 1)[-1])
    if match is None:
        return None
    start, end = int(match[1]), int(match[2])
    return (start, end) if start < end else None


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of the timeline: ``kind`` ``recording`` (with its segment) or ``gap``."""

    kind: str
    start_ns: int
    end_ns: int
    segment: Recorded | None = None


def timeline(segments: list[Recorded], start_ns: int, end_ns: int, tolerance_ns: int = 500_000_000) -> list[Span]:
    """Recordings overlapping [start_ns, end_ns) in time order, with the gaps between them
    (a hole shorter than ``tolerance_ns`` is not a gap: cuts fall on keyframes)."""
    spans: list[Span] = []
    cursor = start_ns
    for seg in sorted(segments, key=lambda s: s.start_ns):
        if seg.end_ns <= start_ns or seg.start_ns >= end_ns:
            continue
        if seg.start_ns - cursor > tolerance_ns:
            spans.append(Span("gap", cursor, seg.start_ns))
        spans.append(Span("recording", seg.start_ns, seg.end_ns, seg))
        cursor = max(cursor, seg.end_ns)
    if end_ns - cursor > tolerance_ns:
        spans.append(Span("gap", cursor, end_ns))
    return spans


def clip_id(camera: str, start_ns: int, end_ns: int) -> str:
    return f"{validate_name(camera, 'camera')}-{int(start_ns)}-{int(end_ns)}"


def clip_key(prefix: str, camera: str, clip: str) -> str:
    """The MP4 of a saved clip; ``clip`` must be a clip id of that camera."""
    if not CLIP_ID.fullmatch(clip) or not clip.startswith(validate_name(camera, "camera") + "-"):
        raise ValueError(f"not a clip id of camera {camera}: {clip[:80]!r}")
    return f"{prefix}/{CLIPS_FOLDER}/{camera}/{clip}.mp4"


def expired(key: str, now_ns: int, days: float | None) -> bool:
    """Retention: a segment whose end is more than ``days`` before ``now_ns`` (never a clip)."""
    if days is None or f"/{CLIPS_FOLDER}/" in key:
        return False
    times = parse_segment_key(key.removesuffix(".jsonl") + ".mp4" if key.endswith(".jsonl") else key)
    return times is not None and now_ns - times[1] > days * 86_400 * 1e9
