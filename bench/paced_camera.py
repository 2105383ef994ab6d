"""The camera of the consumer benchmarks: JPEG frames into a real nats-server, annotations timed on the way back.

Two ways to feed a consumer (:func:`feed`):

- **live** (``offered_fps`` set): a camera faster than the model publishes at that pace
  whatever the consumer does; the consumer serves the newest frame whenever it is free
  and the frames it cannot take are dropped (newest-frame-wins), as with a real camera;
- **closed loop** (``offered_fps`` None): one frame in flight, the next published when the
  last one's annotation arrives: nothing is dropped, but each frame pays a full NATS and
  JSON round trip in series with the model, so a fast model never reaches its direct rate.

Either runs on the caller's event loop and connection (:func:`feed`), or in a camera process of
its own (:func:`feed_from_process`: ``python -m bench.paced_camera``, its own interpreter and NATS
connection, as ingest is), so that a camera publishing hundreds of 720p JPEGs a second does not
share the measured consumer's event loop and GIL.

Imports the standard library, nats-py and the contracts only: ``bench/backends`` runs it in
every backend's own environment (``bench/common`` needs PyAV, which they lack).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nats
from courtside_contracts.headers import FrameMeta
from courtside_contracts.subjects import annotations_filter, frames_subject
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Feed:
    """What one feed measured, after the warm-up annotations.

    ``fps``: annotations per second (measured ones / seconds from the last warm-up
    annotation to the last one); ``latencies_s``: publish -> annotation received (seconds)
    for each measured frame that got one; ``skipped``: frames published up to the last
    annotated one that got none (dropped by newest-frame-wins; 0 in closed loop);
    ``objects``: objects per measured annotation, on average (a top-down pose model whose
    detector boxes did not join poses nobody, and looks fast).
    """

    fps: float
    latencies_s: tuple[float, ...]
    objects: float
    published: int
    skipped: int
    offered_fps: float | None


async def feed(nc: NATS, camera: str, model: str, jpegs: Sequence[bytes], size: tuple[int, int], *,
               measure: int, offered_fps: float | None, warmup: int = 5,
               before_publish: Callable[[int], Awaitable[None]] | None = None, timeout_s: float = 600.0) -> Feed:
    """Publish ``jpegs`` (cycled, ``size`` = published width x height, pixels) as ``camera`` until
    ``warmup + measure`` annotations of ``model`` came back; the consumer must already be ready.

    ``before_publish(seq)`` is awaited before frame ``seq`` is published (e.g. a detector's
    annotation for that frame, for a top-down pose model). ``offered_fps``: see the module doc.
    """
    if measure < 1 or warmup < 1 or (offered_fps is not None and offered_fps <= 0):
        raise ValueError("measure and warmup must be >= 1 and offered_fps > 0")
    total = warmup + measure
    sent_at: dict[int, float] = {}  # seq -> perf_counter at publish, for frames not answered yet
    latencies: list[float] = []
    objects: list[int] = []
    published = received = last_seq = 0
    started = finished = 0.0
    done = asyncio.Event()

    async def publish() -> None:
        nonlocal published
        seq = published
        published += 1
        if before_publish is not None:
            await before_publish(seq)
        sent_at[seq] = time.perf_counter()
        meta = FrameMeta(camera, seq, time.time_ns(), size[0], size[1])
        await nc.publish(frames_subject(camera), jpegs[seq % len(jpegs)], headers=meta.to_headers())

    async def on_annotation(msg: Msg) -> None:
        nonlocal received, last_seq, started, finished
        if done.is_set():
            return
        now = time.perf_counter()
        ann = json.loads(msg.data)
        seq = int(ann["seq"])
        received += 1
        last_seq = seq
        if received > warmup:
            latencies.append(now - sent_at[seq])
            objects.append(len(ann.get("objects", ())))
        for old in [s for s in sent_at if s <= seq]:
            del sent_at[old]
        if received == warmup:
            started = now
        if received == total:
            finished = now
            done.set()
        elif offered_fps is None:
            await publish()

    async def camera_loop(fps: float) -> None:
        period, due = 1.0 / fps, time.perf_counter()
        while not done.is_set():
            await publish()
            due += period
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    sub = await nc.subscribe(annotations_filter(camera=camera, model=model), cb=on_annotation)
    pacer = asyncio.create_task(camera_loop(offered_fps)) if offered_fps is not None else None
    try:
        if pacer is None:
            await publish()
        await asyncio.wait_for(done.wait(), timeout_s)
    finally:
        if pacer is not None:
            done.set()
            await pacer
        await sub.unsubscribe()
    return Feed(fps=measure / (finished - started), latencies_s=tuple(latencies),
                objects=sum(objects) / len(objects), published=published,
                skipped=last_seq + 1 - received, offered_fps=offered_fps)


async def feed_from_process(url: str, camera: str, model: str, frames_dir: Path, size: tuple[int, int], *,
                            measure: int, offered_fps: float | None, warmup: int = 5, timeout_s: float = 600.0,
                            python: str = sys.executable) -> Feed:
    """:func:`feed` run by a camera process of its own (``python -m bench.paced_camera``, its own
    interpreter and NATS connection to ``url``), publishing the ``*.jpg`` files of ``frames_dir``
    in name order: a real camera (ingest) never shares the consumer's event loop or GIL, and at a
    few hundred frames a second an in-process camera's publishing and annotation parsing is work
    the consumer's process pays for. The consumer must already be ready.
    """
    spec = {"url": url, "camera": camera, "model": model, "frames": str(frames_dir), "size": list(size),
            "measure": measure, "offered_fps": offered_fps, "warmup": warmup, "timeout_s": timeout_s}
    proc = await asyncio.create_subprocess_exec(python, "-m", "bench.paced_camera", json.dumps(spec), cwd=REPO,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s + 60)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"the camera process failed ({proc.returncode}): {err.decode(errors='replace')[-600:]}")
    got = json.loads(out.decode().strip().splitlines()[-1])
    return Feed(**{**got, "latencies_s": tuple(got["latencies_s"])})


async def _camera_process(spec: dict[str, Any], jpegs: list[bytes]) -> Feed:
    nc = await nats.connect(spec["url"])
    try:
        return await feed(nc, spec["camera"], spec["model"], jpegs, (spec["size"][0], spec["size"][1]),
                          measure=spec["measure"], offered_fps=spec["offered_fps"], warmup=spec["warmup"],
                          timeout_s=spec["timeout_s"])
    finally:
        await nc.close()


def main(argv: list[str]) -> None:
    """The camera process of :func:`feed_from_process`: one JSON spec in, the :class:`Feed` as JSON out."""
    if len(argv) != 1:
        raise SystemExit("usage: python -m bench.paced_camera '<json spec>' (see feed_from_process)")
    spec = json.loads(argv[0])
    jpegs = [p.read_bytes() for p in sorted(Path(spec["frames"]).glob("*.jpg"))]
    if not jpegs:
        raise SystemExit(f"no *.jpg in {spec['frames']}")
    print(json.dumps(asdict(asyncio.run(_camera_process(spec, jpegs)))))


if __name__ == "__main__":
    main(sys.argv[1:])
