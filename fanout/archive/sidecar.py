"""The sidecar of a segment: a header line, then one JSON line per annotation and per analytics message.

Header: ``{"type": "header", "v": 1, "segment": <segment message, with its seq/pts/ts
index>, "models": [{"name", "version", "weights"}], "annotations": N, "analytics": M,
"calibration": {"revision": R, "record": <CalibrationRecord>} | null}``. ``calibration`` is
the camera's court calibration current in the key-value bucket when the segment was archived
(:mod:`fanout.archive.calibration`; ``revision`` is its version), null when the camera has
none or it could not be read. Sidecars written before these keys have neither ``analytics``
nor ``calibration`` (readers take their absence as "not recorded") and only annotation lines.

Lines: every annotation (the message as published, no ``type`` key) and every analytics
message of the camera (``{"type": "analytics", ...}``: the :class:`AnalyticsMessage` as the
contract writes it, checked on the way in) whose ``ts`` falls in [start_ns, end_ns) or is a
frame of the index, sorted by ``ts``, a frame's annotations (by model) before its analytics,
each once (annotations by (model, seq), analytics by (seq, ts)). The bytes are the same however
often the sidecar is rebuilt from the same messages and the same calibration revision (a
rebuild that found more keeps the first: the archive never overwrites).

:func:`read_lines` reads them from the ``ANNOTATIONS`` stream (which keeps ``analytics.*`` too,
:data:`courtside_contracts.streams.ANNOTATIONS`; a stream created before that has annotations
only) with an ephemeral pull consumer that starts by time a little before the segment, and
stops as soon as every producer seen (each model, and the analytics service) has answered past
the segment's last frame (no fixed wait: a saved clip is archived within an inference latency),
or at the segment's end plus ``grace_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from courtside_contracts.analytics import AnalyticsMessage
from courtside_contracts.clips import SegmentMessage
from courtside_contracts.errors import ContractError
from courtside_contracts.subjects import (
    ANALYTICS_ALL,
    ANALYTICS_PREFIX,
    ANNOTATIONS_STREAM,
    analytics_subject,
    annotations_filter,
)
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

#: Seconds before the segment's start the stream is read from (capture -> storage latency is positive).
LEAD_S = 1.0
#: Messages fetched per round trip.
BATCH = 512
#: The producer key of the analytics service in :func:`caught_up` (not a valid model name).
ANALYTICS_PRODUCER = "@analytics"
#: ``type`` of an analytics line.
ANALYTICS_LINE = "analytics"


@dataclass(frozen=True, slots=True)
class Found:
    """A segment's lines as :func:`select` and :func:`select_analytics` return them."""

    annotations: list[dict[str, Any]]
    analytics: list[dict[str, Any]]


def _utc(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC)


def select(segment: SegmentMessage, raws: Iterable[bytes]) -> list[dict[str, Any]]:
    """The annotations of ``segment`` among ``raws`` (JSON bytes), sorted, duplicates dropped."""
    index_ts = {e.ts for e in segment.index}
    seen: set[tuple[str, int]] = set()
    out: list[dict[str, Any]] = []
    for raw in raws:
        try:
            data = json.loads(raw)
            ts, model, seq = int(data["ts"]), str(data["model"]), int(data["seq"])
        except (ValueError, KeyError, TypeError):
            continue  # not an annotation: the stream's own validation is the producer's
        if data.get("camera") != segment.camera or (model, seq) in seen:
            continue
        if segment.start_ns <= ts < segment.end_ns or ts in index_ts:
            seen.add((model, seq))
            out.append(data)
    out.sort(key=lambda d: (d["ts"], d["model"]))
    return out


def select_analytics(segment: SegmentMessage, raws: Iterable[bytes]) -> list[dict[str, Any]]:
    """The analytics lines of ``segment`` among ``raws`` (JSON bytes of ``analytics.<camera>``): valid
    messages of its camera in range (the :func:`select` rule), sorted by (ts, seq), each once."""
    index_ts = {e.ts for e in segment.index}
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for raw in raws:
        try:
            msg = AnalyticsMessage.from_json(raw)
        except ContractError:
            continue  # malformed: the live path counts it (fanout's bridge); the archive keeps valid ones
        if msg.camera != segment.camera or (msg.ts, msg.seq) in found:
            continue
        if segment.start_ns <= msg.ts < segment.end_ns or msg.ts in index_ts:
            found[msg.ts, msg.seq] = {"type": ANALYTICS_LINE, **msg.to_dict()}
    return [found[key] for key in sorted(found)]


def line_order(line: dict[str, Any]) -> tuple[int, int, str, int]:
    """Sort key of a line: by frame time, a frame's annotations (by model) before its analytics."""
    if line.get("type") == ANALYTICS_LINE:
        return int(line["ts"]), 1, "", int(line["seq"])
    return int(line["ts"]), 0, str(line["model"]), 0


