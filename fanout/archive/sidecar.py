"""The annotation sidecar of a segment: one JSON line per annotation, after a header line.

Header: ``{"type": "header", "v": 1, "segment": <segment message, with its seq/pts/ts
index>, "models": [{"name", "version", "weights"}], "annotations": N, "calibration":
{"revision": R, "record": <CalibrationRecord>} | null}``. ``calibration`` is the camera's
court calibration current in the key-value bucket when the segment was archived
(:mod:`fanout.archive.calibration`; ``revision`` is its version), null when the camera has
none or it could not be read; sidecars written before it have no such key (readers take
its absence as "not recorded"). Then every annotation of the camera whose ``ts`` falls in
[start_ns, end_ns) or is a frame of the index, sorted by (ts, model), each once: the bytes
are the same however often the sidecar is rebuilt from the same annotations and the same
calibration revision (a rebuild that found more keeps the first: the archive never
overwrites).

:func:`read_annotations` reads them from the ``ANNOTATIONS`` stream with an ephemeral
pull consumer that starts by time a little before the segment, and stops as soon as
every model has answered past the segment's last frame (no fixed wait: a saved clip
is archived within an inference latency), or at the segment's end plus ``grace_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from courtside_contracts.clips import SegmentMessage
from courtside_contracts.subjects import ANNOTATIONS_STREAM, annotations_filter
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

#: Seconds before the segment's start the stream is read from (capture -> storage latency is positive).
LEAD_S = 1.0
#: Annotations fetched per round trip.
BATCH = 512


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


def build(segment: SegmentMessage, annotations: list[dict[str, Any]],
          calibration: dict[str, Any] | None = None) -> bytes:
    """The sidecar's bytes; ``calibration``: the header's value (module docstring), None for none."""
    models = sorted({(str(a["model"]), str(a.get("model_version", "")), str(a.get("weights", "")))
                     for a in annotations})
    header = {"type": "header", "v": 1, "segment": segment.to_dict(),
              "models": [{"name": n, "version": v, "weights": w} for n, v, w in models],
              "annotations": len(annotations), "calibration": calibration}
    lines = [json.dumps(header, separators=(",", ":"), sort_keys=True)]
    lines += [json.dumps(a, separators=(",", ":"), sort_keys=True) for a in annotations]
    return ("\n".join(lines) + "\n").encode()


def model_names(annotations: list[dict[str, Any]]) -> str:
    return ",".join(sorted({str(a["model"]) for a in annotations}))


def _model_ts(raw: bytes) -> tuple[str, int] | None:
    try:
        data = json.loads(raw)
        return str(data["model"]), int(data["ts"])
    except (ValueError, KeyError, TypeError):
        return None


def caught_up(newest: dict[str, int], last_ts: int) -> bool:
    """Whether every model seen (``newest``: model -> newest annotated ``ts``, Unix ns) has
    answered a frame at or after ``last_ts``: annotations come in capture order per model,
    so nothing of the segment is still on its way."""
    return bool(newest) and all(ts >= last_ts for ts in newest.values())


async def read_annotations(nc: NATS, segment: SegmentMessage, grace_s: float,
                           clock: Callable[[], int] = time.time_ns, poll_s: float = 0.1) -> list[dict[str, Any]]:
    """The segment's annotations from the ``ANNOTATIONS`` stream (empty when there is none).

    Reads until every model seen on the camera has annotated a frame at or after the
    segment's last frame (usually within an inference latency of the segment's end), and
    at most until ``grace_s`` seconds after the segment's end (``clock``: Unix ns) or until
    the stream's storage time passes that (a model that stopped, a camera without models).
    """
    js = nc.jetstream()
    stop_ns = segment.end_ns + int(grace_s * 1e9)
    last_ts = max((e.ts for e in segment.index), default=segment.end_ns - 1)
    try:
        sub = await js.pull_subscribe(
            annotations_filter(segment.camera), stream=ANNOTATIONS_STREAM,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME,
                                  opt_start_time=_utc(segment.start_ns - int(LEAD_S * 1e9)),
                                  ack_policy=AckPolicy.NONE, inactive_threshold=30.0))
    except NotFoundError:
        return []
    raws: list[bytes] = []
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
                raws.append(msg.data)
                pending = meta.num_pending
                found = _model_ts(msg.data)
                if found is not None:
                    newest[found[0]] = max(newest.get(found[0], 0), found[1])
            # Past the grace, stop only once the stream has nothing more (a backlog segment,
            # archived long after its end, still gets every annotation stored for it).
            done = done or caught_up(newest, last_ts) or (pending == 0 and clock() >= stop_ns)
    finally:
        with contextlib.suppress(NatsError):
            await sub.unsubscribe()
    return select(segment, raws)
