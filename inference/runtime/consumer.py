"""The inference consumer: frames.<camera> in, annotations.<camera>.<model> out.

Data flow (one event loop, two named worker threads)::

    NATS callback --put--> LatestFrameSlots (newest frame per camera, drops counted)
    dispatcher --take(batch)--> thread "decode-<model>" (JPEG -> BGR)
               --ready queue (1 batch)--> infer loop --> thread "infer-<model>" (Runner.infer)
    infer loop: publish one Annotation per frame (core NATS; JetStream ANNOTATIONS captures it)

The model runs one batch at a time. The next batch is taken and decoded while the
model is still busy, timed (from running estimates of both stages) to be ready
just as the model frees up: the JPEG cost hides in the model's serial phases and
frames are still taken as late as possible. Frames arriving meanwhile replace
older pending frames of the same camera, so latency stays bounded under overload
instead of a queue growing. Stateless models share frames through the queue group
``infer.<model>``; stateful runners (``runner.stateful``, e.g. tracking) subscribe
without it and serve only the cameras they own (:mod:`inference.runtime.ownership`).

Latency fields (ms): ``queue`` = receipt -> model start (includes decode), ``infer`` = model time of
the batch (decode excluded), ``total`` = capture ``ts`` -> publish (wall clock,
so it includes ingest and NATS transit and any clock skew between hosts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import time

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError

from contracts.annotations import MAX_OBJECTS, Annotation, Latency
from contracts.errors import ContractError
from contracts.headers import FrameMeta, annotation_headers
from contracts.status import HEARTBEAT_INTERVAL_S, Heartbeat, ServiceState
from contracts.subjects import (
    FRAMES_ALL,
    STATUS_PREFIX,
    annotations_subject,
    frames_subject,
    inference_queue_group,
    parse_subject,
)
from courtside.config import ModelConfig
from courtside.natsio import heartbeat_loop, now_ns
from inference.backends.base import Runner
from inference.runtime.batching import ActiveCameras, BatchPolicy, Ewma, decode_ahead_wait_ns
from inference.runtime.metrics import ConsumerMetrics
from inference.runtime.ownership import Membership
from inference.runtime.processing import BatchOutcome, Decoded, FrameDone, decode_batch, infer_batch
from inference.runtime.slots import LatestFrameSlots, PendingFrame
from inference.runtime.worker import BlockingWorker

log = logging.getLogger(__name__)
#: Frames buffered inside the NATS client before ``_on_frame`` sees them. Newest-frame-wins
#: only bounds latency if this buffer is small: when the event loop falls behind (CPU
#: overload), nats-py drops beyond it (SlowConsumerError) instead of queueing seconds of
#: video. 8 MiB is ~40-80 720p JPEGs: a few frames per camera even with 16 cameras.
PENDING_BYTES_LIMIT = 8 * 1024 * 1024

SERVICE = "inference"
#: A camera counts as active (for "batch full") while it sent a frame this recently.
ACTIVE_WINDOW_NS = 2_000_000_000
#: Heartbeat interval when cameras are owned (tracking): faster, so cameras move within 5 s.
OWNERSHIP_HEARTBEAT_S = 1.0


def default_instance(model: str) -> str:
    """``<model>-<host>-<pid>``, reduced to a valid subject token."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:32] or "host"
    return f"{model}-{host}-{os.getpid()}"[:64]


