"""One WHIP publisher: an aiortc peer connection receiving one video track (the aiortc boundary).

aiortc's errors during negotiation are translated here into
:class:`~ingest.errors.WhipBadOffer`. ICE runs with no STUN/TURN servers
(``iceServers=[]``): ingest answers with host candidates only, which is what a
publisher on the same network (or loopback) needs, and nothing reaches the
internet. Audio, when offered, is answered ``inactive`` so it is never sent.

A session ends on DELETE, when the connection fails or closes, when no first
frame arrives within the camera's ``open_timeout_s``, or when media stops for
``read_timeout_s`` (a publisher that vanished without DELETE).

Recording (when the camera has a recorder): an H.264 publisher's access units are
taken from aiortc's receiver as they are (:mod:`ingest.whip_recording`) and relayed into
segments; any other codec is recorded from the decoded frames, encoded once to H.264
(:mod:`ingest.recording.whip_recorder`), all off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from courtside.config import CameraConfig
from courtside.natsio import now_ns
from ingest.camera_status import CameraStatus
from ingest.encode_worker import EncodeWorker, RawFrame
from ingest.errors import WhipBadOffer
from ingest.handoff import Handoff
from ingest.jpeg_encoder import EncodedFrame, JpegEncoder
from ingest.pacing import FpsLimiter, cap_time
from ingest.recording.recorder import CameraRecorder
from ingest.recording.whip_recorder import WhipRecorder
from ingest.sdp_guard import VIDEO_CODECS, OfferSummary
from ingest.whip_recording import KeyframeRequester, TapUnavailable, tap_receiver

log = logging.getLogger(__name__)

#: Seconds a negotiation (parse offer, gather candidates, answer) may take.
NEGOTIATION_TIMEOUT_S = 5.0
#: Seconds closing a peer connection may take before it is abandoned.
CLOSE_TIMEOUT_S = 2.0
#: Seconds the recording thread may take to close its last segment when a session ends.
RECORDING_JOIN_S = 3.0

#: Called once when a session ends: (session, reason, clean) where clean means DELETE/shutdown.
EndCallback = Callable[["WhipSession", str, bool], None]


class WhipSession:
    """A negotiated (or negotiating) WHIP session of one camera."""

    def __init__(self, session_id: str, config: CameraConfig, status: CameraStatus,
                 handoff: Handoff[EncodedFrame], on_end: EndCallback,
                 recorder: CameraRecorder | None = None) -> None:
        self.id = session_id
        self.camera = config.id
        self._config = config
        self._status = status
        self._on_end = on_end
        self._pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._limiter = FpsLimiter(config.fps)
        self._worker = EncodeWorker(f"whip-{config.id}", JpegEncoder(config.max_side, config.jpeg_quality),
                                    handoff, status)
        self._tasks: list[asyncio.Task[None]] = []
        #: Close tasks in flight: the loop keeps only a weak reference to a task, so a task nobody
        #: holds may be garbage-collected before it finishes (asyncio.create_task docs).
        self._closing: set[asyncio.Task[None]] = set()
        self._last_media: float | None = None
        self._ended = False
        self.codec = ""
        self._recorder = recorder
        #: This session's recording (made once the codec is negotiated), None when not recorded.
        self.recording: WhipRecorder | None = None

    async def negotiate(self, offer: str, summary: OfferSummary) -> str:
        """Apply the offer and return the SDP answer; :class:`WhipBadOffer` when aiortc refuses it."""
        try:
            return await asyncio.wait_for(self._negotiate(offer, summary), NEGOTIATION_TIMEOUT_S)
        except WhipBadOffer:
            raise
        except asyncio.TimeoutError:
            raise WhipBadOffer(f"negotiation did not finish within {NEGOTIATION_TIMEOUT_S:.0f} s") from None
        except Exception as exc:
            raise WhipBadOffer(f"offer rejected: {type(exc).__name__}: {str(exc)[:120]}") from None

    async def _negotiate(self, offer: str, summary: OfferSummary) -> str:
        video = self._pc.addTransceiver("video", direction="recvonly")
        tapped = False
        if self._recorder is not None:
            try:
                tap_receiver(video.receiver, self._on_encoded)
                tapped = True
            except TapUnavailable as exc:
                log.warning("%s: H.264 will be encoded once, not relayed: %s", self.camera, exc)
        wanted = {f"video/{c}".lower() for c in VIDEO_CODECS} | {"video/rtx"}
        capabilities = RTCRtpReceiver.getCapabilities("video")
        codecs = capabilities.codecs if capabilities is not None else []
        video.setCodecPreferences([c for c in codecs if c.mimeType.lower() in wanted])
        if summary.has_audio:
            self._pc.addTransceiver("audio", direction="inactive")

        @self._pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self._tasks.append(asyncio.create_task(self._pump(track), name=f"whip-pump-{self.camera}"))

        @self._pc.on("connectionstatechange")
        async def on_state() -> None:
            state = self._pc.connectionState
            if state in ("failed", "closed"):
                self._end_soon(f"connection {state}", clean=False)

        await self._pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await self._pc.setLocalDescription(await self._pc.createAnswer())
        negotiated = video._codecs  # best first
        self.codec = negotiated[0].mimeType.split("/")[-1] if negotiated else "?"
        if self._recorder is not None:
            relay = tapped and self.codec.lower() == "h264"
            self.recording = WhipRecorder(self._recorder, relay,
                                          KeyframeRequester(asyncio.get_running_loop(), video.receiver))
            log.info("%s: recording %s %s", self.camera, self.codec,
                     "relayed as it arrives" if relay else "encoded once to H.264")
        self._tasks.append(asyncio.create_task(self._watchdog(), name=f"whip-watchdog-{self.camera}"))
        return self._pc.localDescription.sdp

    def _on_encoded(self, codec: str, data: bytes, timestamp: int) -> None:
        if self.recording is not None and codec == "h264":
            self.recording.access_unit(data, timestamp)

    async def _pump(self, track: MediaStreamTrack) -> None:
        """Decoded frames -> fps cap -> encode thread. Runs until the track ends."""
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                now = time.monotonic()
                self._last_media = now
                if self.recording is not None:
                    self.recording.frame(frame)  # ignored when the H.264 is relayed
                pts = float(frame.time) if frame.time is not None else None
                if not self._limiter.keep(cap_time(pts, now)):
                    self._status.count_skipped()
                    continue
                self._worker.submit(RawFrame(frame, now_ns(), pts))
        except MediaStreamError:
            self._end_soon("the publisher's track ended", clean=False)

    async def _watchdog(self) -> None:
        started = time.monotonic()
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            if self._last_media is None:
                if now - started > self._config.open_timeout_s:
                    self._end_soon(f"no media within {self._config.open_timeout_s:.1f} s", clean=False)
                    return
            elif now - self._last_media > self._config.read_timeout_s:
                self._end_soon(f"no media for {self._config.read_timeout_s:.1f} s", clean=False)
                return

    def _end_soon(self, reason: str, clean: bool) -> None:
        if not self._ended:
            task = asyncio.get_running_loop().create_task(self.close(reason, clean),
                                                          name=f"whip-close-{self.camera}")
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def close(self, reason: str, clean: bool = True) -> None:
        """End the session (idempotent): stop media, close the connection, tell the hub."""
        if self._ended:
            return
        self._ended = True
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._worker.stop()
        with contextlib.suppress(Exception):  # closing a half-negotiated connection may raise anything
            await asyncio.wait_for(self._pc.close(), CLOSE_TIMEOUT_S)
        if self.recording is not None:  # its last segment closes before the next session may start
            self.recording.stop()
            if not await asyncio.to_thread(self.recording.join, RECORDING_JOIN_S):
                log.warning("%s: WHIP recording still closing its segment", self.camera)
        log.info("%s: WHIP session %s ended: %s", self.camera, self.id[:8], reason)
        self._on_end(self, reason, clean)
