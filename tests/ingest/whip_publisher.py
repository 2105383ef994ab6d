"""A real WHIP publisher for tests: aiortc sending a synthetic video track over loopback."""

from __future__ import annotations

import asyncio
import fractions

import av
import httpx
import numpy as np
from aiortc import (
    AudioStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)


class SyntheticTrack(VideoStreamTrack):
    """A moving square at 30 fps; :meth:`freeze` makes it stop producing (a vanished camera)."""

    def __init__(self, width: int = 320, height: int = 240) -> None:
        super().__init__()
        self._base = np.zeros((height, width, 3), np.uint8)
        self._base[:] = np.linspace(40, 200, width, dtype=np.uint8)[None, :, None]
        self._count = 0
        self._frozen = asyncio.Event()

    def freeze(self) -> None:
        self._frozen.set()

    async def recv(self) -> av.VideoFrame:
        if self._frozen.is_set():
            await asyncio.Event().wait()  # never again
        pts, time_base = await self.next_timestamp()
        img = self._base.copy()
        x = (self._count * 6) % (img.shape[1] - 40)
        img[80:120, x:x + 40] = (30, 220, 230)
        self._count += 1
        frame = av.VideoFrame.from_ndarray(img, format="bgr24")
        frame.pts, frame.time_base = pts, fractions.Fraction(time_base)
        return frame


class WhipPublisher:
    """Publishes ``track`` to ``<base>/whip/<camera>``; :meth:`delete` ends it politely."""

    def __init__(self, base_url: str, camera: str, codec: str = "VP8", token: str | None = None,
                 audio: bool = False) -> None:
        self.audio = audio
        self.base_url = base_url
        self.camera = camera
        self.codec = codec
        self.token = token
        self.track = SyntheticTrack()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.location: str | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def offer(self) -> str:
        transceiver = self.pc.addTransceiver(self.track, direction="sendonly")
        caps = RTCRtpSender.getCapabilities("video")
        assert caps is not None
        transceiver.setCodecPreferences([c for c in caps.codecs if c.mimeType.lower() == f"video/{self.codec.lower()}"])
        if self.audio:  # like OBS or a browser: audio offered too (ingest answers it inactive)
            self.pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def start(self) -> httpx.Response:
        """POST the offer; on 201 apply the answer. Returns the HTTP response."""
        sdp = await self.offer()
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            resp = await http.post(f"/whip/{self.camera}", content=sdp,
                                   headers={"Content-Type": "application/sdp", **self._headers()})
        if resp.status_code == 201:
            self.location = resp.headers["location"]
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=resp.text, type="answer"))
        return resp

    async def delete(self) -> httpx.Response:
        assert self.location is not None
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            resp = await http.delete(self.location, headers=self._headers())
        await self.pc.close()
        return resp

    async def vanish(self) -> None:
        """Close the peer connection without a DELETE."""
        await self.pc.close()
