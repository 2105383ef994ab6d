"""A WHIP session holds the task that closes it until that task is done.

asyncio keeps only weak references to tasks: a close scheduled from a callback (connection
failed, track ended, watchdog) and held by nobody may be garbage-collected half-way, leaving
the session open and the hub never told.
"""

from __future__ import annotations

import asyncio
import gc

from courtside.config import CameraConfig
from ingest.camera_status import CameraStatus
from ingest.handoff import Handoff
from ingest.whip_session import WhipSession


async def test_the_close_task_is_held_until_it_is_done() -> None:
    ended: list[tuple[str, bool]] = []
    config = CameraConfig.model_validate({"id": "phone", "url": "whip://"})
    session = WhipSession("0123456789abcdef", config, CameraStatus("phone", "whip://"),
                          Handoff(asyncio.get_running_loop()),
                          lambda _session, reason, clean: ended.append((reason, clean)))
    session._end_soon("connection failed", clean=False)
    session._end_soon("no media for 1.0 s", clean=False)  # a second trigger before the first ran
    gc.collect()
    tasks = {t for t in asyncio.all_tasks() if t.get_name() == "whip-close-phone"}
    assert len(tasks) == 2 and session._closing == tasks
    await asyncio.gather(*tasks)
    assert ended == [("connection failed", False)]  # close is idempotent: the hub is told once
    assert session._closing == set()  # discarded once done: nothing accumulates
