"""Retention of archived segments: the bucket's lifecycle rules where the backend has them
(gcs), else a sweeper that deletes expired segments and sidecars (local). Saved clips live
under ``<prefix>/clips/`` and are never matched."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from courtside.config import ArchiveConfig
from courtside.kit.cancel import raise_if_cancelled
from fanout.archive import layout
from fanout.archive.store import ArchiveError, ArchiveStore

log = logging.getLogger(__name__)

#: Seconds between two sweeps of a local archive.
SWEEP_EVERY_S = 3600.0


def retention_prefixes(config: ArchiveConfig, cameras: Sequence[str]) -> dict[str, float]:
    """Camera folder -> days kept, for the cameras whose segments expire."""
    out: dict[str, float] = {}
    for camera in cameras:
        days = config.retention_for(camera)
        if days is not None:
            out[layout.camera_prefix(config.prefix, camera)] = days
    return out


def sweep(store: ArchiveStore, config: ArchiveConfig, cameras: Sequence[str], now_ns: int) -> int:
    """Delete every expired segment (and sidecar) of ``cameras``; returns objects deleted."""
    deleted = 0
    for camera in cameras:
        days = config.retention_for(camera)
        for obj in list(store.list(layout.camera_prefix(config.prefix, camera))):
            if layout.expired(obj.key, now_ns, days):
                store.delete(obj.key)
                deleted += 1
    return deleted


async def keep_retention(store: ArchiveStore, config: ArchiveConfig, cameras: Sequence[str],
                         clock: Callable[[], int] = time.time_ns, every_s: float = SWEEP_EVERY_S) -> None:
    """Install lifecycle rules once, or sweep every ``every_s`` seconds, until cancelled."""
    prefixes = retention_prefixes(config, cameras)
    try:
        if await asyncio.to_thread(store.apply_retention, prefixes):
            log.info("archive retention: %d lifecycle rule(s) on the bucket", len(prefixes))
            return
    except ArchiveError as exc:
        log.warning("archive retention: lifecycle rules not set (%s); sweeping instead", exc)
    while True:
        raise_if_cancelled()  # nats-py may have swallowed a cancel (courtside.kit.cancel)
        try:
            deleted = await asyncio.to_thread(sweep, store, config, cameras, clock())
            if deleted:
                log.info("archive retention: %d expired object(s) deleted", deleted)
        except ArchiveError as exc:
            log.warning("archive retention: sweep failed: %s", exc)
        await asyncio.sleep(every_s)
