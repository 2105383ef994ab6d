"""``GET /api/highlights``: a camera's rally clips in a period, ranked (longest, fastest, most shots).

Thin: ranking is :func:`fanout.highlights.rank`, the clips come from the archive's clip API.
Same guards as replay: the ``read`` scope and the camera in the token's grants; a bad
``rank``, a period whose start is not before its end, or an unknown camera is a 4xx.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from courtside_contracts.names import NAME_PATTERN
from fastapi import APIRouter, HTTPException, Query

from fanout.archive.store import ArchiveError
from fanout.deps import PrincipalDep, RuntimeDep
from fanout.highlights import RANKINGS, rank
from fanout.replay_api import _camera, _fail, _replay

router = APIRouter(tags=["replay"])


@router.get("/api/highlights", summary="A camera's rally clips in a period, ranked")
async def highlights(runtime: RuntimeDep, who: PrincipalDep,
                     camera: Annotated[str, Query(pattern=f"^{NAME_PATTERN}$")],
                     start: Annotated[int, Query(ge=0, description="period start, Unix ns")] = 0,
                     end: Annotated[int | None, Query(ge=0, description="period end, Unix ns (default now)")] = None,
                     by: Annotated[str, Query(alias="rank", pattern=f"^({'|'.join(RANKINGS)})$",
                                              description="longest, fastest or shots")] = "longest",
                     limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict[str, Any]:
    """Rally clips whose rally started in ``start`` .. ``end``, best first; each is a saved clip's
    manifest (``id``, ``start_ns``, ``end_ns``, ``url``, ...) with the rally's stats in ``rally``."""
    replay = _replay(runtime)
    _camera(runtime, who, camera)
    until = time.time_ns() if end is None else end
    if start >= until:
        raise HTTPException(400, f"start ({start}) must be before end ({until})")
    try:
        clips = await replay.clips(camera)
    except ArchiveError as exc:
        raise _fail(exc) from None
    out = []
    for clip in rank(clips, by, start, until, limit):
        item = dict(clip)
        item["url"] = f"/api/clips/{camera}/{clip['id']}.mp4"
        item["sidecar_url"] = f"/api/clips/{camera}/{clip['id']}.jsonl"
        out.append(item)
    return {"camera": camera, "start_ns": start, "end_ns": until, "rank": by, "highlights": out}
