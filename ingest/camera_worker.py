"""The worker thread of one PyAV camera (file, demo or RTSP): connect, decode, reconnect.

Everything blocking for a camera happens here, in a thread named
``ingest-<camera>``: opening, demuxing, decoding, the fps cap, pacing (files),
resizing and JPEG encoding. Finished frames go to the event loop through a
drop-oldest :class:`~ingest.handoff.Handoff`. A slow or dead camera only ever
blocks its own thread. With recording on, the same thread remuxes every demuxed
packet into the camera's segment (:mod:`ingest.recording.recorder`, no re-encode).

States: ``connecting`` (first open) -> ``live`` (frames flow) -> ``reconnecting``
(transient error or a live stream that ended; retried after a capped, jittered
backoff) or ``failed`` (any error of a file; for RTSP a permanent one: wrong
path, bad credentials, which is still retried, at the backoff cap).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from courtside_contracts.status import CameraState

from courtside.config import CameraConfig
from courtside.logs import scrub
from ingest.av_source import AvSource, OpenOptions
from ingest.backoff import Backoff
from ingest.camera_status import CameraStatus
from ingest.errors import SourceEnded, SourceError, SourceUnsupported
from ingest.handoff import Handoff
from ingest.jpeg_encoder import EncodedFrame, JpegEncoder
from ingest.pacing import FpsLimiter, RealtimePacer, cap_time
from ingest.recording.recorder import CameraRecorder

log = logging.getLogger(__name__)

#: A file frame due sooner than this (seconds) is released at once: a timed wait costs
#: a context switch, and 2 ms early is invisible next to network jitter.
PACING_SLACK_S = 0.002

#: Longest single pacing sleep (seconds): how soon a sleeping worker notices :meth:`CameraWorker.stop`.
MAX_PAUSE_S = 0.1

#: Resolves a ``demo://`` URL to a local file (it may generate it: slow, blocking).
DemoResolver = Callable[[str], str]


def file_path(url: str) -> str:
    """The local path of a ``file://`` URL (``file:///abs`` or ``file://rel/path``)."""
    parts = urlsplit(url)
    return unquote(parts.netloc + parts.path)


class CameraWorker:
    """Runs one camera in its own thread until :meth:`stop`."""

    def __init__(self, config: CameraConfig, status: CameraStatus, handoff: Handoff[EncodedFrame],
                 demo_resolver: DemoResolver | None = None, recorder: CameraRecorder | None = None) -> None:
        self.config = config
        self.recorder = recorder
        self.status = status
        self._handoff = handoff
        self._demo_resolver = demo_resolver
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"ingest-{config.id}", daemon=True)
        self._encoder = JpegEncoder(config.max_side, config.jpeg_quality)
        self._limiter = FpsLimiter(config.fps)
        self._pacer = RealtimePacer()
        self._live = config.scheme in ("rtsp", "rtsps")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to finish; it exits after the current blocking read."""
        self._stop.set()

    def join(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s``; True when the thread has ended."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    # -- the thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._reconnect_loop()
        except Exception as exc:  # the thread must never die silently
            # Formatted and scrubbed here: the log filter cleans messages, not tracebacks.
            trace = scrub("".join(traceback.format_exception(exc)))
            log.error("%s: worker crashed:\n%s", self.config.id, trace)
            self.status.set_state(CameraState.FAILED, "internal error (see the ingest log)")
        else:
            if self.status.state not in (CameraState.FAILED, CameraState.STOPPED):
                self.status.set_state(CameraState.STOPPED, "ingest stopping")

    def _resolve_url(self) -> str:
        url = self.config.url.get_secret_value()
        if self.config.scheme == "demo":
            if self._demo_resolver is None:
                raise SourceUnsupported("demo sources are not available")
            self.status.set_state(CameraState.CONNECTING, "preparing the demo clip")
            return self._demo_resolver(url)
        if self.config.scheme == "file":
            return file_path(url)
        return url

    def _reconnect_loop(self) -> None:
        cfg = self.config
        backoff = Backoff(base_s=0.25, cap_s=cfg.backoff_cap_s)
        options = OpenOptions(live=self._live, rtsp_transport=cfg.rtsp_transport,
                              open_timeout_s=cfg.open_timeout_s, read_timeout_s=cfg.read_timeout_s)
        url = ""
        while not self._stop.is_set():
            try:
                url = url or self._resolve_url()
                frames = self._play(url, options, backoff)
                if not self._live:
                    if frames == 0:
                        raise SourceUnsupported("the file has no decodable video frames")
                    if cfg.loop:
                        continue
                    self.status.set_state(CameraState.STOPPED, "end of file")
                    return
                raise SourceEnded("the server closed the stream")
            except SourceError as exc:
                if self._stop.is_set():
                    return
                if not self._live:  # a file does not heal: every error is final
                    self.status.set_state(CameraState.FAILED, str(exc))
                    return
                delay = backoff.next_delay() if not exc.permanent else cfg.backoff_cap_s
                state = CameraState.FAILED if exc.permanent else CameraState.RECONNECTING
                self.status.set_state(state, f"{exc}; retrying in {delay:.1f} s")
                self._stop.wait(delay)

    def _play(self, url: str, options: OpenOptions, backoff: Backoff) -> int:
        """Open ``url`` and publish its frames until it ends or stop; returns the frames
        decoded in the last pass. A looping file is rewound rather than reopened."""
        with AvSource(url, options, self.status.count_decode_error, self.recorder) as source:
            while True:
                count = self._publish(source, backoff)
                if (self._live or not self.config.loop or count == 0 or self._stop.is_set()
                        or not source.rewind()):
                    return count

    def _publish(self, source: AvSource, backoff: Backoff) -> int:
        """One pass over ``source``: cap, pace, encode, hand off. Returns frames decoded."""
        count = 0
        for frame, pts in source.frames():
            if self._stop.is_set():
                break
            count += 1
            now = time.monotonic()
            # The cap comes first and judges source time: a capped frame costs no pacing
            # wait, and a late or bursty delivery never throws away a decoded frame.
            if not self._limiter.keep(cap_time(pts, now)):
                self.status.count_skipped()
                continue
            if not self._live and pts is not None:
                delay = self._pacer.delay(pts, now)
                if delay > PACING_SLACK_S:
                    if not self._pause(delay):
                        break
                    now = time.monotonic()
            encoded = self._encoder.encode(frame, time.time_ns(), pts)
            if count == 1 or self.status.state != CameraState.LIVE:
                backoff.reset()
            self.status.frame_encoded(now)
            if self._handoff.put(encoded):
                self.status.count_dropped()
        return count

    def _pause(self, delay_s: float) -> bool:
        """Sleep ``delay_s`` seconds to pace a file; False when stop was asked meanwhile.

        ``time.sleep`` rather than ``Event.wait``: it runs once per frame, and a timed
        ``Event.wait`` (a condition, a fresh lock, a timed semaphore wait) costs about
        60 us more CPU per call on a loaded 2-core machine. Stop is noticed within
        :data:`MAX_PAUSE_S`.
        """
        end = time.monotonic() + delay_s
        while delay_s > 0:
            time.sleep(min(delay_s, MAX_PAUSE_S))
            if self._stop.is_set():
                return False
            delay_s = end - time.monotonic()
        return True
