"""The inference consumer: frames.<camera> in, annotations.<camera>.<model> out.

Data flow (one event loop, two named worker threads)::

    NATS client buffer (2 frames per camera; overflow dropped, counted as client_buffer)
    NATS callback: headers only, stale cut --offer--> LatestFrameSlots (newest frame per camera)
    dispatcher --take(batch)--> thread "decode-<model>" (JPEG -> BGR)
               --ready queue (1 batch)--> infer loop --> thread "infer-<model>" (Runner.infer)
    infer loop --published queue--> publish loop: one Annotation per frame (core NATS;
                                    JetStream ANNOTATIONS captures it)

The model runs one batch at a time. The next batch is taken and decoded while the
model is still busy, timed (from running estimates of both stages) to be ready
just as the model frees up: the JPEG cost hides in the model's serial phases and
frames are still taken as late as possible. Frames arriving meanwhile replace
older pending frames of the same camera, so latency stays bounded under overload
instead of a queue growing: nothing waits in front of the slots but a two-frame client
buffer per camera (:mod:`inference.runtime.intake`), no JPEG is decoded before its frame
is taken for a batch, and a frame that will be older than ``max_age_ms`` when the model
can start on it is dropped on arrival or when the batch is taken, never decoded. Stateless models share frames through the queue group
``infer.<model>``; stateful runners (``runner.stateful``, e.g. tracking) subscribe
without it and serve only the cameras they own (:mod:`inference.runtime.camera_ownership`).
Annotations are built and sent by :mod:`inference.runtime.annotation_publisher`, in a loop of
their own: a batch's results are handed over and the infer loop goes straight back to submit the
next decoded batch, so the model thread starts it before this batch's annotations are serialised
and sent (the event loop does that while the model runs), not after.
With ``decode_ahead`` false (``ModelConfig.decode_ahead``) there is no decode thread: frames are
taken only when the model is idle and decoded in its thread just before it runs them (one thread
hop less per batch, nothing decoded while the model is busy). In ``bench/contended`` on the loaded
2-core machine it cut yolo's receipt -> model start from 3.9 to 0.75 ms, but its model time rose
as much (13.7 -> 16.6-19.9 ms), so the age did not measurably improve and decoding ahead stays the
default (docs/benchmarks.md, "contended: court-1 at 640").

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
from collections.abc import Awaitable, Callable

from courtside_contracts.errors import ContractError
from courtside_contracts.headers import FrameMeta
from courtside_contracts.status import HEARTBEAT_INTERVAL_S, Heartbeat, ServiceState
from courtside_contracts.subjects import (
    FRAMES_ALL,
    SERVICE_INFERENCE,
    frames_subject,
    inference_queue_group,
    parse_subject,
    status_subject,
)
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError

from courtside.config import ModelConfig
from courtside.kit.heartbeat import HeartbeatPublisher
from courtside.natsio import now_ns
from inference.backends.base import FrameRef, Runner
from inference.runtime import camera_ownership
from inference.runtime.annotation_publisher import AnnotationPublisher
from inference.runtime.batching import ActiveCameras, BatchPolicy, Ewma, decode_ahead_wait_ns
from inference.runtime.camera_ownership import CameraOwnership
from inference.runtime.intake import NewestInBuffer, pending_limits
from inference.runtime.metrics import ConsumerMetrics
from inference.runtime.processing import BatchOutcome, Decoded, FrameDone, decode_batch, infer_batch
from inference.runtime.slots import LatestFrameSlots, PendingFrame
from inference.runtime.worker import BlockingWorker

log = logging.getLogger(__name__)

SERVICE = SERVICE_INFERENCE
#: A camera counts as active (for "batch full") while it sent a frame this recently.
ACTIVE_WINDOW_NS = 2_000_000_000
#: Finished batches that may wait for the publish loop before the model waits for it (normally
#: none: publishing a batch takes well under a millisecond, a model run far more).
PUBLISH_BACKLOG_BATCHES = 2
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
                 instance: str | None = None, *, heartbeat_interval_s: float | None = None,
                 decode_ahead: bool | None = None) -> None:
        self.model = model
        self.runner = runner
        self.nc = nc
        self.cameras = cameras if cameras is not None else model.cameras
        self.instance = instance or default_instance(model.name)
        self.stateful = runner.stateful
        self.heartbeat_interval_s = heartbeat_interval_s or (
            OWNERSHIP_HEARTBEAT_S if self.stateful else HEARTBEAT_INTERVAL_S)
        self.metrics = ConsumerMetrics()
        self.slots = LatestFrameSlots()
        self.state = ServiceState.STARTING
        self._policy = BatchPolicy(model.batch, int(model.max_wait_ms * 1e6))
        self._max_age_ns = int(model.max_age_ms * 1e6)
        self._active = ActiveCameras(ACTIVE_WINDOW_NS)
        self._ownership = (CameraOwnership(model.name, self.instance, int(2.5 * self.heartbeat_interval_s * 1e9))
                           if self.stateful else None)
        self._publisher = AnnotationPublisher(nc, model.name, runner.version, runner.weights, runner.trained_on)
        min_long_side = runner.input_size if model.decode == "auto" else None
        self._min_long_side = min_long_side
        #: True: decode the next batch in its own thread while the model runs (see the module doc);
        #: False: take frames only when the model is idle and decode them in the model's thread, just
        #: before it runs them (one thread hop less per batch; no decode while the model is busy).
        #: ``decode_ahead`` None = the model's setting (``ModelConfig.decode_ahead``).
        self._decode_ahead = model.decode_ahead if decode_ahead is None else decode_ahead
        self._decoder: BlockingWorker[list[bytes], Decoded] = BlockingWorker(
            f"decode-{model.name}", lambda jpegs: decode_batch(jpegs, min_long_side))
        self._inferrer: BlockingWorker[tuple[Decoded | list[bytes], list[FrameRef], list[str]],
                                       tuple[BatchOutcome, Decoded]] = (
            BlockingWorker(f"infer-{model.name}", self._run_job))
        self._ready: asyncio.Queue[tuple[list[PendingFrame], Decoded | list[bytes]] | None] = (
            asyncio.Queue(maxsize=1))
        #: Finished batches on their way to the publish loop: (frames, results, model start ns). Bounded:
        #: when publishing stalls (a slow NATS connection) the model waits, and newest-frame-wins drops
        #: at the slots, instead of results piling up here without limit.
        self._published: asyncio.Queue[tuple[list[PendingFrame], BatchOutcome, int] | None] = (
            asyncio.Queue(maxsize=PUBLISH_BACKLOG_BATCHES))
        self._infer_started_ns: int | None = None
        self._est_infer = Ewma()
        self._est_decode = Ewma()
        self._wake = asyncio.Event()
        self._stopping = False
        self._subs: list[Subscription] = []
        self._frame_subs: list[Subscription] = []
        self._handled: list[list[int]] = []
        self._errors: list[str] = []
        self._logged: set[str] = set()

    # ---- lifecycle -------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then drain: finish the batch in flight, publish, flush."""
        if self._decode_ahead:
            self._decoder.start()
        self._inferrer.start()
        heartbeat = asyncio.create_task(HeartbeatPublisher(self.nc, self.heartbeat, self.heartbeat_interval_s).run(),
                                        name=f"heartbeat-{self.model.name}")
        dispatcher: asyncio.Task[None] | None = None
        inferrer: asyncio.Task[None] | None = None
        publisher: asyncio.Task[None] | None = None
        try:
            if self._ownership is not None:
                self._subs.append(await camera_ownership.join(self.nc, self._on_heartbeat, self._announce,
                                                              self.heartbeat_interval_s, stop))
            await self.runner.attach(self.nc)  # what it joins to frames (a pose model's detector), before frames
            await self._subscribe()
            self._set_state(ServiceState.READY)
            dispatcher = asyncio.create_task(self._dispatch_loop(), name=f"dispatch-{self.model.name}")
            inferrer = asyncio.create_task(self._infer_loop(), name=f"infer-{self.model.name}")
            publisher = asyncio.create_task(self._publish_loop(), name=f"publish-{self.model.name}")
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({dispatcher, inferrer, publisher, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
        finally:
            self._set_state(ServiceState.STOPPING)
            await self._unsubscribe()
            self._stopping = True
            self._wake.set()
            await self._join(dispatcher, inferrer, publisher)
            await self.runner.detach()
            await self._decoder.stop()
            await self._inferrer.stop()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            with contextlib.suppress(NatsError, asyncio.TimeoutError):
                await self._announce()
                await self.nc.flush(timeout=5)
            log.info("%s: stopped (%d annotations published)", self.model.name, self.metrics.published)

    @staticmethod
    async def _join(*loops: asyncio.Task[None] | None) -> None:
        """Wait until the loops end (the batch in flight is run and published).

        A crashed loop cancels the others, so shutdown never hangs, and its error is re-raised.
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

    async def _announce(self) -> None:
        """Publish one heartbeat now (at start-up of a stateful replica, and the last one at stop)."""
        await self.nc.publish(status_subject(SERVICE, self.instance), self.heartbeat().to_json())

    async def _subscribe(self) -> None:
        subjects = [FRAMES_ALL] if self.cameras is None else [frames_subject(c) for c in self.cameras]
        queue = "" if self.stateful else inference_queue_group(self.model.name)
        wildcard = self.cameras is None
        limits = pending_limits(wildcard, self.nc.max_payload)
        for subject in subjects:
            sub = await self.nc.subscribe(subject, queue=queue, cb=self._frame_handler(None if wildcard else
                                                                                      NewestInBuffer()),
                                          pending_msgs_limit=limits.msgs, pending_bytes_limit=limits.bytes)
            self._frame_subs.append(sub)
            handled = self._handled[-1]  # callback calls; delivered - handled - pending = the client's drops
            self.metrics.intake.watch(id(sub), lambda sub=sub, handled=handled: (  # type: ignore[misc]
                sub.delivered, handled[0], sub.pending_msgs))
        log.info("%s: serving %s as %s (%s, queue group %s): %s", self.model.name, ", ".join(subjects),
                 self.instance, "camera ownership" if self.stateful else "shared", queue or "none",
                 self.runner.describe().summary())

    def _frame_handler(self, newest: NewestInBuffer | None) -> Callable[[Msg], Awaitable[None]]:
        """The callback of one frame subscription (created before it, so it finds it by position).

        With ``newest`` (one camera per subscription) a frame that a newer one of its camera
        already follows in the client buffer is counted as superseded, its headers unread.
        """
        index = len(self._handled)
        handled = [0]
        self._handled.append(handled)

        async def on_frame(msg: Msg) -> None:
            handled[0] += 1
            subs = self._frame_subs
            if newest is not None and index < len(subs) and newest.superseded(subs[index].pending_msgs):
                self.metrics.received += 1
                self.slots.superseded_unseen()
                return
            await self._on_frame(msg)

        return on_frame

    async def _unsubscribe(self) -> None:
        for sub in [*self._frame_subs, *self._subs]:
            with contextlib.suppress(NatsError):
                await sub.unsubscribe()
        for sub in self._frame_subs:
            self.metrics.intake.retire(id(sub))
        self._subs.clear()
        self._frame_subs.clear()
        self._handled.clear()

    def _set_state(self, state: ServiceState) -> None:
        if state != self.state:
            self.state = state
            log.info("%s: %s", self.model.name, state.value)

    # ---- receiving (event loop, must stay cheap) -------------------------------------
    async def _on_frame(self, msg: Msg) -> None:
        self.metrics.received += 1
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
        if self._ownership is not None and not self._ownership.owns(meta.camera, now):
            self.metrics.not_owned += 1
            self.slots.discard(meta.camera)
            return
        self._active.seen(meta.camera, now)
        frame = PendingFrame(meta, msg.data, now)
        stale_before = self.slots.stale
        self.slots.offer(frame, now_ns(), self._max_age_ns)
        if self.slots.stale != stale_before:
            self._log_stale(frame, "on arrival")
            return
        self._wake.set()

    def _run_job(self, job: tuple[Decoded | list[bytes], list[FrameRef], list[str]]) -> tuple[BatchOutcome, Decoded]:
        """Model thread: forget the cameras that changed hands, decode (unless done ahead), run the batch."""
        frames, refs, resets = job
        decoded = frames if isinstance(frames, Decoded) else decode_batch(frames, self._min_long_side)
        for camera in resets:
            self.runner.reset(camera)
        return infer_batch(self.runner, decoded, refs), decoded

    async def _on_heartbeat(self, msg: Msg) -> None:
        if self._ownership is not None:
            self._ownership.heard_json(msg.data, time.monotonic_ns())

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
            taken = self.slots.take(self._policy.max_frames, now_ns(), self._max_age_ns,
                                    self._model_start_in_ns(now))
            if taken.stale:
                self._log_stale(taken.stale[0], "before decoding")
            if taken.frames and not self._decode_ahead:
                await self._ready.put((taken.frames, [f.jpeg for f in taken.frames]))
            elif taken.frames:
                decoded = await self._decoder.submit([f.jpeg for f in taken.frames])
                self._est_decode.add(decoded.decode_ns / len(taken.frames))
                await self._ready.put((taken.frames, decoded))
        await self._ready.put(None)

    def _model_start_in_ns(self, now: int) -> int:
        """Estimated ns until the model can start on a batch taken now: its decode, or the
        rest of the batch in flight if that ends later (0 without estimates)."""
        frames = min(len(self.slots), self._policy.max_frames)
        decode = 0.0 if self._est_decode.value is None else self._est_decode.value * frames
        busy = 0.0
        if self._infer_started_ns is not None and self._est_infer.value is not None:
            busy = self._infer_started_ns + self._est_infer.value - now
        return int(max(decode, busy, 0.0))

    def _log_stale(self, frame: PendingFrame, where: str) -> None:
        self._log_once("stale", "%s: frames older than %.0f ms by the time the model could run them are "
                       "dropped (first: %s seq %d, %s); further drops are only counted", self.model.name,
                       self.model.max_age_ms, frame.meta.camera, frame.meta.seq, where)

    def _decode_ahead_wait_ns(self, now: int) -> int | None:
        if self._ready.full():
            return None  # a decoded batch already waits for the model; woken when it starts
        if not self._decode_ahead:
            return None if self._infer_started_ns is not None else 0  # woken when the model frees up
        per_frame = self._est_decode.value
        frames = min(len(self.slots), self._policy.max_frames)
        return decode_ahead_wait_ns(now, self._infer_started_ns, self._est_infer.value,
                                    None if per_frame is None else per_frame * frames)

    async def _infer_loop(self) -> None:
        """Run decoded batches through the model, one at a time; hand the results to the publish loop.

        The end mark waits for room like a batch; if the publish loop crashed, :meth:`_join`
        cancels this wait.
        """
        try:
            await self._run_batches()
        finally:
            await self._published.put(None)

    async def _run_batches(self) -> None:
        while (item := await self._ready.get()) is not None:
            frames, decoded = item
            self._infer_started_ns = start = time.monotonic_ns()
            self._wake.set()
            resets = [] if self._ownership is None else self._ownership.take_resets()
            try:
                refs = [FrameRef(f.meta.camera, f.meta.seq, f.meta.ts, f.meta.width, f.meta.height) for f in frames]
                outcome, done_decoding = await self._inferrer.submit((decoded, refs, resets))
            except Exception as exc:  # any model failure: count, report, keep serving
                self._batch_failed(len(frames), exc)
                continue
            finally:
                self._infer_started_ns = None
                self._wake.set()
            if decoded is not done_decoding:  # decoded in the model's thread: the model started after it
                start += done_decoding.decode_ns
                self._est_decode.add(done_decoding.decode_ns / len(frames))
            self._est_infer.add(outcome.infer_ms * 1e6)
            self.metrics.batches += 1
            self.metrics.infer_ms.add(outcome.infer_ms)
            if self.state == ServiceState.DEGRADED:
                self._set_state(ServiceState.READY)
            await self._published.put((frames, outcome, start))

    async def _publish_loop(self) -> None:
        """Publish each finished batch's annotations, in the order the model ran them.

        Normally never more than one batch behind (the next batch takes a model run, publishing it well
        under a ms); at most :data:`PUBLISH_BACKLOG_BATCHES` when publishing stalls.
        """
        while (item := await self._published.get()) is not None:
            frames, outcome, start = item
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
        annotation = await self._publisher.publish(frame.meta, done, queue_ms, infer_ms)
        if annotation is not None:
            self.metrics.published += 1
            self.metrics.total_ms.add(annotation.latency.total)
            self.metrics.fps.mark(time.monotonic_ns())

    # ---- reporting --------------------------------------------------------------------
    def heartbeat(self) -> Heartbeat:
        """This replica's heartbeat (``models[<name>]``: see :class:`ConsumerMetrics`)."""
        now = time.monotonic_ns()
        owned = None
        owned_entry = {}
        if self._ownership is not None:
            owned = self._ownership.owned(self._active.names(now), now)
            owned_entry = {"replicas": self._ownership.replicas(now)}
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
