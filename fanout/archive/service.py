"""The archiver as a component: inside fanout (the default) or alone as ``courtside archive``.

:func:`open_store` is the one place that turns ``archive`` configuration into a backend;
``kind: none`` has no archive and :func:`open_store` refuses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from courtside.config import ArchiveConfig, ConfigError, CourtsideConfig
from courtside.kit.cancel import cancel_and_wait
from courtside.natsio import connect
from fanout.archive import layout
from fanout.archive.archiver import Archiver
from fanout.archive.replay import Replay
from fanout.archive.retention import keep_retention
from fanout.archive.store import ArchiveStore, LocalStore

log = logging.getLogger(__name__)


class ArchiveConfigError(ConfigError):
    """The archive configuration cannot be served (the CLI reports it like any config error)."""


def open_store(config: ArchiveConfig) -> ArchiveStore:
    """The backend named by ``archive.kind`` (blocking: a GCS client is built)."""
    if config.kind == "local":
        assert config.path is not None  # checked by the config model
        return LocalStore(config.path)
    if config.kind == "gcs":
        from fanout.archive.gcs_store import GcsStore

        assert config.bucket is not None
        return GcsStore(config.bucket, config.project)
    raise ArchiveConfigError("archive.kind is none: there is no archive (set kind local or gcs)")


def check_cameras(config: CourtsideConfig) -> None:
    if any(c.id == layout.CLIPS_FOLDER for c in config.cameras):
        raise ArchiveConfigError(f"camera id {layout.CLIPS_FOLDER!r} is reserved while archiving "
                                 "(saved clips live in that folder)")


class ArchiveComponent:
    """The archiver and the retention keeper as two tasks; start/stop in order."""

    def __init__(self, config: CourtsideConfig, nc: NATS, store: ArchiveStore) -> None:
        check_cameras(config)
        self.archiver = Archiver(nc, store, config.archive)
        self.store = store
        self._config = config
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        cameras = [c.id for c in self._config.cameras]
        self._tasks = [asyncio.create_task(self.archiver.run(), name="archiver"),
                       asyncio.create_task(keep_retention(self.store, self._config.archive, cameras),
                                           name="archive-retention")]

    async def stop(self) -> None:
        await cancel_and_wait(*self._tasks)


class ArchiveRuntime:
    """fanout's archive: the replay service, and the archiver unless ``archive.archiver_in_fanout``
    is false (``courtside archive`` replicas do it). Inert when ``archive.kind`` is none."""

    def __init__(self, config: CourtsideConfig) -> None:
        self._config = config
        self.replay: Replay | None = None
        self.component: ArchiveComponent | None = None

    async def start(self, nc: NATS) -> None:
        if self._config.archive.kind == "none":
            return
        check_cameras(self._config)
        store = await asyncio.to_thread(open_store, self._config.archive)
        self.replay = Replay(store, self._config.archive, nc)
        if self._config.archive.archiver_in_fanout:
            self.component = ArchiveComponent(self._config, nc, store)
            await self.component.start()

    async def stop(self) -> None:
        if self.component is not None:
            await self.component.stop()


async def run(config: CourtsideConfig, nats_url: str, stop: asyncio.Event) -> None:
    """``courtside archive``: archive until ``stop`` is set."""
    store = await asyncio.to_thread(open_store, config.archive)
    nc = await connect(nats_url, "archiver", tls=config.nats.tls)
    component = ArchiveComponent(config, nc, store)
    try:
        await component.start()
        await stop.wait()
    finally:
        await component.stop()
        with contextlib.suppress(NatsError, asyncio.TimeoutError):
            await asyncio.wait_for(nc.close(), 1.0)
        log.info("archiver stopped")
