"""The NATS side of fanout: annotations, court analytics, heartbeats, and frames on demand -> the hub.

Callbacks only parse, encode once and enqueue (:class:`fanout.hub.Hub` never
waits on a client), so a slow browser can never hold back the subscription.
``frames.<camera>`` is subscribed only while a client watches that camera's
video; a reconciler task applies demand changes one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from courtside_contracts.analytics import AnalyticsMessage
from courtside_contracts.annotations import Annotation
from courtside_contracts.errors import ContractError
from courtside_contracts.headers import FrameMeta
from courtside_contracts.status import Heartbeat
from courtside_contracts.subjects import (
    ANALYTICS_ALL,
    ANNOTATIONS_ALL,
    STATUS_ALL,
    SubjectParts,
    parse_subject,
)
from courtside_contracts.ws import ANALYTICS_MODEL, VideoHeader, pack_video, server_message
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.errors import Error as NatsError

from fanout.hub import Hub
from fanout.limits import Limits
from fanout.live_state import LiveState

log = logging.getLogger(__name__)
#: Distinct subjects remembered for "first malformed message" warnings.
_WARN_MEMORY = 256
T = TypeVar("T")


# -- parsing: a message and its subject must agree (ContractError, InvalidName included, when not) --
def _agree(parts: SubjectParts, what: str, camera: str, model: str | None = None) -> None:
    if camera != parts.camera or (model is not None and model != parts.model):
        raise ContractError(f"{what} says {camera if model is None else f'{camera}/{model}'}, subject disagrees")


def annotation_of(msg: Msg) -> Annotation:
    """The annotation on ``annotations.<camera>.<model>``, naming the subject's camera and model."""
    parts = parse_subject(msg.subject)
    ann = Annotation.from_json(msg.data)
    _agree(parts, "payload", ann.camera, ann.model)
    return ann


def analytics_of(msg: Msg) -> AnalyticsMessage:
    """The court analytics on ``analytics.<camera>``, naming the subject's camera."""
    parts = parse_subject(msg.subject)
    message = AnalyticsMessage.from_json(msg.data)
    _agree(parts, "payload", message.camera)
    return message


def frame_meta_of(msg: Msg) -> FrameMeta:
    """The headers of a frame on ``frames.<camera>``, naming the subject's camera."""
    parts = parse_subject(msg.subject)
    meta = FrameMeta.from_headers(msg.headers)
    _agree(parts, "header", meta.camera)
    return meta


@dataclass(slots=True)
class BridgeStats:
    annotations: int = 0
    annotations_malformed: int = 0
    frames: int = 0
    frames_malformed: int = 0
    heartbeats: int = 0
    heartbeats_malformed: int = 0
    analytics: int = 0
    analytics_malformed: int = 0


