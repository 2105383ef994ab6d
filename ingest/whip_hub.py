"""WHIP sessions of the whole service: who may publish where, and how many at once.

A camera accepts pushes only when configured with ``url: whip://`` (an explicit
opt-in: a typo in a camera id cannot open an ingest point). One publisher per
camera (a second POST gets 409 until the first ends, as a pushed stream has a
single owner), and at most :data:`MAX_NEGOTIATING` offers in negotiation at
once, so the number of peer connections is bounded by the WHIP cameras plus
that small margin.

Who may publish is decided by the shared auth (:mod:`courtside.auth`): a token with the
``publish`` scope granted for the camera (static or signed, from the ``auth`` section
when ``auth.enabled``), or ``ingest.whip_token``, which may publish to every WHIP camera.
With neither configured WHIP is open (the embedded loopback default).
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from courtside_contracts.names import is_valid_name
from courtside_contracts.status import CameraState

from courtside.auth import (
    Authenticator,
    Forbidden,
    Principal,
    Scope,
    StaticGrant,
    Unauthorized,
    bearer_from_header,
)
from courtside.auth.cors import CorsPolicy
from courtside.config import CameraConfig, CourtsideConfig
from ingest.camera_status import CameraStatus
from ingest.errors import WhipBusy, WhipForbidden, WhipNotAccepted, WhipSessionNotFound, WhipUnauthorized
from ingest.handoff import Handoff
from ingest.jpeg_encoder import EncodedFrame
from ingest.recording.recorder import CameraRecorder
from ingest.sdp_guard import check_offer
from ingest.whip_session import WhipSession

MAX_NEGOTIATING = 4
WAITING = "waiting for a WHIP publisher"
#: Methods of the WHIP resources (trickle ICE, PATCH, is not supported) and what a page may read.
WHIP_METHODS = ("POST", "DELETE")
WHIP_EXPOSED = ("Location",)


@dataclass(slots=True)
class WhipCamera:
    config: CameraConfig
    status: CameraStatus
    handoff: Handoff[EncodedFrame]
    session: WhipSession | None = None
    recorder: CameraRecorder | None = None


class WhipHub:
    """Creates, finds and ends WHIP sessions; the routes in :mod:`ingest.whip_api` stay thin."""

    def __init__(self, auth: Authenticator, cors_origins: Sequence[str] = ()) -> None:
        self._auth = auth
        self.cors = CorsPolicy.of(cors_origins, WHIP_METHODS, expose=WHIP_EXPOSED)
        self._cameras: dict[str, WhipCamera] = {}
        self._negotiating = 0
        #: Refusals by reason since start (for metrics): unauthorized (401), forbidden (403).
        self.refused: dict[str, int] = {"unauthorized": 0, "forbidden": 0}

    @classmethod
    def from_config(cls, config: CourtsideConfig) -> WhipHub:
        """The hub of ``config``: its ``auth`` section plus ``ingest.whip_token``, its WHIP CORS origins."""
        extra = [] if config.ingest.whip_token is None else [
            StaticGrant(config.ingest.whip_token, "ingest.whip_token", frozenset({Scope.PUBLISH}))]
        return cls(Authenticator(config.auth, extra), config.ingest.cors_origins)

    def add_camera(self, config: CameraConfig, status: CameraStatus, handoff: Handoff[EncodedFrame],
                   recorder: CameraRecorder | None = None) -> None:
        """Accept pushes for ``config``; ``recorder``: where its sessions are recorded (None: not)."""
        self._cameras[config.id] = WhipCamera(config, status, handoff, recorder=recorder)
        status.set_state(CameraState.CONNECTING, WAITING)

    def sessions(self) -> int:
        return sum(1 for c in self._cameras.values() if c.session is not None)

    def authorize(self, header: str | None, camera: str) -> Principal:
        """The publisher of ``Authorization: Bearer <token>``, holding ``publish`` for ``camera``."""
        try:
            principal = self._auth.authenticate(bearer_from_header(header))
            principal.require(Scope.PUBLISH, camera)
        except Unauthorized as exc:
            self.refused["unauthorized"] += 1
            raise WhipUnauthorized(str(exc)) from None
        except Forbidden as exc:
            self.refused["forbidden"] += 1
            raise WhipForbidden(str(exc)) from None
        return principal

    def _camera(self, camera: str) -> WhipCamera:
        cam = self._cameras.get(camera) if is_valid_name(camera) else None
        if cam is None:
            raise WhipNotAccepted(f"camera {camera[:64]!r} does not accept WHIP (configure it with url: whip://)")
        return cam

    async def publish(self, camera: str, body: bytes) -> tuple[str, str]:
        """Start a session from an SDP offer; returns (session id, SDP answer)."""
        cam = self._camera(camera)
        offer, summary = check_offer(body)
        if cam.session is not None:
            raise WhipBusy(f"camera {camera} already has a publisher (DELETE its session first)")
        if self._negotiating >= MAX_NEGOTIATING:
            raise WhipBusy("too many WHIP negotiations in progress; retry shortly")
        session = WhipSession(secrets.token_urlsafe(16), cam.config, cam.status, cam.handoff, self._ended,
                              recorder=cam.recorder)
        cam.session = session  # reserved before the first await: a concurrent POST gets 409
        self._negotiating += 1
        cam.status.set_state(CameraState.CONNECTING, "WHIP publisher connecting")
        try:
            answer = await session.negotiate(offer, summary)
        except BaseException:
            await session.close("negotiation failed", clean=True)
            raise
        finally:
            self._negotiating -= 1
        return session.id, answer

    async def delete(self, camera: str, session_id: str) -> None:
        cam = self._camera(camera)
        if cam.session is None or not hmac.compare_digest(cam.session.id.encode(), session_id.encode()):
            raise WhipSessionNotFound(f"no WHIP session {session_id[:32]!r} on camera {camera}")
        await cam.session.close("DELETE by the publisher", clean=True)

    def _ended(self, session: WhipSession, reason: str, clean: bool) -> None:
        cam = self._cameras.get(session.camera)
        if cam is None or cam.session is not session:
            return
        cam.session = None
        if clean:
            cam.status.set_state(CameraState.CONNECTING, WAITING)
        else:
            cam.status.set_state(CameraState.STALLED, f"WHIP publisher lost ({reason}); {WAITING}")

    async def close_all(self) -> None:
        sessions = [c.session for c in self._cameras.values() if c.session is not None]
        await asyncio.gather(*(s.close("ingest stopping") for s in sessions), return_exceptions=True)
