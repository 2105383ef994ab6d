"""Ingest's recording path without its HTTP surface: file cameras -> workers (recording) ->
frame publishers (seq index) -> shipper. The same wiring as ``ingest.service``; also runnable
as a process (``python -m tests.archive.recording_harness CONFIG NATS_URL``) so a test can
SIGKILL it mid-recording."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from nats.aio.client import Client as NATS

from courtside.config import CourtsideConfig, parse_config
from courtside.natsio import connect
from ingest.camera_status import CameraStatus
from ingest.camera_worker import CameraWorker
from ingest.handoff import Doorbell, Handoff
from ingest.jpeg_encoder import EncodedFrame
from ingest.publisher import FramePublisher, publish_forever
from ingest.recording.recording import Recording


@asynccontextmanager
async def recording_ingest(config: CourtsideConfig, nc: NATS) -> AsyncIterator[Recording]:
    loop = asyncio.get_running_loop()
    recording = Recording(config, nc)
    doorbell = Doorbell(loop)
    workers: list[CameraWorker] = []
    publishers: list[FramePublisher] = []
    for cfg in config.cameras:
        status = CameraStatus(cfg.id, cfg.scheme)
        handoff: Handoff[EncodedFrame] = Handoff(loop, 3, doorbell)
        publisher = FramePublisher(nc, cfg.id, handoff, status)
        publisher.on_published = recording.published(cfg.id)
        publishers.append(publisher)
        workers.append(CameraWorker(cfg, status, handoff, recorder=recording.recorder(cfg.id)))
    await recording.start()
    task = asyncio.create_task(publish_forever(doorbell, publishers))
    for worker in workers:
        worker.start()
    try:
        yield recording
    finally:
        for worker in workers:
            worker.stop()
        for worker in workers:
            await asyncio.to_thread(worker.join, 3.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await recording.stop(drain_s=3.0)


async def _main(config_path: str, nats_url: str) -> None:
    config = parse_config(json.loads(Path(config_path).read_text()), config_path, environ={})  # noqa: ASYNC240 - start-up
    nc = await connect(nats_url, "recording-harness")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with recording_ingest(config, nc):
        print("recording", flush=True)
        await stop.wait()
    await nc.close()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2]))
