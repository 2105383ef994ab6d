"""Live state of cameras and model consumers, from heartbeats and traffic (pure).

Sources: ``status.*.*`` heartbeats (ingest lists ``cameras``; an inference
consumer lists ``models`` and the cameras it serves) and the annotations that
actually flow. A heartbeat older than ``stale_after_s`` seconds
(:data:`courtside_contracts.status.HEARTBEAT_STALE_S`) no longer counts. Times are
monotonic seconds passed in by the caller, so tests need no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from courtside_contracts.status import HEARTBEAT_STALE_S, Heartbeat

#: Traffic entries unseen for this long (seconds) are forgotten.
FORGET_AFTER_S = 3600.0


@dataclass(slots=True)
class _Seen:
    beat: Heartbeat
    at: float


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class LiveState:
    """What is alive right now; :meth:`changes` reports transitions for one log line each."""

    def __init__(self, configured_cameras: Iterable[str] = (), configured_models: Iterable[str] = (),
                 stale_after_s: float = HEARTBEAT_STALE_S, ignore_service: str | None = "fanout") -> None:
        self.stale_after_s = stale_after_s
        self._configured_cameras = tuple(configured_cameras)
        self._configured_models = tuple(configured_models)
        self._ignore_service = ignore_service
        self._beats: dict[tuple[str, str], _Seen] = {}
        self._traffic: dict[tuple[str, str], float] = {}   # (camera, model) -> last annotation
        self._weights: dict[str, str] = {}                  # model -> weights of its last annotation
        self._reported: dict[str, str] = {}                 # "camera x" / "model y" -> last logged state

    # -- inputs ---------------------------------------------------------------------------
    def observe(self, beat: Heartbeat, now: float) -> None:
        if beat.service == self._ignore_service:
            return
        self._beats[(beat.service, beat.instance)] = _Seen(beat, now)

    def saw_annotation(self, camera: str, model: str, weights: str, now: float) -> None:
        """Called once per annotation: two dict stores, cheap on the hot path."""
        self._traffic[(camera, model)] = now
        self._weights[model] = weights

    # -- views ----------------------------------------------------------------------------
    def _fresh(self, now: float) -> list[_Seen]:
        return [s for s in self._beats.values() if now - s.at <= self.stale_after_s]

    def camera_ids(self) -> list[str]:
        """Every camera ever known (configured, heartbeats, traffic), sorted."""
        ids = set(self._configured_cameras)
        for seen in self._beats.values():
            ids.update(seen.beat.cameras)
        ids.update(cam for cam, _ in self._traffic)
        return sorted(ids)

    def model_names(self) -> list[str]:
        names = set(self._configured_models)
        for seen in self._beats.values():
            names.update(seen.beat.models)
        names.update(model for _, model in self._traffic)
        return sorted(names)

    def cameras(self, now: float) -> list[dict[str, Any]]:
        """One entry per camera: ingest state, fps, and the models serving it now."""
        all_ids = self.camera_ids()
        sources: dict[str, _Seen] = {}
        serving: dict[str, set[str]] = {cam: set() for cam in all_ids}
        for seen in sorted(self._beats.values(), key=lambda s: s.at):
            beat = seen.beat
            if not beat.models:
                for cam in beat.cameras:
                    sources[cam] = seen  # the freshest source wins
            elif now - seen.at <= self.stale_after_s:
                for cam in (beat.cameras or all_ids):
                    serving.setdefault(cam, set()).update(beat.models)
        last_annotation: dict[str, float] = {}
        for (cam, model), at in self._traffic.items():
            last_annotation[cam] = max(at, last_annotation.get(cam, at))
            if now - at <= self.stale_after_s:
                serving.setdefault(cam, set()).add(model)
        out = []
        for cam in all_ids:
            src = sources.get(cam)
            metrics = src.beat.cameras.get(cam, {}) if src else {}
            fresh_src = src is not None and now - src.at <= self.stale_after_s
            state = str(metrics.get("state", "unknown")) if fresh_src else ("offline" if src else "unknown")
            last_ann = last_annotation.get(cam)
            out.append({
                "id": cam,
                "state": state,
                "live": fresh_src and state == "live",
                "fps": metrics.get("fps") if fresh_src else None,
                "source": f"{src.beat.service}.{src.beat.instance}" if src else None,
                "heartbeat_age_s": _round(now - src.at) if src else None,
                "annotation_age_s": _round(None if last_ann is None else now - last_ann),
                "models": sorted(serving.get(cam, ())),
                "configured": cam in self._configured_cameras,
            })
        return out

    def models(self, now: float) -> list[dict[str, Any]]:
        """One entry per model: consumer instances (each with the ``http_port`` of its ``/healthz``,
        ``/readyz`` and ``/metrics`` from its heartbeat; None when it announced none), weights,
        served cameras."""
        traffic_cams: dict[str, set[str]] = {}
        last_annotation: dict[str, float] = {}
        for (cam, model), at in self._traffic.items():
            last_annotation[model] = max(at, last_annotation.get(model, at))
            if now - at <= self.stale_after_s:
                traffic_cams.setdefault(model, set()).add(cam)
        beats = sorted(self._beats.values(), key=lambda s: (s.beat.service, s.beat.instance))
        out = []
        for name in self.model_names():
            instances = []
            cameras = set(traffic_cams.get(name, ()))
            weights = self._weights.get(name)
            for seen in beats:
                if name not in seen.beat.models:
                    continue
                metrics = seen.beat.models[name]
                fresh = now - seen.at <= self.stale_after_s
                instances.append({"service": seen.beat.service, "instance": seen.beat.instance,
                                  "state": seen.beat.state.value if fresh else "offline",
                                  "heartbeat_age_s": _round(now - seen.at), "metrics": metrics,
                                  "http_port": seen.beat.http_port})
                if fresh:
                    cameras.update(seen.beat.cameras)
                    weights = weights or (str(metrics["weights"]) if "weights" in metrics else None)
            live = [i for i in instances if i["state"] != "offline"]
            state = live[0]["state"] if live else ("offline" if instances else "unknown")
            if not live and name in traffic_cams:
                state = "ready"  # annotations flow although no heartbeat names it
            last = last_annotation.get(name)
            out.append({"name": name, "state": state, "weights": weights, "cameras": sorted(cameras),
                        "instances": instances, "configured": name in self._configured_models,
                        "annotation_age_s": _round(None if last is None else now - last)})
        return out

    # -- transitions ----------------------------------------------------------------------
    def changes(self, now: float) -> list[tuple[str, str, str]]:
        """``(what, old, new)`` for every camera/model whose state changed since the last call."""
        current = {f"camera {c['id']}": c["state"] for c in self.cameras(now)}
        current.update({f"model {m['name']}": m["state"] for m in self.models(now)})
        out = [(what, self._reported.get(what, "unknown"), state)
               for what, state in current.items() if self._reported.get(what, "unknown") != state]
        self._reported = current
        return out

    def forget_old(self, now: float) -> None:
        """Drop heartbeats and traffic unseen for :data:`FORGET_AFTER_S` (bounded memory)."""
        self._beats = {k: s for k, s in self._beats.items() if now - s.at <= FORGET_AFTER_S}
        self._traffic = {k: at for k, at in self._traffic.items() if now - at <= FORGET_AFTER_S}

    def snapshot(self, now: float) -> Snapshot:
        """Everything a ``status`` message may contain, computed once per tick."""
        return Snapshot(self.cameras(now), self.models(now))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Camera and model views at one instant; :meth:`status` filters them per client."""

    cameras: list[dict[str, Any]]
    models: list[dict[str, Any]]

    def status(self, cameras: frozenset[str] | None) -> dict[str, Any]:
        """Body of a ``status`` message for a client seeing ``cameras`` (None = all)."""
        cams = [c for c in self.cameras if cameras is None or c["id"] in cameras]
        seen = {m for c in cams for m in c["models"]}
        models = [m for m in self.models
                  if cameras is None or m["name"] in seen or not m["cameras"]
                  or any(c in cameras for c in m["cameras"])]
        return {
            "cameras": {c["id"]: {k: c[k] for k in ("state", "live", "fps", "models")} for c in cams},
            "models": {m["name"]: {"state": m["state"], "weights": m["weights"],
                                   "cameras": [c for c in m["cameras"] if cameras is None or c in cameras]}
                       for m in models},
        }
