"""Replay over fanout's REST API: recordings, downloads, exports, annotations and saved clips.

Standard library only (``urllib``), blocking: call it from a thread in asyncio code. Times are
Unix nanoseconds, as everywhere in the contract. A download follows a signed-URL redirect
without sending the bearer token to the storage host, and reports progress as
``progress(done_bytes, total_bytes_or_None)``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Bytes read per chunk of a download.
CHUNK = 256 * 1024
Progress = Callable[[int, int | None], None]


class ReplayError(Exception):
    """fanout refused or failed a request; ``status`` is the HTTP status (0: not reached)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None  # handled by ReplayClient: the token must not follow to another host


class ReplayClient:
    """``base_url``: fanout's HTTP root, e.g. ``http://127.0.0.1:8000``."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout_s = timeout_s
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __repr__(self) -> str:
        return f"ReplayClient({self.base_url!r}, token={'***' if self._token else None})"

    def _open(self, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
              auth: bool = True) -> Any:
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        if not url.startswith(("http://", "https://")):
            raise ReplayError(0, f"not an http(s) URL: {url[:80]!r}")
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        headers = {"Accept": "*/*"}
        if auth and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            url, data=data, headers=headers, method="POST" if data else "GET")
        try:
            return self._opener.open(request, timeout=self.timeout_s)
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303, 307, 308) and exc.headers.get("Location"):
                return self._open(exc.headers["Location"], auth=False)  # a signed URL: no token
            try:
                detail = json.loads(exc.read()).get("detail", exc.reason)
            except ValueError:
                detail = exc.reason
            raise ReplayError(exc.code, str(detail)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ReplayError(0, f"cannot reach {self.base_url}: {exc}") from None

    def _json(self, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        with self._open(path, params=params, body=body) as response:
            return json.loads(response.read())

    def recordings(self, camera: str, start_ns: int, end_ns: int) -> list[dict[str, Any]]:
        """Every span (``recording`` or ``gap``) of the range, following the pages."""
        items: list[dict[str, Any]] = []
        start: int | None = start_ns
        while start is not None:
            page = self._json("/api/recordings", {"camera": camera, "start": start, "end": end_ns})
            items += page["items"]
            start = page["next_start"]
        return items

    def annotations(self, camera: str, start_ns: int, end_ns: int) -> dict[str, Any]:
        result: dict[str, Any] = self._json("/api/annotations", {"camera": camera, "start": start_ns, "end": end_ns})
        return result

    def save_clip(self, camera: str, *, start_ns: int | None = None, end_ns: int | None = None,
                  last_s: float | None = None) -> dict[str, Any]:
        """Save a range, or the last ``last_s`` seconds (default 30); needs the write scope."""
        body: dict[str, Any] = {"camera": camera}
        if start_ns is not None or end_ns is not None:
            body.update(start_ns=start_ns, end_ns=end_ns)
        elif last_s is not None:
            body["last_s"] = last_s
        result: dict[str, Any] = self._json("/api/clips", body=body)
        return result

    def clips(self, camera: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("/api/clips", {"camera": camera})["clips"]
        return result

    def highlights(self, camera: str, *, rank: str = "longest", start_ns: int | None = None,
                   end_ns: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Rally clips of ``camera`` whose rally started in ``start_ns`` .. ``end_ns`` (Unix ns; default
        all until now), best first by ``rank`` (longest, fastest, shots); each clip's manifest with
        the rally's stats in ``rally`` (the contract's ``finished_rally``)."""
        params: dict[str, Any] = {"camera": camera, "rank": rank}
        for key, value in (("start", start_ns), ("end", end_ns), ("limit", limit)):
            if value is not None:
                params[key] = value
        result: list[dict[str, Any]] = self._json("/api/highlights", params)["highlights"]
        return result

    def download(self, path: str, dest: Path, *, params: dict[str, Any] | None = None,
                 progress: Progress | None = None) -> dict[str, str]:
        """Stream ``path`` (a ``url`` from a listing) into ``dest``; returns the reply headers."""
        tmp = dest.with_name(dest.name + ".part")
        with self._open(path, params=params) as response, tmp.open("wb") as out:
            total = response.headers.get("Content-Length")
            size = int(total) if total else None
            done = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, size)
            headers = {k.lower(): v for k, v in response.headers.items()}
        tmp.replace(dest)
        return headers

    def export(self, camera: str, start_ns: int, end_ns: int, dest: Path, *,
               progress: Progress | None = None) -> dict[str, str]:
        """One MP4 of the range; the headers say where it really starts (a keyframe)."""
        return self.download("/api/export", dest, params={"camera": camera, "start": start_ns, "end": end_ns},
                             progress=progress)
