"""The web pages (``/`` overlay, ``/grid``, ``/replay``) and their static files under ``/static``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

#: The repository's web/ folder (pages, page scripts, the JS SDK).
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
_NO_CACHE = {"Cache-Control": "no-cache"}


def mount_pages(app: FastAPI, web_dir: Path = WEB_DIR) -> None:
    """Serve ``web_dir``; pages revalidate on every load so a deploy is seen at once."""

    @app.get("/", include_in_schema=False)
    def overlay() -> FileResponse:
        return FileResponse(web_dir / "index.html", headers=_NO_CACHE)

    @app.get("/grid", include_in_schema=False)
    def grid() -> FileResponse:
        return FileResponse(web_dir / "grid.html", headers=_NO_CACHE)

    @app.get("/replay", include_in_schema=False)
    def replay() -> FileResponse:
        return FileResponse(web_dir / "replay.html", headers=_NO_CACHE)

    app.mount("/static", StaticFiles(directory=web_dir), name="static")
