"""JetStream stream definitions, as plain data so that contracts needs no NATS client.

Services turn these into ``nats.js.api.StreamConfig`` at their own boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

from courtside_contracts.subjects import (
    ANALYTICS_ALL,
    ANNOTATIONS_ALL,
    ANNOTATIONS_STREAM,
    CLIPS_PREFIX,
    CLIPS_STREAM,
)


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """Name, subjects and limits of one stream. Ages in seconds, sizes in bytes."""

    name: str
    subjects: tuple[str, ...]
    retention: str  # "limits" | "workqueue"
    max_age_s: float
    max_bytes: int
    duplicate_window_s: float = 120.0


#: Annotations and court analytics kept for replay and the archive's sidecars: 24 h or 2 GiB (the two
#: together), whichever comes first. Both are published with plain core NATS publishes; the stream keeps
#: them. An older stream with ``annotations.*.*`` only gains ``analytics.*`` when a service ensures it.
ANNOTATIONS = StreamSpec(ANNOTATIONS_STREAM, (ANNOTATIONS_ALL, ANALYTICS_ALL), "limits",
                         max_age_s=24 * 3600, max_bytes=2 * 1024**3)
#: Finished segments waiting for the archiver (work queue: removed once acknowledged).
CLIPS = StreamSpec(CLIPS_STREAM, (f"{CLIPS_PREFIX}.*",), "workqueue",
                   max_age_s=7 * 24 * 3600, max_bytes=256 * 1024**2)
