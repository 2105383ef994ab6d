"""WHIP (RFC 9725) ingest against a real aiortc publisher over loopback and a real nats-server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import simplejpeg
from courtside_contracts.headers import FrameMeta
from ingest_testkit import collect, free_port, make_config, running_ingest, wait_heartbeat
from nats.aio.client import Client as NATS
from whip_publisher import WhipPublisher

from courtside.nats_server import EmbeddedNats

TOKEN = "whip-test-token"  # noqa: S105 - a test credential


async def wait_http(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        deadline = time.monotonic() + 5
        while True:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.ConnectError:
                pass
            assert time.monotonic() < deadline, "ingest HTTP never came up"
            await asyncio.sleep(0.05)


@pytest.fixture
async def ingest_whip(nats_server: EmbeddedNats, clip_path: Path) -> AsyncIterator[str]:
    """A running ingest with WHIP camera ``phone`` (token required) and a file camera; yields its base URL."""
    port = free_port()
    config = make_config([
        {"id": "phone", "url": "whip://", "fps": 10, "max_side": 320, "open_timeout_s": 2.0, "read_timeout_s": 1.0},
        {"id": "filecam", "url": f"file://{clip_path}", "fps": 5, "max_side": 320},
    ], port=port, whip_token=TOKEN)
    async with running_ingest(config, nats_server.url):
        base = f"http://127.0.0.1:{port}"
        await wait_http(base)
        yield base


@pytest.mark.parametrize(("codec", "audio"), [("VP8", True), ("H264", False)])
async def test_whip_publisher_frames_reach_nats(ingest_whip: str, nc: NATS, codec: str, audio: bool) -> None:
    publisher = WhipPublisher(ingest_whip, "phone", codec=codec, token=TOKEN, audio=audio)
    resp = await publisher.start()
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith("application/sdp")
    assert resp.headers["location"].startswith("/whip/phone/")
    assert f"{codec}/90000" in resp.text
    if audio:
        audio_section = resp.text.split("m=audio", 1)[1]
        assert "a=inactive" in audio_section
    await wait_heartbeat(nc, lambda h: h.cameras["phone"]["state"] == "live", timeout_s=10)
    msgs = await collect(nc, "frames.phone", 1.5)
    assert len(msgs) >= 8, len(msgs)
    metas = [FrameMeta.from_headers(m.headers) for m in msgs]
    assert (metas[-1].width, metas[-1].height) == (320, 240)
    assert simplejpeg.decode_jpeg(msgs[-1].data).shape == (240, 320, 3)
    seqs = [m.seq for m in metas]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    async with httpx.AsyncClient(base_url=ingest_whip) as http:
        assert "courtside_ingest_whip_sessions 1.0" in (await http.get("/metrics")).text
    assert (await publisher.delete()).status_code == 200
    beat = await wait_heartbeat(nc, lambda h: h.cameras["phone"]["state"] == "connecting")
    assert "waiting for a WHIP publisher" in beat.cameras["phone"]["reason"]


@pytest.mark.parametrize("how", ["close", "freeze"])
async def test_vanished_publisher_is_detected_and_cleaned_up(ingest_whip: str, nc: NATS, how: str) -> None:
    first = WhipPublisher(ingest_whip, "phone", token=TOKEN)
    assert (await first.start()).status_code == 201
    await wait_heartbeat(nc, lambda h: h.cameras["phone"]["state"] == "live", timeout_s=10)
    if how == "close":
        await first.vanish()
    else:
        first.track.freeze()
    beat = await wait_heartbeat(nc, lambda h: "WHIP publisher lost" in h.cameras["phone"]["reason"], timeout_s=6)
    assert beat.cameras["phone"]["state"] == "stalled"
    # The slot is free again: a new publisher is accepted and live.
    second = WhipPublisher(ingest_whip, "phone", token=TOKEN)
    assert (await second.start()).status_code == 201
    await wait_heartbeat(nc, lambda h: h.cameras["phone"]["state"] == "live", timeout_s=10)
    await second.delete()
    await first.pc.close()


async def test_an_offer_that_never_connects_is_cleaned_up(ingest_whip: str, nc: NATS) -> None:
    # Well-formed, so it is answered, but nobody is behind it: no media within open_timeout_s.
    offer = VALID_SHAPE.format(fp=FP, codec="VP8").encode()
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=ingest_whip, timeout=10) as http:
        assert (await http.post("/whip/phone", content=offer, headers=headers)).status_code == 201
        assert (await http.post("/whip/phone", content=offer, headers=headers)).status_code == 409
        beat = await wait_heartbeat(nc, lambda h: "no media within 2.0 s" in h.cameras["phone"]["reason"])
        assert beat.cameras["phone"]["state"] == "stalled"
        metrics = (await http.get("/metrics")).text
        assert "courtside_ingest_whip_sessions 0.0" in metrics


VALID_SHAPE = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 {fp}\r\na=setup:actpass\r\na=rtcp-mux\r\na=rtpmap:96 {codec}/90000\r\n"
)
FP = ":".join(["AB"] * 32)


@pytest.mark.parametrize(("body", "why"), [
    (b"hello", "v=0"),
    (b"\xff\xfe\x00garbage", "ASCII"),
    (b"v=0\r\n", "no media"),
    (b"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", "exactly one video"),
    (VALID_SHAPE.format(fp=FP, codec="AV1").encode(), "no supported video codec"),
    (VALID_SHAPE.format(fp=FP, codec="VP8").replace("a=fingerprint", "a=x-fp").encode(), "fingerprint"),
    (VALID_SHAPE.format(fp="zz", codec="VP8").replace("m=video 9", "m=video nine").encode(), "offer rejected"),
    (("v=0\r\n" + "a=x\r\n" * 500 + "m=video 9 RTP 96\r\n").encode(), "lines"),
    (VALID_SHAPE.format(fp=FP, codec="VP8").replace("\r\nc=", "\r\n\x01c=").encode(), "malformed"),
])
async def test_malformed_offers_get_a_4xx_with_a_reason(ingest_whip: str, body: bytes, why: str) -> None:
    async with httpx.AsyncClient(base_url=ingest_whip, timeout=10) as http:
        resp = await http.post("/whip/phone", content=body, headers={
            "Content-Type": "application/sdp", "Authorization": f"Bearer {TOKEN}"})
        assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
        assert why in resp.text
        assert (await http.get("/healthz")).status_code == 200


async def test_whip_refusals(ingest_whip: str) -> None:
    ok = {"Content-Type": "application/sdp", "Authorization": f"Bearer {TOKEN}"}
    offer = VALID_SHAPE.format(fp=FP, codec="VP8").encode()
    async with httpx.AsyncClient(base_url=ingest_whip, timeout=10) as http:
        assert (await http.post("/whip/phone", content=offer,
                                headers={"Content-Type": "application/sdp"})).status_code == 401
        assert (await http.post("/whip/phone", content=offer,
                                headers={**ok, "Authorization": "Bearer nope"})).status_code == 401
        for camera in ("nosuchcam", "filecam", "bad.name"):
            resp = await http.post(f"/whip/{camera}", content=offer, headers=ok)
            assert resp.status_code == 404 and "whip://" in resp.text
        assert (await http.post("/whip/phone", content=offer,
                                headers={**ok, "Content-Type": "text/plain"})).status_code == 415
        assert (await http.post("/whip/phone", content=b"v=0\r\n" + b"a=x\r\n" * 20_000,
                                headers=ok)).status_code == 413
        assert (await http.delete("/whip/phone/unknown", headers=ok)).status_code == 404
        assert (await http.patch("/whip/phone/unknown", headers=ok)).status_code == 405

    publisher = WhipPublisher(ingest_whip, "phone", token=TOKEN)
    assert (await publisher.start()).status_code == 201
    second = WhipPublisher(ingest_whip, "phone", token=TOKEN)
    resp = await second.start()
    assert resp.status_code == 409 and "already has a publisher" in resp.text
    await second.pc.close()
    await publisher.delete()
