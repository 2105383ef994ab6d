"""Servers for the fuzz tests, run in a thread of their own so that synchronous clients (schemathesis
drives ``requests``) can hammer them from the test's thread, and the schemas they are fuzzed from."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from courtside.auth.jwt_tokens import hs256_key, issue
from courtside.config import CourtsideConfig, parse_config

#: How much longer than in the test suite to fuzz (bench/fuzz.py sets COURTSIDE_FUZZ_SCALE; 1 here).
SCALE = max(1, int(os.environ.get("COURTSIDE_FUZZ_SCALE", "1")))
SECRET = "a-fuzz-hs256-secret-of-32-bytes-or-more"  # noqa: S105 - a test credential
STATIC_ADMIN = "fuzz-admin-token-0123456789abcdef"


def secured_auth() -> dict[str, Any]:
    """An ``auth`` section with a static admin token and HS256-signed tokens."""
    return {"enabled": True, "jwt": {"hs256_secret": SECRET},
            "tokens": [{"token": STATIC_ADMIN, "scopes": ["admin"]}]}


def signed(scopes: list[str], cameras: list[str] | None = None, lifetime_s: float = 3600) -> str:
    return issue(hs256_key(SECRET), audience="courtside", scopes=scopes, cameras=cameras, lifetime_s=lifetime_s)


def config(data: dict[str, Any]) -> CourtsideConfig:
    return parse_config(data, "<fuzz>", environ={})


@contextmanager
def serving_in_thread(run: Callable[[asyncio.Event], Awaitable[None]], ready_url: str,
                      ready_timeout_s: float = 15.0) -> Iterator[threading.Thread]:
    """Run ``run(stop)`` in an event loop on its own thread until the block ends; wait for
    ``ready_url`` to answer (any status below 500 but 503) first. The thread is yielded so a
    test can check that the server is still alive after the fuzzing."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(run(stop))
        except BaseException as exc:  # reported to the test below
            failure.append(exc)
        finally:
            loop.close()

    thread = threading.Thread(target=main, name="fuzz-server", daemon=True)
    thread.start()
    try:
        with httpx.Client(timeout=1.0) as http:
            for _ in range(int(ready_timeout_s / 0.05)):
                if failure:
                    raise failure[0]
                try:
                    if http.get(ready_url).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                threading.Event().wait(0.05)
            else:
                raise TimeoutError(f"{ready_url} not ready within {ready_timeout_s} s")
        yield thread
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
    if failure:
        raise failure[0]


def ingest_schema() -> dict[str, Any]:
    """Ingest's WHIP routes as an OpenAPI document (ingest's app serves none). Its /healthz,
    /readyz and /metrics are the service kit's one router, fuzzed through fanout's schema."""
    from ingest.whip_api import router as whip_router

    app = FastAPI(title="Courtside ingest WHIP", version="1")
    app.include_router(whip_router)
    return app.openapi()
