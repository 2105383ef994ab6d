"""Service-level health from camera snapshots: the state behind the heartbeat and /readyz."""

from __future__ import annotations

from collections.abc import Iterable

from contracts.status import CameraState, ServiceState
from ingest.camera_status import CameraSnapshot

_TROUBLE = frozenset({CameraState.FAILED, CameraState.STALLED, CameraState.RECONNECTING})


def service_state(cameras: Iterable[CameraSnapshot], nats_connected: bool, stopping: bool = False) -> ServiceState:
    """``stopping`` > ``degraded`` (NATS down or a camera in trouble) > ``starting``
    (a camera still connecting for the first time) > ``ready``.

    WHIP cameras waiting for a publisher count as ready: nobody pushing is normal.
    """
    if stopping:
        return ServiceState.STOPPING
    snaps = list(cameras)
    if not nats_connected or any(s.state in _TROUBLE for s in snaps):
        return ServiceState.DEGRADED
    if any(s.state == CameraState.CONNECTING and s.source != "whip" for s in snaps):
        return ServiceState.STARTING
    return ServiceState.READY
