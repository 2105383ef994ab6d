"""Replay REST routes over the archive: recordings with gaps, downloads (signed URL or HTTP
Range), export of a range as one MP4, annotations of a range, saved clips. Thin: the work is
in :mod:`fanout.archive.replay`.

Times are Unix nanoseconds (integers), like every ``ts`` of the contract. Replay needs the
``read`` scope and the camera in the token's grants; saving a clip needs ``write``. Every bad
request (unknown camera, start not before end, a range over ``archive.max_range_s`` or
``archive.max_export_s``, a name that is not a recording or clip) is a 4xx that says why.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Annotated, Any

from courtside_contracts.names import NAME_PATTERN
from fastapi import APIRouter, Body, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from fanout.archive import layout
from fanout.archive.replay import Replay, ReplayError
from fanout.archive.store import ArchiveError, ArchiveNotFound, ArchiveUnavailable
from fanout.auth import Principal, Scope
from fanout.deps import PrincipalDep, RuntimeDep
from fanout.errors import Forbidden

router = APIRouter(tags=["replay"])
log = logging.getLogger(__name__)

CameraPath = Annotated[str, Path(pattern=f"^{NAME_PATTERN}$", description="camera id")]
StartQ = Annotated[int, Query(ge=0, description="range start, Unix ns")]
EndQ = Annotated[int, Query(ge=0, description="range end (exclusive), Unix ns")]
#: Seconds a signed download URL stays valid.
SIGNED_URL_TTL_S = 900
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _replay(runtime: Any) -> Replay:
    archive = getattr(runtime, "archive", None)
    replay: Replay | None = None if archive is None else archive.replay
    if replay is None:
        raise HTTPException(404, "no archive: archive.kind is none (set local or gcs to record)")
    return replay


def _camera(runtime: Any, who: Principal, camera: str, scope: Scope = Scope.READ) -> str:
    if camera not in {c.id for c in runtime.config.cameras}:
        raise HTTPException(404, f"camera {camera} is unknown")
    try:
        who.require(scope, camera)
    except Forbidden as exc:
        raise HTTPException(403, str(exc)) from None
    if not who.can_see(camera):
        raise HTTPException(403, f"token may not use camera {camera}")
    return camera


def _range(start: int, end: int, limit_s: float, what: str) -> None:
    if start >= end:
        raise HTTPException(400, f"start ({start}) must be before end ({end})")
    if (end - start) / 1e9 > limit_s:
        raise HTTPException(400, f"{what} range is {(end - start) / 1e9:.0f} s, over the maximum {limit_s:.0f} s")


def _fail(exc: Exception) -> HTTPException:
    if isinstance(exc, ReplayError):
        return HTTPException(exc.status, str(exc))
    if isinstance(exc, ArchiveNotFound):
        return HTTPException(404, str(exc))
    if isinstance(exc, ArchiveUnavailable):
        return HTTPException(503, str(exc))
    return HTTPException(502, f"archive error: {exc}")


@router.get("/api/recordings", summary="A camera's recordings in a time range, with gaps (paged)")
async def list_recordings(runtime: RuntimeDep, who: PrincipalDep, camera: Annotated[str, Query(
        pattern=f"^{NAME_PATTERN}$")], start: StartQ, end: EndQ,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    """Spans in time order: ``recording`` (with its download path) or ``gap``. When more than
    ``limit`` spans fall in the range, ``next_start`` is the ``start`` of the next page."""
    replay = _replay(runtime)
    _camera(runtime, who, camera)
    _range(start, end, replay.config.max_range_s, "listing")
    try:
        spans = await replay.timeline(camera, start, end)
    except ArchiveError as exc:
        raise _fail(exc) from None
    page, rest = spans[:limit], spans[limit:]
    items = []
    for span in page:
        item: dict[str, Any] = {"kind": span.kind, "start_ns": span.start_ns, "end_ns": span.end_ns}
        if span.segment is not None:
            name = span.segment.key.rsplit("/", 1)[-1]
            item.update(size=span.segment.size, name=name,
                        url=f"/api/recordings/{camera}/{name}",
                        sidecar_url=f"/api/recordings/{camera}/{name.removesuffix('.mp4')}.jsonl")
        items.append(item)
    return {"camera": camera, "start_ns": start, "end_ns": end, "items": items,
            "next_start": rest[0].start_ns if rest else None}


async def _download(replay: Replay, key: str, request: Request, media_type: str) -> Response:
    if request.query_params.get("direct") != "1":
        url = replay.store.signed_url(key, SIGNED_URL_TTL_S)
        if url is not None:
            return RedirectResponse(url, status_code=307)
    try:
        stat = await asyncio.to_thread(replay.store.stat, key)
    except ArchiveError as exc:
        raise _fail(exc) from None
    if stat is None:
        raise HTTPException(404, "no such recording")
    size = stat.size
    header = request.headers.get("range")
    start, end, status = 0, size, 200
    if header:
        match = _RANGE.fullmatch(header.strip())
        if match is None or (not match[1] and not match[2]):
            raise HTTPException(416, "only one byte range (bytes=a-b) is supported",
                                headers={"Content-Range": f"bytes */{size}"})
        if match[1]:
            start = int(match[1])
            end = min(size, int(match[2]) + 1) if match[2] else size
        else:
            start = max(0, size - int(match[2]))
        if start >= size or start >= end:
            raise HTTPException(416, "range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
        status = 206
    try:
        data = await asyncio.to_thread(replay.store.read, key, start, end)
    except ArchiveError as exc:
        raise _fail(exc) from None
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(len(data))}
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{size}"
    return Response(data, status_code=status, media_type=media_type, headers=headers)


@router.get("/api/recordings/{camera}/{name}", summary="Download one recording (MP4) or its sidecar (JSONL)")
async def download_recording(runtime: RuntimeDep, who: PrincipalDep, camera: CameraPath,
                             name: Annotated[str, Path(pattern=r"^[0-9]{1,20}_[0-9]{1,20}\.(mp4|jsonl)$")],
                             request: Request) -> Response:
    """A V4 signed URL redirect (307) when the backend's credentials can sign, else the bytes,
    with HTTP Range (206) so that a browser can seek; ``?direct=1`` always streams."""
    replay = _replay(runtime)
    _camera(runtime, who, camera)
    try:
        key = replay.key_of(camera, name)
    except ReplayError as exc:
        raise _fail(exc) from None
    return await _download(replay, key, request, "video/mp4" if name.endswith(".mp4") else "application/x-ndjson")


@router.get("/api/export", summary="A time range across segments as one MP4 (remuxed, no re-encode)")
async def export_range(runtime: RuntimeDep, who: PrincipalDep,
                       camera: Annotated[str, Query(pattern=f"^{NAME_PATTERN}$")],
                       start: StartQ, end: EndQ) -> Response:
    """The video starts at the keyframe at or before ``start``: the headers
    ``Courtside-Start-Ns``/``Courtside-End-Ns`` say where the file really starts and ends,
    ``Courtside-Keyframe-Aligned: true`` that the start was moved to a keyframe,
    ``Courtside-Export-Method`` ``concat`` (byte-level join) or ``remux`` (PyAV, for a file
    the byte reader refuses); ``Courtside-Codec-Change-Ns`` where the camera's codec
    parameters changed: the file ends there, ask again from there for the rest."""
    replay = _replay(runtime)
    _camera(runtime, who, camera)
    _range(start, end, replay.config.max_export_s, "export")
    try:
        clip = await replay.export(camera, start, end)
    except (ReplayError, ArchiveError) as exc:
        raise _fail(exc) from None
    headers = {} if clip.codec_change_ns is None else {"Courtside-Codec-Change-Ns": str(clip.codec_change_ns)}
    # Streamed one fragment at a time (iterated in a worker thread by Starlette): the first
    # bytes leave before the rest is assembled, and no second copy of the whole file is made.
    return StreamingResponse(clip.chunks(), media_type="video/mp4", headers={
        "Content-Length": str(clip.size),
        **headers, "Courtside-Start-Ns": str(clip.start_ns), "Courtside-End-Ns": str(clip.end_ns),
        "Courtside-Requested-Start-Ns": str(start), "Courtside-Keyframe-Aligned": "true",
        "Courtside-Frames": str(clip.frames), "Courtside-Export-Method": clip.method,
        "Content-Disposition": f'attachment; filename="{camera}-{clip.start_ns}.mp4"'})


@router.get("/api/annotations", summary="Archived annotations of a camera in a time range")
async def range_annotations(runtime: RuntimeDep, who: PrincipalDep,
                            camera: Annotated[str, Query(pattern=f"^{NAME_PATTERN}$")],
                            start: StartQ, end: EndQ) -> dict[str, Any]:
    """Every archived annotation with ``start <= ts < end``, plus the seq/pts/ts index of each
    segment touched (``segments``), so the annotations line up with the video frames."""
    replay = _replay(runtime)
    _camera(runtime, who, camera)
    _range(start, end, replay.config.max_range_s, "annotation")
    try:
        return await replay.annotations(camera, start, end)
    except (ReplayError, ArchiveError) as exc:
        raise _fail(exc) from None


class SaveClip(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera: str = Field(pattern=f"^{NAME_PATTERN}$")
    start_ns: int | None = Field(None, ge=0, description="range start, Unix ns (with end_ns)")
    end_ns: int | None = Field(None, ge=0, description="range end, Unix ns (with start_ns)")
    last_s: float | None = Field(None, gt=0, description="the last N seconds (default 30 when no range)")


@router.post("/api/clips", status_code=201, summary="Save a clip (a range, or the last N seconds); never expired")
async def save_clip(runtime: RuntimeDep, who: PrincipalDep, body: Annotated[SaveClip, Body()]) -> dict[str, Any]:
    """With ``last_s`` (or nothing: 30 s) ingest first closes the camera's open segment so that
    the clip reaches the moment of the request. Needs the ``write`` scope."""
    replay = _replay(runtime)
    camera = _camera(runtime, who, body.camera, Scope.WRITE)
    try:
        if body.start_ns is not None or body.end_ns is not None:
            if body.start_ns is None or body.end_ns is None or body.last_s is not None:
                raise HTTPException(400, "give start_ns and end_ns together, or last_s alone")
            start, end = body.start_ns, body.end_ns
        else:
            t0 = time.perf_counter()
            end = await replay.flush(camera)
            t1 = time.perf_counter()
            await replay.wait_archived(camera, end)
            t2 = time.perf_counter()
            start = end - round((body.last_s or 30.0) * 1e9)
            _range(start, end, replay.config.max_export_s, "clip")
            saved = await replay.save(camera, start, end)
            log.info("%s: last %.0f s saved in %.2f s (flush %.2f s, archived %.2f s, export+save %.2f s)",
                     camera, body.last_s or 30.0, time.perf_counter() - t0, t1 - t0, t2 - t1,
                     time.perf_counter() - t2)
            return saved
        _range(start, end, replay.config.max_export_s, "clip")
        return await replay.save(camera, start, end)
    except (ReplayError, ArchiveError) as exc:
        raise _fail(exc) from None


@router.get("/api/clips", summary="Saved clips of a camera")
async def list_clips(runtime: RuntimeDep, who: PrincipalDep,
                     camera: Annotated[str, Query(pattern=f"^{NAME_PATTERN}$")]) -> dict[str, Any]:
    replay = _replay(runtime)
    _camera(runtime, who, camera)
    try:
        clips = await replay.clips(camera)
    except ArchiveError as exc:
        raise _fail(exc) from None
    for clip in clips:
        clip["url"] = f"/api/clips/{camera}/{clip['id']}.mp4"
        clip["sidecar_url"] = f"/api/clips/{camera}/{clip['id']}.jsonl"
    return {"camera": camera, "clips": clips, "now_ns": time.time_ns()}


@router.get("/api/clips/{camera}/{name}", summary="Download a saved clip (MP4) or its sidecar (JSONL)")
async def download_clip(runtime: RuntimeDep, who: PrincipalDep, camera: CameraPath,
                        name: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}-[0-9]{1,20}-[0-9]{1,20}\.(mp4|jsonl)$")],
                        request: Request) -> Response:
    replay = _replay(runtime)
    _camera(runtime, who, camera)
    clip, _, ext = name.rpartition(".")
    try:
        key = layout.clip_key(replay.config.prefix, camera, clip)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    if ext == "jsonl":
        key = layout.sidecar_key(key)
    return await _download(replay, key, request, "video/mp4" if ext == "mp4" else "application/x-ndjson")