def build(segment: SegmentMessage, annotations: list[dict[str, Any]],
          calibration: dict[str, Any] | None = None, analytics: list[dict[str, Any]] | None = None) -> bytes:
    """The sidecar's bytes; ``calibration``: the header's value (module docstring), None for none;
    ``analytics``: the lines of :func:`select_analytics`."""
    analytics = analytics or []
    models = sorted({(str(a["model"]), str(a.get("model_version", "")), str(a.get("weights", "")))
                     for a in annotations})
    header = {"type": "header", "v": 1, "segment": segment.to_dict(),
              "models": [{"name": n, "version": v, "weights": w} for n, v, w in models],
              "annotations": len(annotations), "analytics": len(analytics), "calibration": calibration}
    lines = [json.dumps(header, separators=(",", ":"), sort_keys=True)]
    lines += [json.dumps(a, separators=(",", ":"), sort_keys=True) for a in sorted(annotations + analytics, key=line_order)]
    return ("\n".join(lines) + "\n").encode()


def model_names(annotations: list[dict[str, Any]]) -> str:
    return ",".join(sorted({str(a["model"]) for a in annotations}))


def _producer_ts(subject: str, raw: bytes) -> tuple[str, int] | None:
    """Who sent ``raw`` (its model, or :data:`ANALYTICS_PRODUCER`) and the ``ts`` of its frame."""
    try:
        data = json.loads(raw)
        if subject.startswith(f"{ANALYTICS_PREFIX}."):
            return ANALYTICS_PRODUCER, int(data["ts"])
        return str(data["model"]), int(data["ts"])
    except (ValueError, KeyError, TypeError):
        return None


def caught_up(newest: dict[str, int], last_ts: int) -> bool:
    """Whether every producer seen (``newest``: model, or :data:`ANALYTICS_PRODUCER`, -> the newest
    ``ts`` it answered, Unix ns) has answered a frame at or after ``last_ts``: each publishes in
    capture order, so nothing of the segment is still on its way."""
    return bool(newest) and all(ts >= last_ts for ts in newest.values())


async def read_lines(nc: NATS, segment: SegmentMessage, grace_s: float,
                     clock: Callable[[], int] = time.time_ns, poll_s: float = 0.1) -> Found:
    """The segment's annotations and analytics from the ``ANNOTATIONS`` stream (empty when there is none).

    Reads until every producer seen on the camera has answered a frame at or after the
    segment's last frame (usually within an inference latency of the segment's end), and
    at most until ``grace_s`` seconds after the segment's end (``clock``: Unix ns) or until
    the stream's storage time passes that (a model that stopped, a camera without models).
    """
    js = nc.jetstream()
    stop_ns = segment.end_ns + int(grace_s * 1e9)
    last_ts = max((e.ts for e in segment.index), default=segment.end_ns - 1)
    filters = [annotations_filter(segment.camera)]
    try:
        if ANALYTICS_ALL in ((await js.stream_info(ANNOTATIONS_STREAM)).config.subjects or []):
            filters.append(analytics_subject(segment.camera))
        sub = await js.pull_subscribe(
            filters[0], stream=ANNOTATIONS_STREAM,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME,
                                  opt_start_time=_utc(segment.start_ns - int(LEAD_S * 1e9)),
                                  filter_subjects=filters if len(filters) > 1 else None,
                                  ack_policy=AckPolicy.NONE, inactive_threshold=30.0))
    except NotFoundError:
        return Found([], [])
    raws: list[bytes] = []
    analytics: list[bytes] = []
    newest: dict[str, int] = {}
    try:
        done = False
        while not done:
            pending = 1
            try:
                msgs = await sub.fetch(BATCH, timeout=poll_s)
            except asyncio.TimeoutError:
                msgs, pending = [], 0  # caught up with the stream
            for msg in msgs:
                meta = msg.metadata
                stored = meta.timestamp.timestamp() * 1e9 if meta.timestamp else 0
                if stored > stop_ns:
                    done = True
                    break
                (analytics if msg.subject.startswith(f"{ANALYTICS_PREFIX}.") else raws).append(msg.data)
                pending = meta.num_pending
                found = _producer_ts(msg.subject, msg.data)
                if found is not None:
                    newest[found[0]] = max(newest.get(found[0], 0), found[1])
            # Past the grace, stop only once the stream has nothing more (a backlog segment,
            # archived long after its end, still gets every message stored for it).
            done = done or caught_up(newest, last_ts) or (pending == 0 and clock() >= stop_ns)
    finally:
        with contextlib.suppress(NatsError):
            await sub.unsubscribe()
    return Found(select(segment, raws), select_analytics(segment, analytics))
