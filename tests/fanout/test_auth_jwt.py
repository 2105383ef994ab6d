"""Signed tokens (JWT): HS256, EdDSA and RS256 accepted with their claims, every bad token refused
with a reason that never quotes it; then a real fanout with static and signed tokens, whose logs,
errors and metrics are searched for the token text."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt as pyjwt
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from courtside.auth import Authenticator, Forbidden, Scope, Unauthorized, parse_scopes
from courtside.auth.errors import AuthSetupError
from courtside.auth.jwt_tokens import generate_key_pair, hs256_key, issue, load_private_key
from courtside.auth.redact import redact
from courtside.config import AuthConfig, ConfigError, parse_config
from courtside.nats_server import EmbeddedNats
from fanout.testing import QUICK_LIMITS, RunningFanout, config_with, running_fanout

SECRET = "an-hs256-secret-of-at-least-32-bytes!"  # noqa: S105 - a test credential
STATIC = "static-viewer-token-0123456789"


def auth_with(**jwt: Any) -> Authenticator:
    return Authenticator(AuthConfig.model_validate({"enabled": True, "jwt": {"hs256_secret": SECRET, **jwt}}))


def keyfiles(tmp_path: Path, algorithm: str) -> tuple[Path, Path]:
    private, public = generate_key_pair(algorithm)  # type: ignore[arg-type]
    (tmp_path / f"{algorithm}.key").write_bytes(private)
    (tmp_path / f"{algorithm}.pub").write_bytes(public)
    return tmp_path / f"{algorithm}.key", tmp_path / f"{algorithm}.pub"


def test_scopes_parse_with_implied_rights() -> None:
    assert parse_scopes(["operator"]) == {Scope.OPERATOR, Scope.READ}
    assert parse_scopes(["write"]) == {Scope.WRITE, Scope.READ}
    assert parse_scopes(["publish"]) == {Scope.PUBLISH}
    assert parse_scopes(["admin"]) == frozenset(Scope)
    with pytest.raises(ValueError, match="unknown scope 'root'"):
        parse_scopes(["read", "root"])


def test_hs256_token_carries_scopes_cameras_and_subject() -> None:
    token = issue(hs256_key(SECRET), audience="courtside", scopes=["read", "publish"],
                  cameras=["court-1"], lifetime_s=600, subject="phone of court 1")
    who = auth_with().authenticate(token)
    assert who.scopes == {Scope.READ, Scope.PUBLISH} and who.cameras == {"court-1"}
    assert who.label == "jwt:phone_of_court_1" and who.key.startswith("jwt:") and token not in who.key
    who.require(Scope.PUBLISH, "court-1")
    with pytest.raises(Forbidden, match="court-2"):
        who.require(Scope.PUBLISH, "court-2")
    with pytest.raises(Forbidden, match="operator"):
        who.require(Scope.OPERATOR)
    everywhere = issue(hs256_key(SECRET), audience="courtside", scopes=["admin"], cameras=None, lifetime_s=60)
    assert auth_with().authenticate(everywhere).cameras is None


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
def test_asymmetric_tokens_verify_with_the_public_key_only(tmp_path: Path, algorithm: str) -> None:
    private, public = keyfiles(tmp_path, algorithm)
    auth = Authenticator(AuthConfig.model_validate({"enabled": True, "jwt": {"public_key_files": [public]}}))
    key = load_private_key(private)
    token = issue(key, audience="courtside", scopes=["read"], cameras=["court-2"], lifetime_s=60)
    assert pyjwt.get_unverified_header(token)["alg"] == algorithm
    assert auth.authenticate(token).cameras == {"court-2"}
    # The same claims signed by another key of the same kind (and kid) are refused.
    (tmp_path / "other").mkdir()
    other, _ = keyfiles(tmp_path / "other", algorithm)
    forged = pyjwt.encode(pyjwt.decode(token, options={"verify_signature": False}),
                          load_private_key(other).key, algorithm=algorithm, headers={"kid": key.kid})
    with pytest.raises(Unauthorized, match="signature does not verify"):
        auth.authenticate(forged)
    assert repr(key).startswith("SigningKey(") and "PRIVATE" not in repr(key)


def tamper(token: str) -> str:
    """The same token with one character inside its signature changed (still valid base64url)."""
    return token[:-10] + ("B" if token[-10] == "A" else "A") + token[-9:]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_bad_tokens_are_refused_with_a_reason_that_never_quotes_them(tmp_path: Path) -> None:
    key = hs256_key(SECRET)
    now = time.time()
    good: dict[str, Any] = {"aud": "courtside", "exp": int(now) + 60, "scope": "read", "cameras": ["*"]}
    _, public = keyfiles(tmp_path, "RS256")
    cases = {
        "expired": (issue(key, audience="courtside", scopes=["read"], cameras=None, lifetime_s=60,
                          now=now - 3600), "expired"),
        "audience": (issue(key, audience="elsewhere", scopes=["read"], cameras=None, lifetime_s=60),
                     "another audience"),
        "no exp": (pyjwt.encode({k: v for k, v in good.items() if k != "exp"}, SECRET, "HS256"),
                   "required claim"),
        "not yet": (pyjwt.encode({**good, "nbf": int(now) + 3600}, SECRET, "HS256"), "not valid yet"),
        "no scope": (pyjwt.encode({k: v for k, v in good.items() if k != "scope"}, SECRET, "HS256"),
                     "no scope claim"),
        "bad scope": (pyjwt.encode({**good, "scope": "read sudo"}, SECRET, "HS256"), "unknown scope"),
        "no cameras": (pyjwt.encode({k: v for k, v in good.items() if k != "cameras"}, SECRET, "HS256"),
                       "no cameras claim"),
        "bad camera": (pyjwt.encode({**good, "cameras": ["a.b"]}, SECRET, "HS256"), "invalid camera id"),
        "too long": (pyjwt.encode({**good, "iat": int(now), "exp": int(now) + 10**8}, SECRET, "HS256"),
                     "lifetime exceeds"),
        "tampered": (tamper(pyjwt.encode(good, SECRET, "HS256")), "signature does not verify"),
        "alg none": (f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(good)}.c2ln", "not accepted"),
        "other secret": (pyjwt.encode(good, SECRET[::-1], "HS256"), "signature does not verify"),
        # HS256 keyed with the RSA public key's PEM (the classic algorithm confusion) and an
        # RS256 header naming the HS256 kid: the key decides the algorithm, so both fail.
        "confusion": (pyjwt.encode(good, public.read_bytes().decode()[:40] * 2, "HS256"),
                      "signature does not verify"),
        "kid confusion": (f"{_b64({'alg': 'RS256', 'kid': 'hs256'})}.{_b64(good)}.c2ln", "not accepted"),
        "garbage": ("eyJhbGciOi.eyJzdWIi.c2ln", "not a well-formed JWT"),
    }
    auth = auth_with(public_key_files=[public])
    for name, (token, reason) in cases.items():
        with pytest.raises(Unauthorized, match=reason) as info:
            auth.authenticate(token)
        assert token not in str(info.value), name
    # Issuer checked when configured.
    signed = issue(key, audience="courtside", scopes=["read"], cameras=None, lifetime_s=60, issuer="venue-a")
    assert auth_with(issuer="venue-a").authenticate(signed).has(Scope.READ)
    with pytest.raises(Unauthorized, match="another issuer"):
        auth_with(issuer="venue-b").authenticate(signed)


def test_jwt_configuration_is_checked(tmp_path: Path) -> None:
    for auth, why in (({"enabled": True, "jwt": {"hs256_secret": "short"}}, "at least 32 bytes"),
                      ({"enabled": True, "jwt": {}}, "needs hs256_secret or public_key_files"),
                      ({"enabled": True, "tokens": [{"token": "t", "scope": "viewer", "scopes": ["read"]}]},
                       "not both"),
                      ({"enabled": True, "tokens": [{"token": "t", "cameras": ["bad name"]}]}, "camera")):
        with pytest.raises(ConfigError, match=why):
            parse_config({"auth": auth}, environ={})
    config = parse_config({"auth": {"enabled": True, "jwt": {"hs256_secret": SECRET},
                                    "tokens": [{"token": STATIC, "scope": "operator"}]}}, environ={})
    assert config.auth.tokens[0].scopes == ["read", "operator"]
    assert SECRET not in repr(config) and STATIC not in repr(config) and SECRET not in str(config)
    (tmp_path / "bad.pub").write_text("not a key")
    with pytest.raises(AuthSetupError, match=r"bad\.pub"):
        Authenticator(AuthConfig.model_validate({"enabled": True, "jwt": {"public_key_files": [tmp_path / "bad.pub"]}}))
    assert SECRET not in repr(auth_with())


def test_redact_masks_tokens_in_library_log_lines() -> None:
    token = issue(hs256_key(SECRET), audience="courtside", scopes=["read"], cameras=None, lifetime_s=60)
    lines = [f"< Sec-WebSocket-Protocol: courtside.v1, bearer.{token}", f"< authorization: Bearer {STATIC}",
             f"headers={{'Authorization': 'Bearer {STATIC}'}}", f"seen {token} here", f"bearer.{STATIC}"]
    for line in lines:
        masked = redact(line)
        assert token not in masked and STATIC not in masked and "***" in masked, masked
    assert redact("< host: 127.0.0.1:8000") == "< host: 127.0.0.1:8000"


# -- a real fanout with static and signed tokens --------------------------------------------------

@pytest.fixture
async def signed(nats_server: EmbeddedNats) -> AsyncIterator[RunningFanout]:
    config = config_with(auth={"enabled": True, "jwt": {"hs256_secret": SECRET},
                               "tokens": [{"token": STATIC, "scopes": ["read"], "cameras": ["court-1"]}]})
    async with running_fanout(config, nats_server.url, limits=QUICK_LIMITS) as running:
        yield running


async def test_tokens_never_reach_logs_errors_or_metrics(signed: RunningFanout, caplog: pytest.LogCaptureFixture,
                                                         capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    # courtside.logs.setup_logging (run by earlier tests in this process) quiets these libraries to
    # WARNING; this test needs their DEBUG handshake lines, so it sets them for its own duration.
    for name in ("websockets", "websockets.server", "uvicorn", "uvicorn.error", "nats"):
        caplog.set_level(logging.DEBUG, logger=name)
    key = hs256_key(SECRET)
    accepted = issue(key, audience="courtside", scopes=["operator"], cameras=["court-1"], lifetime_s=600,
                     subject="ops")
    expired = issue(key, audience="courtside", scopes=["read"], cameras=None, lifetime_s=60, now=time.time() - 7200)
    publisher = issue(key, audience="courtside", scopes=["publish"], cameras=["court-1"], lifetime_s=600)
    forged = tamper(accepted)
    bodies: list[str] = []
    async with httpx.AsyncClient(base_url=signed.http_url) as http:
        for token, status in ((accepted, 200), (STATIC, 200), (expired, 401), (forged, 401), (publisher, 403),
                              ("not-a-token", 401)):
            resp = await http.get("/api/cameras", headers={"Authorization": f"Bearer {token}"})
            assert resp.status_code == status, (status, resp.text)
            bodies.append(resp.text)
        assert "expired" in bodies[2] and "signature" in bodies[3] and "read scope" in bodies[4]
        metrics = await http.get("/metrics", headers={"Authorization": f"Bearer {accepted}"})
        assert metrics.status_code == 200
        bodies.append(metrics.text)
        assert (await http.get("/metrics", headers={"Authorization": f"Bearer {STATIC}"})).status_code == 403
    for token in (expired, forged, publisher):
        with pytest.raises(InvalidStatus) as info:
            async with websockets.connect(signed.ws_url, subprotocols=["courtside.v1", f"bearer.{token}"]):
                pass
        bodies.append(info.value.response.body.decode())
    async with websockets.connect(signed.ws_url, subprotocols=["courtside.v1", f"bearer.{accepted}"]) as ws:
        await ws.send(json.dumps({"op": "subscribe", "cameras": ["court-2"]}))
        reply = json.loads(await ws.recv())
        assert reply["code"] == "forbidden"
        bodies.append(json.dumps(reply))
        await ws.send(json.dumps({"op": "subscribe"}))
        assert json.loads(await ws.recv())["cameras"] == ["court-1"]
    out, err = capfd.readouterr()
    # Everything the server logged, DEBUG included (uvicorn and websockets print every handshake
    # header there); the test's own client libraries are not the server.
    server = [r for r in caplog.records if not r.name.startswith(("websockets.client", "httpx", "httpcore"))]
    assert any("Sec-WebSocket-Protocol" in r.getMessage() for r in server)  # headers were logged, masked
    logged = "\n".join(r.getMessage() for r in server) + out + err
    assert "refused" in logged and "connected as jwt:ops" in logged  # the run really logged
    text = logged + "\n".join(bodies)
    for token in (accepted, expired, publisher, forged, STATIC, SECRET):
        assert token not in text
        assert token.split(".")[-1] not in text  # not even a token's signature part
