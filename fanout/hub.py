"""Who wants what: the registry of connected clients and the fan-out of encoded messages.

Each message is encoded once by the caller, framed once here (for the
direct-write fast path, :mod:`fanout.direct_write`) and handed to every
interested client's channel; indexes by camera keep the per-message work proportional to
the clients that want it. Video demand changes are reported through
``on_video_demand`` so the NATS bridge subscribes ``frames.<cam>`` only while
someone watches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import chain

from courtside_contracts.subjects import FRAMES_ALL, frames_subject

from fanout.auth import Principal
from fanout.channel import ClientChannel
from fanout.direct_write import encode_frame
from fanout.limits import Limits
from fanout.subscriptions import NOTHING, Subscription

log = logging.getLogger(__name__)

_Index = dict[str, dict[ClientChannel, None]]


def _add(index: _Index, everyone: dict[ClientChannel, None], cameras: frozenset[str] | None,
         channel: ClientChannel) -> None:
    if cameras is None:
        everyone[channel] = None
    else:
        for cam in cameras:
            index.setdefault(cam, {})[channel] = None


def _remove(index: _Index, everyone: dict[ClientChannel, None], cameras: frozenset[str] | None,
            channel: ClientChannel) -> None:
    if cameras is None:
        everyone.pop(channel, None)
        return
    for cam in cameras:
        chans = index.get(cam)
        if chans is not None:
            chans.pop(channel, None)
            if not chans:
                del index[cam]


def _unindex(hub_ann: _Index, ann_all: dict[ClientChannel, None], video: _Index,
             video_all: dict[ClientChannel, None], channel: ClientChannel) -> None:
    sub = channel.subscription
    _remove(hub_ann, ann_all, sub.cameras, channel)
    if sub.video:
        _remove(video, video_all, sub.cameras, channel)


class Hub:
    """Client registry and dispatch. Not thread-safe: everything runs on the event loop."""

    def __init__(self, client_queue: int, limits: Limits,
                 on_video_demand: Callable[[], None] = lambda: None) -> None:
        self._client_queue = client_queue
        self._limits = limits
        self._on_video_demand = on_video_demand
        self.clients: dict[ClientChannel, None] = {}
        self._ann: _Index = {}
        self._ann_all: dict[ClientChannel, None] = {}
        self._video: _Index = {}
        self._video_all: dict[ClientChannel, None] = {}
        self.delivered = 0            # client-messages handed to channels (written at once or queued)
        self.departed_dropped = 0     # drops of clients already gone
        self.departed_sent = 0
        self.departed_queued = 0

    # -- registry ---------------------------------------------------------------------------
    def register(self, principal: Principal, peer: str = "?") -> ClientChannel:
        channel = ClientChannel(principal, self._client_queue, self._limits.client_queue_bytes,
                                self._limits.control_queue, peer)
        self.clients[channel] = None
        return channel

    def unregister(self, channel: ClientChannel) -> None:
        if self.clients.pop(channel, 0) is None:
            had_video = channel.subscription.video
            _unindex(self._ann, self._ann_all, self._video, self._video_all, channel)
            self.departed_dropped += channel.queue.total_dropped
            self.departed_sent += channel.sent
            self.departed_queued += channel.queued
            channel.queue.clear()
            if had_video:
                self._on_video_demand()

    def subscribe(self, channel: ClientChannel, subscription: Subscription) -> None:
        """Replace the channel's subscription and re-index it."""
        before = self.video_subjects()
        _unindex(self._ann, self._ann_all, self._video, self._video_all, channel)
        channel.subscription = subscription
        _add(self._ann, self._ann_all, subscription.cameras, channel)
        if subscription.video:
            _add(self._video, self._video_all, subscription.cameras, channel)
        if self.video_subjects() != before:
            self._on_video_demand()

    def video_subjects(self) -> frozenset[str]:
        """The ``frames.*`` subjects needed now: every camera, some cameras, or none."""
        if self._video_all:
            return frozenset({FRAMES_ALL})
        return frozenset(frames_subject(cam) for cam in self._video)

    # -- dispatch (hot path) ----------------------------------------------------------------
    def publish_annotation(self, camera: str, model: str, text: str) -> int:
        """Offer one encoded annotation to every client that wants ``camera``/``model`` (framed once)."""
        wanting = self._ann.get(camera, ())
        if not wanting and not self._ann_all:
            return 0  # nobody watches this camera: no framing
        size = len(text)
        frame = encode_frame(text)
        n = 0
        for channel in chain(wanting, self._ann_all):
            models = channel.subscription.models
            if models is None or model in models:
                channel.offer(text, size, frame)
                n += 1
        self.delivered += n
        return n

    def publish_video(self, camera: str, message: bytes) -> int:
        """Offer one packed video message to every client watching ``camera`` (framed once)."""
        watching = self._video.get(camera, ())
        if not watching and not self._video_all:
            return 0  # the last viewer left while frames were in flight: no framing (a copy of the JPEG)
        size = len(message)
        frame = encode_frame(message)
        n = 0
        for channel in chain(watching, self._video_all):
            channel.offer(message, size, frame)
            n += 1
        self.delivered += n
        return n

    def publish_status(self, build: Callable[[frozenset[str] | None], str]) -> None:
        """Send a status message built once per distinct camera set to every subscribed client."""
        cache: dict[frozenset[str] | None, tuple[str, bytes]] = {}
        for channel in self.clients:
            if channel.subscription is NOTHING:
                continue  # not subscribed yet
            key = channel.subscription.cameras
            built = cache.get(key)
            if built is None:
                text = build(key)
                built = cache[key] = (text, encode_frame(text))
            channel.offer(built[0], len(built[0]), built[1])

    # -- stats ------------------------------------------------------------------------------
    def total_dropped(self) -> int:
        return self.departed_dropped + sum(c.queue.total_dropped for c in self.clients)

    def total_sent(self) -> int:
        return self.departed_sent + sum(c.sent for c in self.clients)

    def total_queued(self) -> int:
        return self.departed_queued + sum(c.queued for c in self.clients)

    def queued(self) -> int:
        return sum(len(c.queue) for c in self.clients)
