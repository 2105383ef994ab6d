"""Who may publish over WHIP: per-camera publish tokens (static and signed) from the shared auth,
a court-1 publisher refused on court-2, reasons without the token; CORS preflight so a browser page
on another origin can publish, and pages from other origins refused (a real Chromium)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from ingest_testkit import collect, free_port, make_config, running_ingest, wait_heartbeat
from nats.aio.client import Client as NATS
from playwright.async_api import Browser
from test_whip import FP, VALID_SHAPE, wait_http
from whip_publisher import WhipPublisher

from courtside.auth.jwt_tokens import hs256_key, issue
from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats

SECRET = "a-whip-hs256-secret-of-32-bytes-or-more"  # noqa: S105 - test credentials
COURT1_PUBLISHER = "court1-publisher-token-0123456789"
VIEWER = "viewer-token-0123456789abcdef"
WHIP_TOKEN = "the-ingest-whip-token-everywhere"  # noqa: S105


@dataclass(frozen=True)
class Ingest:
    base: str
    page_origin: str  # the origin allowed to publish from a browser


def cameras() -> list[dict[str, object]]:
    return [{"id": cam, "url": "whip://", "fps": 10, "max_side": 320, "open_timeout_s": 2.0,
             "read_timeout_s": 1.0} for cam in ("court-1", "court-2")]


@pytest.fixture
async def secured(nats_server: EmbeddedNats, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Ingest]:
    caplog.set_level(logging.DEBUG)
    port, page_origin = free_port(), f"http://127.0.0.1:{free_port()}"
    config = parse_config({
        "cameras": cameras(),
        "ingest": {"host": "127.0.0.1", "port": port, "instance": "ingest-test", "cors_origins": [page_origin]},
        "auth": {"enabled": True, "jwt": {"hs256_secret": SECRET},
                 "tokens": [{"token": COURT1_PUBLISHER, "scopes": ["publish"], "cameras": ["court-1"]},
                            {"token": VIEWER, "scopes": ["read"]}]},
    }, "<test>", environ={})
    async with running_ingest(config, nats_server.url):
        base = f"http://127.0.0.1:{port}"
        await wait_http(base)
        yield Ingest(base, page_origin)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    for secret in (SECRET, COURT1_PUBLISHER, VIEWER):
        assert secret not in logged


def jwt_publisher(*cameras: str, lifetime_s: float = 600, now: float | None = None) -> str:
    return issue(hs256_key(SECRET), audience="courtside", scopes=["publish"], cameras=list(cameras),
                 lifetime_s=lifetime_s, subject="phone", now=now)


def offer() -> bytes:
    return VALID_SHAPE.format(fp=FP, codec="VP8").encode()


async def post(http: httpx.AsyncClient, camera: str, token: str | None, **headers: str) -> httpx.Response:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post(f"/whip/{camera}", content=offer(),
                           headers={"Content-Type": "application/sdp", **auth, **headers})


async def test_a_court1_publisher_publishes_court1_and_only_court1(secured: Ingest, nc: NATS) -> None:
    publisher = WhipPublisher(secured.base, "court-1", token=COURT1_PUBLISHER)
    assert (await publisher.start()).status_code == 201
    await wait_heartbeat(nc, lambda h: h.cameras["court-1"]["state"] == "live", timeout_s=10,
                         instance="ingest-test")
    assert len(await collect(nc, "frames.court-1", 1.0)) >= 4
    async with httpx.AsyncClient(base_url=secured.base, timeout=10) as http:
        refused = await post(http, "court-2", COURT1_PUBLISHER)
        assert refused.status_code == 403 and "camera court-2" in refused.text
        # Nor can it end another camera's session, nor may a viewer publish.
        signed = jwt_publisher("court-2")
        created = await post(http, "court-2", signed)
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        assert (await http.delete(location, headers={"Authorization": f"Bearer {COURT1_PUBLISHER}"})).status_code == 403
        assert (await http.delete(location, headers={"Authorization": f"Bearer {signed}"})).status_code == 200
        viewer = await post(http, "court-1", VIEWER)
        assert viewer.status_code == 403 and "publish scope" in viewer.text
        missing = await post(http, "court-1", None)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        expired = jwt_publisher("court-1", lifetime_s=60, now=time.time() - 3600)
        late = await post(http, "court-1", expired)
        assert late.status_code == 401 and "expired" in late.text and expired not in late.text
        for bad in (COURT1_PUBLISHER + "x", "garbage"):
            assert (await post(http, "court-1", bad)).status_code == 401
    assert (await publisher.delete()).status_code == 200


async def test_whip_token_publishes_every_whip_camera(nats_server: EmbeddedNats) -> None:
    port = free_port()
    config = make_config(cameras(), port=port, whip_token=WHIP_TOKEN)  # auth section off
    async with running_ingest(config, nats_server.url):
        base = f"http://127.0.0.1:{port}"
        await wait_http(base)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for cam in ("court-1", "court-2"):
                assert (await post(http, cam, WHIP_TOKEN)).status_code == 201
            assert (await post(http, "court-1", "other")).status_code == 401


async def test_cors_preflight_and_origin_checks(secured: Ingest) -> None:
    ask = {"Origin": secured.page_origin, "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization, content-type"}
    async with httpx.AsyncClient(base_url=secured.base, timeout=10) as http:
        ok = await http.options("/whip/court-1", headers=ask)
        assert ok.status_code == 204
        assert ok.headers["access-control-allow-origin"] == secured.page_origin
        assert "POST" in ok.headers["access-control-allow-methods"]
        assert "Authorization" in ok.headers["access-control-allow-headers"]
        assert "access-control-allow-credentials" not in ok.headers
        delete_ask = {**ask, "Access-Control-Request-Method": "DELETE"}
        assert (await http.options("/whip/court-1/some-session", headers=delete_ask)).status_code == 204
        for bad in ({**ask, "Origin": "http://evil.example"}, {**ask, "Access-Control-Request-Method": "PATCH"},
                    {**ask, "Access-Control-Request-Headers": "x-secret"}):
            refused = await http.options("/whip/court-1", headers=bad)
            assert refused.status_code == 403 and "not allowed" in refused.text
            assert "access-control-allow-origin" not in refused.headers
        created = await post(http, "court-1", COURT1_PUBLISHER, Origin=secured.page_origin)
        assert created.status_code == 201
        assert created.headers["access-control-allow-origin"] == secured.page_origin
        assert created.headers["access-control-expose-headers"] == "Location"
        foreign = await post(http, "court-2", jwt_publisher("court-2"), Origin="http://evil.example")
        assert foreign.status_code == 403 and "origin" in foreign.text
        refused = await post(http, "court-2", VIEWER, Origin=secured.page_origin)  # refusals readable too
        assert refused.status_code == 403 and refused.headers["access-control-allow-origin"] == secured.page_origin


PAGE = """<!doctype html><title>publisher</title><script>
async function publish(url, token) {
  const pc = new RTCPeerConnection({iceServers: []});
  const canvas = document.createElement('canvas'); canvas.width = 320; canvas.height = 240;
  const ctx = canvas.getContext('2d'); ctx.fillStyle = '#3a3'; ctx.fillRect(0, 0, 320, 240);
  const stream = canvas.captureStream(10);
  pc.addTransceiver(stream.getVideoTracks()[0], {direction: 'sendonly', streams: [stream]});
  await pc.setLocalDescription(await pc.createOffer());
  // No candidates are sent (no ICE traffic leaves the page): this checks the HTTP exchange.
  const sdp = pc.localDescription.sdp.split('\\r\\n').filter(l => !l.startsWith('a=candidate')).join('\\r\\n');
  try {
    const resp = await fetch(url, {method: 'POST', body: sdp,
      headers: {'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token}});
    const answer = await resp.text();
    let del = null;
    if (resp.status === 201) {
      await pc.setRemoteDescription({type: 'answer', sdp: answer});
      const location = resp.headers.get('Location');
      del = (await fetch(new URL(location, url), {method: 'DELETE',
        headers: {'Authorization': 'Bearer ' + token}})).status;
    }
    return {status: resp.status, location: resp.headers.get('Location'), answer: answer.slice(0, 3), del};
  } catch (err) { return {error: String(err)}; } finally { pc.close(); }
}
</script>"""


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving_page(port: int) -> Iterator[str]:
    """The publisher page from a real server on 127.0.0.1:``port`` (Chromium's local network
    access rules treat an intercepted page as public, a loopback one as loopback)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, name="page-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.browser
async def test_a_browser_page_on_another_origin_publishes(secured: Ingest, browser: Browser) -> None:
    results = {}
    allowed_port = int(secured.page_origin.rsplit(":", 1)[1])
    for port in (allowed_port, free_port()):
        with serving_page(port) as origin:
            page = await browser.new_page()
            await page.goto(f"{origin}/publisher.html")
            results[origin] = await page.evaluate("([u, t]) => publish(u, t)",
                                                  [f"{secured.base}/whip/court-1", COURT1_PUBLISHER])
            await page.close()
    allowed, foreign = (results.pop(secured.page_origin), *results.values())
    assert allowed.get("status") == 201 and allowed["location"].startswith("/whip/court-1/"), allowed
    assert allowed["answer"] == "v=0" and allowed["del"] == 200
    assert "error" in foreign  # the preflight fails: the page learns nothing
