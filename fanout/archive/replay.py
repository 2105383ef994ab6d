"""Replay over the archive: list a camera's recordings with gaps, read objects, export a range,
the annotations of a range, and saved clips (never expired). All blocking archive and PyAV
work runs in threads; callers (the REST router) validate names and ranges first.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from courtside_contracts.clips import SegmentMessage
from courtside_contracts.errors import ContractError
from courtside_contracts.subjects import recording_flush_subject
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from courtside.config import ArchiveConfig
from fanout.archive import layout, sidecar
from fanout.archive.export import ExportedClip, ExportError, export
from fanout.archive.store import ArchiveConflict, ArchiveStore

#: Seconds a "last N seconds" clip waits for ingest to close and ship the open segment.
FLUSH_TIMEOUT_S = 10.0
#: Seconds it then waits for the archiver to have archived it.
ARCHIVED_TIMEOUT_S = 15.0
#: Archive reads in flight at once for one export (threads).
READERS = 8
#: Bytes read at a time while looking for a sidecar's header line.
HEADER_CHUNK = 64 * 1024


class ReplayError(Exception):
    """A request that cannot be served; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Segment:
    """An archived segment with its sidecar header."""

    recorded: layout.Recorded
    message: SegmentMessage


class Replay:
    def __init__(self, store: ArchiveStore, config: ArchiveConfig, nc: NATS | None) -> None:
        self.store = store
        self.config = config
        self._nc = nc

    # -- listing -------------------------------------------------------------------

    def _recorded(self, camera: str, start_ns: int, end_ns: int) -> list[layout.Recorded]:
        out = []
        for prefix in layout.day_prefixes(self.config.prefix, camera, start_ns, end_ns):
            for obj in self.store.list(prefix):
                times = layout.parse_segment_key(obj.key)
                if times is not None and times[1] > start_ns and times[0] < end_ns:
                    out.append(layout.Recorded(obj.key, times[0], times[1], obj.size))
        return sorted(out, key=lambda r: r.start_ns)

    async def timeline(self, camera: str, start_ns: int, end_ns: int) -> list[layout.Span]:
        found = await asyncio.to_thread(self._recorded, camera, start_ns, end_ns)
        return layout.timeline(found, start_ns, end_ns)

    def key_of(self, camera: str, name: str) -> str:
        """The object key of ``<start>_<end>.mp4|.jsonl`` of ``camera``; ReplayError when not a name."""
        media = name.removesuffix(".jsonl") + ".mp4" if name.endswith(".jsonl") else name
        times = layout.parse_segment_key(media)
        if times is None:
            raise ReplayError(400, "a recording is named <start_ns>_<end_ns>.mp4 or .jsonl")
        key = layout.segment_key(self.config.prefix, camera, *times)
        return key if name.endswith(".mp4") else layout.sidecar_key(key)

    # -- segments with their headers -------------------------------------------------

    def _first_line(self, key: str) -> bytes:
        """The sidecar's header line, read in chunks (the annotations after it can be megabytes)."""
        head = b""
        while True:
            chunk = self.store.read(key, len(head), len(head) + HEADER_CHUNK)
            head += chunk
            if b"\n" in chunk or len(chunk) < HEADER_CHUNK:
                return head.split(b"\n", 1)[0]

    def _header(self, key: str) -> SegmentMessage:
        raw = self._first_line(layout.sidecar_key(key))
        try:
            head = json.loads(raw)
            return SegmentMessage.from_dict(head["segment"])
        except (ValueError, KeyError, ContractError) as exc:
            raise ReplayError(500, f"the sidecar of {key} is unreadable: {exc}") from None

    def _segments(self, camera: str, start_ns: int, end_ns: int) -> list[Segment]:
        found = self._recorded(camera, start_ns, end_ns)
        with ThreadPoolExecutor(READERS, thread_name_prefix="replay-read") as pool:
            return [Segment(r, m) for r, m in zip(found, pool.map(self._header, [r.key for r in found]), strict=True)]

    def _export(self, camera: str, start_ns: int, end_ns: int) -> ExportedClip:
        segments = self._segments(camera, start_ns, end_ns)
        if not segments:
            raise ReplayError(404, "no recording of that camera in that range")
        # Concurrent reads: a remote bucket answers each in tens of ms, the join itself takes ms.
        with ThreadPoolExecutor(READERS, thread_name_prefix="replay-read") as pool:
            media = list(pool.map(self.store.read, [s.recorded.key for s in segments]))
        try:
            return export([(s.message, data) for s, data in zip(segments, media, strict=True)], start_ns, end_ns)
        except ExportError as exc:
            raise ReplayError(404, str(exc)) from None

    async def export(self, camera: str, start_ns: int, end_ns: int) -> ExportedClip:
        return await asyncio.to_thread(self._export, camera, start_ns, end_ns)

    def _annotations(self, camera: str, start_ns: int, end_ns: int) -> dict[str, Any]:
        """The sidecars' lines in range: ``annotations``, ``analytics`` (their ``type`` key kept; empty
        for sidecars written before they were archived) and each segment's header parts, its
        ``calibration`` None when it had none or was archived before calibrations were."""
        out: list[dict[str, Any]] = []
        analytics: list[dict[str, Any]] = []
        heads: list[dict[str, Any]] = []
        for rec in self._recorded(camera, start_ns, end_ns):
            lines = self.store.read(layout.sidecar_key(rec.key)).splitlines()
            if not lines:
                continue
            head = json.loads(lines[0])
            heads.append({"key": rec.key, "segment": head.get("segment"), "models": head.get("models", []),
                          "calibration": head.get("calibration")})
            for line in lines[1:]:
                item = json.loads(line)
                if start_ns <= int(item.get("ts", -1)) < end_ns:
                    (analytics if item.get("type") == sidecar.ANALYTICS_LINE else out).append(item)
        return {"camera": camera, "start_ns": start_ns, "end_ns": end_ns, "segments": heads, "annotations": out,
                "analytics": analytics}

    async def annotations(self, camera: str, start_ns: int, end_ns: int) -> dict[str, Any]:
        return await asyncio.to_thread(self._annotations, camera, start_ns, end_ns)

    # -- clips -------------------------------------------------------------------------

    async def flush(self, camera: str) -> int:
        """Ask ingest to close and ship the open segment; returns its end (Unix ns)."""
        if self._nc is None:
            raise ReplayError(503, "no NATS connection: the open segment cannot be flushed")
        try:
            reply = await self._nc.request(recording_flush_subject(camera), b"", timeout=FLUSH_TIMEOUT_S)
            data = json.loads(reply.data)
        except (NatsError, asyncio.TimeoutError, ValueError) as exc:
            raise ReplayError(503, f"ingest did not flush camera {camera}: {type(exc).__name__}") from None
        if "error" in data:
            raise ReplayError(503, f"ingest could not flush camera {camera}: {data['error']}")
        return int(data["end_ns"])

    async def wait_archived(self, camera: str, until_ns: int) -> None:
        """Until a segment ending at or after ``until_ns`` is archived (ReplayError 504 on timeout)."""
        deadline = time.monotonic() + ARCHIVED_TIMEOUT_S
        while time.monotonic() < deadline:
            if await asyncio.to_thread(self._archived_until, camera, until_ns):
                return
            await asyncio.sleep(0.05)  # a listing of one or two day folders
        raise ReplayError(504, "the flushed segment was not archived in time (is the archiver running?)")

    def _archived_until(self, camera: str, until_ns: int) -> bool:
        found = [r for r in self._recorded(camera, until_ns - 1, until_ns + 1) if r.end_ns >= until_ns]
        return bool(found) and all(self.store.stat(layout.sidecar_key(r.key)) is not None for r in found)

    def _save(self, camera: str, start_ns: int, end_ns: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        clip = self._export(camera, start_ns, end_ns)
        data = self._annotations(camera, clip.start_ns, clip.end_ns)
        clip_id = layout.clip_id(camera, clip.start_ns, clip.end_ns)
        key = layout.clip_key(self.config.prefix, camera, clip_id)
        manifest = {"id": clip_id, "camera": camera, "start_ns": clip.start_ns, "end_ns": clip.end_ns,
                    "requested_start_ns": start_ns, "requested_end_ns": end_ns, "codec": clip.codec,
                    "frames": clip.frames, "bytes": clip.size, "keyframe_aligned": True,
                    "saved_ns": time.time_ns(), **(extra or {})}
        models = sorted({json.dumps(m, sort_keys=True) for s in data["segments"] for m in s["models"]})
        header = {"type": "header", "v": 1, "clip": manifest, "models": [json.loads(m) for m in models],
                  "index": [e.to_list() for e in clip.index], "annotations": len(data["annotations"]),
                  "analytics": len(data["analytics"])}
        lines = [json.dumps(header, sort_keys=True)]
        lines += [json.dumps(a, sort_keys=True)
                  for a in sorted(data["annotations"] + data["analytics"], key=sidecar.line_order)]
        meta = {"camera": camera, "clip_id": clip_id, "start_ns": str(clip.start_ns), "end_ns": str(clip.end_ns),
                "codec": clip.codec, "models": sidecar.model_names(data["annotations"])}
        try:
            self.store.put_new(key, clip.data, "video/mp4", meta)
            self.store.put_new(layout.sidecar_key(key), ("\n".join(lines) + "\n").encode(), "application/x-ndjson", meta)
            self.store.put_new(key.removesuffix(".mp4") + ".json", json.dumps(manifest).encode(), "application/json", meta)
        except ArchiveConflict:
            pass  # the same range saved twice: the first copy stands
        return manifest

    async def save(self, camera: str, start_ns: int, end_ns: int,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Save ``start_ns``..``end_ns`` as a clip; ``extra`` keys join its manifest (a rally's stats)."""
        return await asyncio.to_thread(self._save, camera, start_ns, end_ns, extra)

    def _clips(self, camera: str) -> list[dict[str, Any]]:
        out = []
        for obj in self.store.list(f"{self.config.prefix}/{layout.CLIPS_FOLDER}/{camera}/"):
            if obj.key.endswith(".json"):
                out.append(json.loads(self.store.read(obj.key)))
        return sorted(out, key=lambda c: c["start_ns"])

    async def clips(self, camera: str) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._clips, camera)
