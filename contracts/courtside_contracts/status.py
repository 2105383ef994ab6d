"""Heartbeats: every service instance publishes its state on ``status.<service>.<instance>``.

The lifecycle enum is the one behind ``/readyz`` and the fanout camera/model lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from courtside_contracts.errors import ContractError
from courtside_contracts.names import InvalidName, validate_name

#: Seconds between heartbeats; a peer unseen for 3 intervals is considered gone.
HEARTBEAT_INTERVAL_S = 2.0
HEARTBEAT_STALE_S = 3 * HEARTBEAT_INTERVAL_S


class ServiceState(str, Enum):
    """Lifecycle of a service instance."""

    STARTING = "starting"
    READY = "ready"
    DEGRADED = "degraded"
    STOPPING = "stopping"


class CameraState(str, Enum):
    """Lifecycle of one camera inside ingest."""

    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(slots=True)
class Heartbeat:
    """One heartbeat. ``cameras`` and ``models`` map a name to free-form metrics.

    ingest fills ``cameras`` (state, reason, fps, frames, dropped); inference fills
    ``models`` (loaded, weights, device, fps, dropped, latency p50/p99 in ms) and the
    cameras it serves. ``http_port``: the port of the instance's ``/healthz``, ``/readyz`` and
    ``/metrics`` (omitted by senders that serve none; absent in older heartbeats).
    """

    service: str
    instance: str
    state: ServiceState
    ts: int
    cameras: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    http_port: int | None = None

    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "service": self.service, "instance": self.instance, "state": self.state.value,
            "ts": self.ts, "cameras": self.cameras, "models": self.models,
            "errors": self.errors[-10:],
        }
        if self.http_port is not None:
            data["http_port"] = self.http_port
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, payload: bytes | str) -> Heartbeat:
        try:
            data = json.loads(payload)
            if not isinstance(data, dict):
                raise ContractError("heartbeat must be a JSON object")
            cameras = data.get("cameras", {})
            models = data.get("models", {})
            if not isinstance(cameras, dict) or not isinstance(models, dict):
                raise ContractError("heartbeat cameras/models must be objects")
            for name in list(cameras) + list(models):
                validate_name(name)
            ts = data.get("ts")
            if not isinstance(ts, int):
                raise ContractError("heartbeat ts must be an integer (Unix ns)")
            port = data.get("http_port")
            if port is not None and (not isinstance(port, int) or isinstance(port, bool)
                                     or not 0 < port < 65536):
                raise ContractError("heartbeat http_port must be a TCP port number (1..65535)")
            return cls(
                service=validate_name(data.get("service"), "service"),
                instance=validate_name(data.get("instance"), "instance"),
                state=ServiceState(data.get("state")),
                ts=ts, cameras=cameras, models=models,
                errors=[str(e) for e in data.get("errors", [])][:10], http_port=port,
            )
        except ValueError as exc:  # JSONDecodeError, enum errors and InvalidName are ValueErrors
            if isinstance(exc, ContractError) and not isinstance(exc, InvalidName):
                raise
            raise ContractError(f"malformed heartbeat: {exc}") from None
