"""``/docs`` (Swagger UI) served entirely from fanout, so it works on a court with no internet.

FastAPI's own ``/docs`` page loads Swagger UI's JS and CSS from a CDN and is blank
offline. The same files ship in the ``swagger-ui-bundle-v2`` wheel (Swagger UI 5,
which renders the OpenAPI 3.1 that FastAPI generates); they are served under
:data:`ASSETS_PATH` and the page points at them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

#: Where the Swagger UI distribution files are served.
ASSETS_PATH = "/docs/assets"
DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"


def mount_api_docs(app: FastAPI) -> None:
    """Serve ``/docs`` from local assets. Build the app with ``docs_url=None`` (FastAPI's CDN page)."""
    assets = Path(swagger_ui_path)
    app.mount(ASSETS_PATH, StaticFiles(directory=assets), name="swagger-ui")

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_PATH)

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