class InferenceConsumer:
    """Serve one model: subscribe, batch, run ``runner`` off the loop, publish, heartbeat.

    ``nc`` is borrowed (the caller connects and closes it). ``cameras`` None = every
    camera (``frames.*``), else only those; it defaults to ``model.cameras``.
    """

    def __init__(self, model: ModelConfig, runner: Runner, nc: NATS, cameras: list[str] | None = None,
                 instance: str | None = None, *, heartbeat_interval_s: float | None = None) -> None:
        self.model = model
        self.runner = runner
        self.nc = nc
        self.cameras = cameras if cameras is not None else model.cameras
        self.instance = instance or default_instance(model.name)
        self.stateful = bool(getattr(runner, "stateful", False))
        self.heartbeat_interval_s = heartbeat_interval_s or (
            OWNERSHIP_HEARTBEAT_S if self.stateful else HEARTBEAT_INTERVAL_S)
        self.metrics = ConsumerMetrics()
        self.slots = LatestFrameSlots()
        self.state = ServiceState.STARTING
        self._policy = BatchPolicy(model.batch, int(model.max_wait_ms * 1e6))
        self._max_age_ns = int(model.max_age_ms * 1e6)
        self._active = ActiveCameras(ACTIVE_WINDOW_NS)
        self._membership = (Membership(self.instance, int(2.5 * self.heartbeat_interval_s * 1e9))
                            if self.stateful else None)
        min_long_side = getattr(runner, "input_size", None) if model.decode == "auto" else None
        self._decoder: BlockingWorker[list[bytes], Decoded] = BlockingWorker(
            f"decode-{model.name}", lambda jpegs: decode_batch(jpegs, min_long_side))
        self._inferrer: BlockingWorker[tuple[Decoded, list[str] | None, list[str]], BatchOutcome] = (
            BlockingWorker(f"infer-{model.name}", self._run_job))
        #: Stateful mode: whether this replica owned each camera at its last frame, and the
        #: cameras whose ownership changed since the last batch (their state is reset first).
        self._owned: dict[str, bool] = {}
        self._to_reset: set[str] = set()
        self._ready: asyncio.Queue[tuple[list[PendingFrame], Decoded] | None] = asyncio.Queue(maxsize=1)
        self._infer_started_ns: int | None = None
        self._est_infer = Ewma()
        self._est_decode = Ewma()
        self._wake = asyncio.Event()
        self._stopping = False
        self._subs: list[Subscription] = []
        self._errors: list[str] = []
        self._logged: set[str] = set()

    # ---- lifecycle -------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then drain: finish the batch in flight, publish, flush."""
        self._decoder.start()
        self._inferrer.start()
        heartbeat = asyncio.create_task(heartbeat_loop(self.nc, self.heartbeat, self.heartbeat_interval_s),
                                        name=f"heartbeat-{self.model.name}")
        dispatcher: asyncio.Task[None] | None = None
        inferrer: asyncio.Task[None] | None = None
        try:
            if self._membership is not None:
                await self._join_membership(stop)
            await self._subscribe()
            self._set_state(ServiceState.READY)
            dispatcher = asyncio.create_task(self._dispatch_loop(), name=f"dispatch-{self.model.name}")
            inferrer = asyncio.create_task(self._infer_loop(), name=f"infer-{self.model.name}")
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({dispatcher, inferrer, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
        finally:
            self._set_state(ServiceState.STOPPING)
            await self._unsubscribe()
            self._stopping = True
            self._wake.set()
            await self._join(dispatcher, inferrer)
            await self._decoder.stop()
            await self._inferrer.stop()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            with contextlib.suppress(NatsError, asyncio.TimeoutError):
                await self.nc.publish(f"{STATUS_PREFIX}.{SERVICE}.{self.instance}", self.heartbeat().to_json())
                await self.nc.flush(timeout=5)
            log.info("%s: stopped (%d annotations published)", self.model.name, self.metrics.published)

    @staticmethod
    async def _join(*loops: asyncio.Task[None] | None) -> None:
        """Wait until both loops end (the batch in flight is run and published).

        A crashed loop cancels the other, so shutdown never hangs, and its error is re-raised.
        """
        tasks = [t for t in loops if t is not None]
        if not tasks:
            return
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        crashed = [t.exception() for t in done if not t.cancelled() and t.exception() is not None]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if crashed:
            raise crashed[0]  # type: ignore[misc]

    async def _join_membership(self, stop: asyncio.Event) -> None:
        """Stateful mode: listen to peers' heartbeats for one interval before taking frames."""
        self._subs.append(await self.nc.subscribe(f"{STATUS_PREFIX}.{SERVICE}.*", cb=self._on_heartbeat))
        await self.nc.publish(f"{STATUS_PREFIX}.{SERVICE}.{self.instance}", self.heartbeat().to_json())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.2 * self.heartbeat_interval_s)

    async def _subscribe(self) -> None:
        subjects = [FRAMES_ALL] if self.cameras is None else [frames_subject(c) for c in self.cameras]
        queue = "" if self.stateful else inference_queue_group(self.model.name)
        for subject in subjects:
            self._subs.append(await self.nc.subscribe(subject, queue=queue, cb=self._on_frame,
                                                      pending_bytes_limit=PENDING_BYTES_LIMIT))
        log.info("%s: serving %s as %s (%s, queue group %s, runner %s/%s on %s, weights %s)",
                 self.model.name, ", ".join(subjects), self.instance,
                 "camera ownership" if self.stateful else "shared", queue or "none",
                 self.runner.name, self.runner.version, self.runner.device, self.runner.weights)

    async def _unsubscribe(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(NatsError):
                await sub.unsubscribe()
        self._subs.clear()

    def _set_state(self, state: ServiceState) -> None:
        if state != self.state:
            self.state = state
            log.info("%s: %s", self.model.name, state.value)

    # ---- receiving (event loop, must stay cheap) -------------------------------------
    async def _on_frame(self, msg: Msg) -> None:
        try:
            meta = FrameMeta.from_headers(msg.headers)
            if parse_subject(msg.subject).camera != meta.camera:
                raise ContractError(f"header Cs-Camera {meta.camera!r} does not match subject {msg.subject}")
        except (ContractError, ValueError) as exc:
            self.metrics.malformed += 1
            self._log_once(f"malformed:{msg.subject}", "%s: malformed frame on %s skipped (%s); "
                           "further ones are only counted", self.model.name, msg.subject, exc)
            return
        now = time.monotonic_ns()
        if self._membership is not None and not self._owns(meta.camera, now):
            self.metrics.not_owned += 1
            self.slots.discard(meta.camera)
            return
        self._active.seen(meta.camera, now)
        self.slots.put(PendingFrame(meta, msg.data, now))
        self._wake.set()

    def _owns(self, camera: str, now: int) -> bool:
        """Stateful mode: ownership of ``camera`` now; a change queues a reset of its state.

        A camera that moved away and comes back must not resume from tracks that are
        seconds old (ids would jump, lost players reappear): the runner forgets it on
        every change of hands, before the next batch runs.
        """
        assert self._membership is not None
        owned = self._membership.owns(camera, now)
        before = self._owned.get(camera)
        if before is not None and before != owned:
            self._to_reset.add(camera)
            log.info("%s: camera %s %s", self.model.name, camera,
                     "is ours again, its state starts afresh" if owned else "moved to another replica")
        self._owned[camera] = owned
        return owned

    def _run_job(self, job: tuple[Decoded, list[str] | None, list[str]]) -> BatchOutcome:
        """Model thread: forget the cameras that changed hands, then run the batch."""
        decoded, cameras, resets = job
        reset = getattr(self.runner, "reset", None)
        if reset is not None:
            for camera in resets:
                reset(camera)
        return infer_batch(self.runner, decoded, cameras)

    async def _on_heartbeat(self, msg: Msg) -> None:
        try:
            beat = Heartbeat.from_json(msg.data)
        except ContractError:
            return
        if self._membership is not None and self.model.name in beat.models:
            self._membership.heard(beat.instance, time.monotonic_ns(), beat.state == ServiceState.STOPPING)

    # ---- dispatching ------------------------------------------------------------------
    async def _dispatch_loop(self) -> None:
        """Take batches (newest frames) and decode them, timed to meet a free model."""
        while not self._stopping:
            now = time.monotonic_ns()
            wait = self._policy.wait_ns(len(self.slots), self.slots.oldest_received_ns(),
                                        self._active.count(now), now)
            if wait == 0:
                wait = self._decode_ahead_wait_ns(now)
            if wait != 0:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), None if wait is None else wait / 1e9)
                continue
            taken = self.slots.take(self._policy.max_frames, now_ns(), self._max_age_ns)
            if taken.stale:
                self._log_once("stale", "%s: frames older than %.0f ms dropped (first: %s seq %d); "
                               "further drops are only counted", self.model.name, self.model.max_age_ms,
                               taken.stale[0].meta.camera, taken.stale[0].meta.seq)
            if taken.frames:
                decoded = await self._decoder.submit([f.jpeg for f in taken.frames])
                self._est_decode.add(decoded.decode_ns / len(taken.frames))
                await self._ready.put((taken.frames, decoded))
        await self._ready.put(None)

    def _decode_ahead_wait_ns(self, now: int) -> int | None:
        if self._ready.full():
            return None  # a decoded batch already waits for the model; woken when it starts
        per_frame = self._est_decode.value
        frames = min(len(self.slots), self._policy.max_frames)
        return decode_ahead_wait_ns(now, self._infer_started_ns, self._est_infer.value,
                                    None if per_frame is None else per_frame * frames)

    async def _infer_loop(self) -> None:
        """Run decoded batches through the model, one at a time, and publish the results."""
        while (item := await self._ready.get()) is not None:
            frames, decoded = item
            self._infer_started_ns = start = time.monotonic_ns()
            self._wake.set()
            resets, self._to_reset = sorted(self._to_reset), set()
            try:
                outcome = await self._inferrer.submit(
                    (decoded, [f.meta.camera for f in frames] if self.stateful else None, resets))
            except Exception as exc:  # any model failure: count, report, keep serving
                self._batch_failed(len(frames), exc)
                continue
            finally:
                self._infer_started_ns = None
                self._wake.set()
            self._est_infer.add(outcome.infer_ms * 1e6)
            self.metrics.batches += 1
            self.metrics.infer_ms.add(outcome.infer_ms)
            if self.state == ServiceState.DEGRADED:
                self._set_state(ServiceState.READY)
            for frame, done in zip(frames, outcome.results, strict=True):
                if isinstance(done, FrameDone):
                    await self._publish(frame, done, (start - frame.received_ns) / 1e6, outcome.infer_ms)
                else:
                    self.metrics.malformed += 1
                    self._log_once(f"decode:{frame.meta.camera}", "%s: undecodable frame from %s skipped "
                                   "(%s); further ones are only counted", self.model.name,
                                   frame.meta.camera, done)

    def _batch_failed(self, frames: int, exc: Exception) -> None:
        self.metrics.failed_batches += 1
        self._errors = [*self._errors[-9:], f"{type(exc).__name__}: {exc}"[:200]]
        self._set_state(ServiceState.DEGRADED)
        self._log_once(f"failed:{type(exc).__name__}", "%s: batch of %d frames failed: %s",
                       self.model.name, frames, exc)

    async def _publish(self, frame: PendingFrame, done: FrameDone, queue_ms: float, infer_ms: float) -> None:
        meta = frame.meta
        objects = done.result.objects
        if len(objects) > MAX_OBJECTS:
            objects = tuple(sorted(objects, key=lambda o: -o.score)[:MAX_OBJECTS])
        total_ms = (now_ns() - meta.ts) / 1e6
        annotation = Annotation(
            camera=meta.camera, seq=meta.seq, ts=meta.ts, model=self.model.name,
            model_version=self.runner.version, weights=self.runner.weights,
            frame_w=done.width, frame_h=done.height,
            latency=Latency(queue=queue_ms, infer=infer_ms, total=total_ms),
            objects=objects, ball=done.result.ball)
        try:
            await self.nc.publish(annotations_subject(meta.camera, self.model.name), annotation.to_json(),
                                  headers=annotation_headers(meta.camera, self.model.name, meta.seq, meta.ts))
        except NatsError as exc:
            self._log_once("publish", "%s: publishing annotations failed: %s", self.model.name, exc)
            return
        self.metrics.published += 1
        self.metrics.total_ms.add(total_ms)
        self.metrics.fps.mark(time.monotonic_ns())

    # ---- reporting --------------------------------------------------------------------
    def heartbeat(self) -> Heartbeat:
        """This replica's heartbeat (``models[<name>]``: see :class:`ConsumerMetrics`)."""
        now = time.monotonic_ns()
        owned = None
        if self._membership is not None:
            live = self._membership.live(now)
            owned = [c for c in self._active.names(now) if self._membership.owns(c, now)]
            owned_entry = {"replicas": live}
        else:
            owned_entry = {}
        entry = self.metrics.snapshot(
            now, superseded=self.slots.superseded, stale=self.slots.stale,
            out_of_order=self.slots.out_of_order, loaded=True, weights=self.runner.weights,
            device=self.runner.device, cameras=self._active.names(now), owned=owned)
        entry.update(owned_entry)
        return Heartbeat(service=SERVICE, instance=self.instance, state=self.state, ts=now_ns(),
                         models={self.model.name: entry}, errors=list(self._errors))

    def _log_once(self, key: str, fmt: str, *args: object) -> None:
        if key not in self._logged:
            self._logged.add(key)
            log.warning(fmt, *args)
