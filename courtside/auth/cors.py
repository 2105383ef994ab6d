"""CORS answers (Fetch standard) for a route set that serves browser pages on other origins.

Pure: from the request's ``Origin``, ``Access-Control-Request-Method`` and
``-Headers`` to a status, the headers and a reason. Used by ingest's WHIP routes so that
a page elsewhere can ``fetch`` an offer with an ``Authorization`` header and read the
``Location`` of its session. Tokens travel in ``Authorization``, never in cookies, so
no ``Allow-Credentials`` is ever sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CorsAnswer:
    """``status`` 204 for an accepted preflight, 403 for a refused one (``reason`` says why)."""

    status: int
    headers: dict[str, str]
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """Which origins may call, with which methods and request headers, and what they may read."""

    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...] = ("Authorization", "Content-Type")
    expose: tuple[str, ...] = ()
    max_age_s: int = 600

    @classmethod
    def of(cls, origins: Sequence[str], methods: Sequence[str], *, expose: Sequence[str] = ()) -> CorsPolicy:
        return cls(tuple(origins), tuple(m.upper() for m in methods), expose=tuple(expose))

    def allows(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins

    def _base(self, origin: str) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def preflight(self, origin: str | None, method: str | None, request_headers: str | None) -> CorsAnswer:
        """The answer to an ``OPTIONS`` carrying ``Origin`` and ``Access-Control-Request-Method``."""
        allow = {"Allow": ", ".join((*self.methods, "OPTIONS"))}
        if not origin or not method:  # not a CORS preflight: say what the resource supports
            return CorsAnswer(204, allow)
        if not self.allows(origin):
            return CorsAnswer(403, {"Vary": "Origin"}, f"origin {origin[:100]} is not allowed")
        if method.upper() not in self.methods:
            return CorsAnswer(403, {"Vary": "Origin"}, f"method {method[:16]} is not allowed")
        asked = [h.strip().lower() for h in (request_headers or "").split(",") if h.strip()]
        known = {h.lower() for h in self.headers}
        unknown = [h for h in asked if h not in known]
        if unknown:
            return CorsAnswer(403, {"Vary": "Origin"}, f"request header {unknown[0][:40]} is not allowed")
        return CorsAnswer(204, {**allow, **self._base(origin),
                                "Access-Control-Allow-Methods": ", ".join(self.methods),
                                "Access-Control-Allow-Headers": ", ".join(self.headers),
                                "Access-Control-Max-Age": str(self.max_age_s)})

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """Headers for the actual response to ``origin`` (none when there is no Origin)."""
        if not origin or not self.allows(origin):
            return {}
        headers = self._base(origin)
        if self.expose:
            headers["Access-Control-Expose-Headers"] = ", ".join(self.expose)
        return headers
