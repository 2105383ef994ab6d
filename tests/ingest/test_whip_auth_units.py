"""Pure parts of WHIP auth: the CORS policy answers and the hub's per-camera publish check, counted."""

from __future__ import annotations

import pytest

from courtside.auth.cors import CorsPolicy
from courtside.config import parse_config
from ingest.errors import WhipForbidden, WhipUnauthorized
from ingest.whip_hub import WHIP_EXPOSED, WHIP_METHODS, WhipHub


def test_cors_policy() -> None:
    policy = CorsPolicy.of(["https://app.example"], WHIP_METHODS, expose=WHIP_EXPOSED)
    ok = policy.preflight("https://app.example", "post", "Authorization, Content-Type")
    assert ok.status == 204 and ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert ok.headers["Vary"] == "Origin" and ok.headers["Access-Control-Max-Age"] == "600"
    assert policy.preflight(None, None, None).headers == {"Allow": "POST, DELETE, OPTIONS"}
    assert "origin" in policy.preflight("https://evil.example", "POST", None).reason
    assert "method" in policy.preflight("https://app.example", "PATCH", None).reason
    assert "x-token" in policy.preflight("https://app.example", "POST", "x-token").reason
    assert policy.response_headers("https://app.example")["Access-Control-Expose-Headers"] == "Location"
    assert policy.response_headers("https://evil.example") == {} and policy.response_headers(None) == {}
    anyone = CorsPolicy.of(["*"], WHIP_METHODS)
    assert anyone.preflight("http://x", "DELETE", "").status == 204


def hub(**sections: object) -> WhipHub:
    return WhipHub.from_config(parse_config(sections, "<test>", environ={}))


def test_publish_needs_the_publish_scope_for_the_camera_and_refusals_are_counted() -> None:
    secured = hub(auth={"enabled": True, "tokens": [
        {"token": "pub-1", "scopes": ["publish"], "cameras": ["court-1"]},
        {"token": "admin", "scopes": ["admin"]}, {"token": "viewer", "scopes": ["read"]}]})
    assert secured.authorize("Bearer pub-1", "court-1").label == "token#1"
    assert secured.authorize("Bearer admin", "court-2").label == "token#2"
    with pytest.raises(WhipForbidden, match="court-2"):
        secured.authorize("Bearer pub-1", "court-2")
    with pytest.raises(WhipForbidden, match="publish scope"):
        secured.authorize("Bearer viewer", "court-1")
    for header in (None, "Bearer nope", "Basic pub-1"):
        with pytest.raises(WhipUnauthorized):
            secured.authorize(header, "court-1")
    assert secured.refused == {"unauthorized": 3, "forbidden": 2}
    # Auth off and no whip_token: open, as on the embedded loopback default.
    assert hub().authorize(None, "court-1").label == "anonymous"
    # whip_token alone: it and only it publishes, to any camera; it grants nothing else.
    only = hub(ingest={"whip_token": "w"})
    assert only.authorize("Bearer w", "anything").scopes == {"publish"}  # type: ignore[comparison-overlap]
    with pytest.raises(WhipUnauthorized):
        only.authorize(None, "court-1")
