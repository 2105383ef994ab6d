"""WHIP sessions of the whole service: who may publish where, and how many at once.

A camera accepts pushes only when configured with ``url: whip://`` (an explicit
opt-in: a typo in a camera id cannot open an ingest point). One publisher per
camera (a second POST gets 409 until the first ends, as a pushed stream has a
single owner), and at most :data:`MAX_NEGOTIATING` offers in negotiation at
once, so the number of peer connections is bounded by the WHIP cameras plus
that small margin.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from dataclasses import dataclass

from pydantic import SecretStr

from contracts.names import is_valid_name
from contracts.status import CameraState
from courtside.config import CameraConfig
from ingest.camera_status import CameraStatus
from ingest.errors import WhipBusy, WhipNotAccepted, WhipSessionNotFound, WhipUnauthorized
from ingest.handoff import Handoff
from ingest.jpeg_encoder import EncodedFrame
from ingest.sdp_guard import check_offer
from ingest.whip_session import WhipSession

MAX_NEGOTIATING = 4
WAITING = "waiting for a WHIP publisher"


@dataclass(slots=True)
class WhipCamera:
    config: CameraConfig
    status: CameraStatus
    handoff: Handoff[EncodedFrame]
    session: WhipSession | None = None


class WhipHub:
    """Creates, finds and ends WHIP sessions; the routes in :mod:`ingest.whip_api` stay thin."""

    def __init__(self, token: SecretStr | None) -> None:
        self._token = token.get_secret_value().encode() if token is not None else None
        self._cameras: dict[str, WhipCamera] = {}
        self._negotiating = 0

    def add_camera(self, config: CameraConfig, status: CameraStatus, handoff: Handoff[EncodedFrame]) -> None:
        self._cameras[config.id] = WhipCamera(config, status, handoff)
        status.set_state(CameraState.CONNECTING, WAITING)

    def sessions(self) -> int:
        return sum(1 for c in self._cameras.values() if c.session is not None)

    def authorize(self, header: str | None) -> None:
        """Check ``Authorization: Bearer <token>`` when a token is configured."""
        if self._token is None:
            return
        scheme, _, value = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), self._token):
            raise WhipUnauthorized("missing or wrong bearer token")

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
        session = WhipSession(secrets.token_urlsafe(16), cam.config, cam.status, cam.handoff, self._ended)
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
