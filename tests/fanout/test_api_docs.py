"""``/docs`` uses only assets fanout serves itself, and renders in Chromium with every other host blocked."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
from playwright.async_api import Browser, Route

from fanout.testing import RunningFanout

_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""")


async def test_docs_reference_only_local_assets_that_exist(fanout: RunningFanout) -> None:
    async with httpx.AsyncClient(base_url=fanout.http_url) as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        urls = [a or b for a, b in _ASSET.findall(page.text)]
        assert {u.rsplit("/", 1)[-1] for u in urls} >= {"swagger-ui-bundle.js", "swagger-ui.css", "openapi.json"}
        for url in urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, f"/docs loads {url} from elsewhere"
            response = await http.get(urljoin("/docs", url))
            assert response.status_code == 200, url
            assert response.content, url
        assert "cdn" not in page.text.lower()


async def test_docs_render_offline_in_chromium(fanout: RunningFanout, browser: Browser) -> None:
    page = await browser.new_page()
    elsewhere: list[str] = []

    async def only_fanout(route: Route) -> None:
        if urlsplit(route.request.url).netloc == f"{fanout.host}:{fanout.port}":
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_fanout)
    await page.goto(f"{fanout.http_url}/docs")
    await page.wait_for_selector(".opblock-summary-path", timeout=10_000)  # one per operation
    paths = await page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/cameras" in p for p in paths), paths
    assert not elsewhere, elsewhere
    await page.close()