class NatsBridge:
    """Subscriptions from NATS into the hub; :meth:`start` / :meth:`stop` bracket its life."""

    def __init__(self, nc: NATS, hub: Hub, live: LiveState, limits: Limits,
                 observe_age: Callable[[float], None] = lambda _s: None) -> None:
        self._nc = nc
        self._hub = hub
        self._live = live
        self._limits = limits
        self.stats = BridgeStats()
        self._observe_age = observe_age
        self._subs: list[NatsSubscription] = []
        self._frame_subs: dict[str, NatsSubscription] = {}
        self._demand = asyncio.Event()
        self._reconciler: asyncio.Task[None] | None = None
        self._warned: set[str] = set()

    async def start(self) -> None:
        self._subs.append(await self._nc.subscribe(ANNOTATIONS_ALL, cb=self._on_annotation))
        self._subs.append(await self._nc.subscribe(STATUS_ALL, cb=self._on_status))
        self._subs.append(await self._nc.subscribe(ANALYTICS_ALL, cb=self._on_analytics))
        self._reconciler = asyncio.create_task(self._reconcile_loop(), name="fanout-frames-reconciler")
        self._demand.set()
        log.info("bridge: subscribed %s, %s and %s", ANNOTATIONS_ALL, ANALYTICS_ALL, STATUS_ALL)

    async def stop(self) -> None:
        if self._reconciler is not None:
            self._reconciler.cancel()
            await asyncio.gather(self._reconciler, return_exceptions=True)
        for sub in [*self._subs, *self._frame_subs.values()]:
            with contextlib.suppress(NatsError):  # connection already closed: the subscription is gone anyway
                await sub.unsubscribe()
        self._subs.clear()
        self._frame_subs.clear()

    def video_demand_changed(self) -> None:
        """Hub callback (sync): wake the reconciler."""
        self._demand.set()

    @property
    def frame_subjects(self) -> frozenset[str]:
        return frozenset(self._frame_subs)

    # -- callbacks ----------------------------------------------------------------------------
    def _parsed(self, msg: Msg, what: str, parse: Callable[[Msg], T]) -> T | None:
        """``parse(msg)``, or None when it is malformed (the caller counts it): the first one of
        each subject is logged, further ones only counted."""
        try:
            return parse(msg)
        except ContractError as exc:  # parse_subject's InvalidName is one
            if len(self._warned) < _WARN_MEMORY and msg.subject not in self._warned:
                self._warned.add(msg.subject)
                log.warning("bridge: malformed %s on %s skipped (further ones counted silently): %s",
                            what, msg.subject, exc)
            return None

    async def _on_annotation(self, msg: Msg) -> None:
        ann = self._parsed(msg, "annotation", annotation_of)
        if ann is None:
            self.stats.annotations_malformed += 1
            return
        self.stats.annotations += 1
        self._live.saw_annotation(ann.camera, ann.model, ann.weights, time.monotonic())
        self._observe_age((time.time_ns() - ann.ts) / 1e9)
        self._hub.publish_annotation(ann.camera, ann.model,
                                     server_message("annotation", annotation=ann.to_dict()))

    async def _on_analytics(self, msg: Msg) -> None:
        """``analytics.<camera>``: validated, then to the camera's clients that want it (see ANALYTICS_MODEL)."""
        message = self._parsed(msg, "analytics message", analytics_of)
        if message is None:
            self.stats.analytics_malformed += 1
            return
        self.stats.analytics += 1
        self._hub.publish_annotation(message.camera, ANALYTICS_MODEL,
                                     server_message("analytics", analytics=message.to_dict()))

    async def _on_frame(self, msg: Msg) -> None:
        meta = self._parsed(msg, "frame", frame_meta_of)
        if meta is None:
            self.stats.frames_malformed += 1
            return
        self.stats.frames += 1
        packed = pack_video(VideoHeader(meta.camera, meta.seq, meta.ts, meta.width, meta.height), msg.data)
        self._hub.publish_video(meta.camera, packed)

    async def _on_status(self, msg: Msg) -> None:
        beat = self._parsed(msg, "heartbeat", lambda m: Heartbeat.from_json(m.data))
        if beat is None:
            self.stats.heartbeats_malformed += 1
            return
        self.stats.heartbeats += 1
        self._live.observe(beat, time.monotonic())

    # -- frames on demand -----------------------------------------------------------------------
    async def _reconcile_loop(self) -> None:
        while True:
            await self._demand.wait()
            self._demand.clear()
            try:
                await self._reconcile()
            except NatsError as exc:  # disconnected: retry when NATS is back
                log.warning("bridge: frame subscriptions not updated (%s); retrying", exc)
                await asyncio.sleep(0.5)
                self._demand.set()

    async def _reconcile(self) -> None:
        want = self._hub.video_subjects()
        for subject in sorted(set(self._frame_subs) - want):
            await self._frame_subs[subject].unsubscribe()
            del self._frame_subs[subject]
            log.info("bridge: unsubscribed %s (nobody watches)", subject)
        for subject in sorted(want - set(self._frame_subs)):
            self._frame_subs[subject] = await self._nc.subscribe(
                subject, cb=self._on_frame, pending_msgs_limit=self._limits.frames_pending_msgs,
                pending_bytes_limit=self._limits.frames_pending_msgs * 2 * 1024 * 1024)
            log.info("bridge: subscribed %s (a client watches)", subject)
