"""Property-based fuzzing (schemathesis) of fanout's REST API and ingest's WHIP and ops endpoints,
from their OpenAPI schemas, against real running servers, with and without tokens: no 5xx, no crash,
and every response conforms to the schema (status code, content type, headers, body).

Bounded: a fixed number of examples per operation, each test well under 60 s; ``bench/fuzz.py``
runs the same with many more."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from fuzzkit import SCALE, STATIC_ADMIN, config, ingest_schema, secured_auth, serving_in_thread, signed
from hypothesis import HealthCheck, given, settings

from courtside.nats_server import EmbeddedNats
from fanout.app import create_app
from fanout.testing import QUICK_LIMITS, free_port

#: Examples per operation in the test suite (bench/fuzz.py raises it).
EXAMPLES = 40 * SCALE


@schemathesis.serializer("application/sdp")
def _sdp(ctx: Any, value: Any) -> bytes:
    """SDP offers are text: generated strings go on the wire as UTF-8 (with surrogates escaped)."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


#: The operation tags fuzzed. The replay/export routes (tag ``replay``) join once their schema
#: documents every status they answer (today a 404 for "no archive" is undocumented).
TAGS = ("live", "ops", "whip")


def fuzz(raw_schema: dict[str, Any], base_url: str, headers: dict[str, str], examples: int = EXAMPLES,
         tags: tuple[str, ...] = TAGS) -> dict[str, int]:
    """Every operation of the schema with one of ``tags``, ``examples`` generated cases each;
    returns how often each (method, path, status) was seen."""
    schema = schemathesis.openapi.from_dict(raw_schema)
    seen: dict[str, int] = {}
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            if not set(operation.tags or ()) & set(tags):
                continue

            @given(case=operation.as_strategy())
            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            def check(case: Any) -> None:
                response = case.call(base_url=base_url, session=session, headers=headers, timeout=10)
                key = f"{case.method} {case.operation.path} {response.status_code}"
                seen[key] = seen.get(key, 0) + 1
                assert response.status_code < 500, (case.as_curl_command(), response.text[:300])
                case.validate_response(response, headers=headers)

            check()
    return seen


@pytest.fixture(params=["open", "secured"])
def fanout_url(request: pytest.FixtureRequest, nats_server: EmbeddedNats) -> Iterator[tuple[str, dict[str, str]]]:
    from fanout.service import run

    secured = request.param == "secured"
    cfg = config({"fanout": {"port": free_port()}, "cameras": [{"id": "court-1", "url": "demo://padel"}],
                  **({"auth": secured_auth()} if secured else {})})
    base = f"http://127.0.0.1:{cfg.fanout.port}"
    with serving_in_thread(lambda stop: run(cfg, nats_server.url, stop, limits=QUICK_LIMITS), f"{base}/readyz") as t:
        yield base, ({"Authorization": f"Bearer {STATIC_ADMIN}"} if secured else {})
        assert t.is_alive(), "fanout died during the fuzzing"
        assert httpx.get(f"{base}/healthz").status_code == 200


def fanout_schema() -> dict[str, Any]:
    return create_app(config({}), "nats://127.0.0.1:1").openapi()


@pytest.mark.timeout(90 * SCALE)
def test_fanout_rest_fuzz(fanout_url: tuple[str, dict[str, str]]) -> None:
    base, headers = fanout_url
    started = time.monotonic()
    seen = fuzz(fanout_schema(), base, headers)
    assert any(k.startswith("GET /api/cameras ") for k in seen), seen
    assert time.monotonic() - started < 60 * SCALE


@pytest.mark.timeout(90 * SCALE)
@pytest.mark.parametrize("fanout_url", ["secured"], indirect=True)
def test_fanout_rest_fuzz_with_wrong_and_foreign_tokens(fanout_url: tuple[str, dict[str, str]]) -> None:
    """Tokens that must be refused (no 5xx either way, and the refusal documented in the schema)."""
    base, _ = fanout_url
    for token in ("garbage", signed(["read"], lifetime_s=60)[:-3] + "abc", signed(["publish"], ["court-1"]),
                  signed(["read"], ["court-9"])):
        fuzz(fanout_schema(), base, {"Authorization": f"Bearer {token}"}, examples=8)


@pytest.fixture
def ingest_url(nats_server: EmbeddedNats) -> Iterator[str]:
    from ingest.service import run

    port = free_port()
    cfg = config({"ingest": {"host": "127.0.0.1", "port": port, "cors_origins": ["http://page.example"]},
                  "cameras": [{"id": "court-1", "url": "whip://", "open_timeout_s": 1.0}],
                  "auth": secured_auth()})
    base = f"http://127.0.0.1:{port}"
    with serving_in_thread(lambda stop: run(cfg, nats_server.url, stop), f"{base}/healthz") as thread:
        yield base
        assert thread.is_alive(), "ingest died during the fuzzing"
        assert httpx.get(f"{base}/healthz").status_code == 200


@pytest.mark.timeout(90 * SCALE)
def test_ingest_whip_fuzz(ingest_url: str) -> None:
    started = time.monotonic()
    for headers in ({}, {"Authorization": f"Bearer {signed(['publish'], ['court-1'])}"},
                    {"Authorization": f"Bearer {signed(['read'])}"}, {"Origin": "http://page.example"}):
        fuzz(ingest_schema(), ingest_url, headers, examples=15 * SCALE)
    assert time.monotonic() - started < 60 * SCALE
