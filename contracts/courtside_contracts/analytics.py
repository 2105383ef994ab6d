"""The analytics message on ``analytics.<camera>``: one frame of court analytics, version 1.

The analytics service publishes one message per analysed frame of a camera (joined
by ``seq`` and ``ts`` to the frame and its annotations). Units:

- positions are **court metres** of :mod:`courtside.court.model`'s frame: ``x``
  across the court (-5..5), ``y`` along it (0 = the near back wall, 20 = the far
  one, net at 10), ``z`` up from the floor;
- speeds in metres per second, distances in metres, durations in seconds;
- ``ts`` and every ``*_ts`` are wall-clock capture times in Unix **nanoseconds**
  (the frame's ``Cs-Ts``), ``seq`` the frame's sequence number.

What is known depends on the camera's calibration (``calibration.kind``): with a
floor homography only (``floor``), players are on the floor and the ball is the
point where its sight line meets the floor (``ball.z`` null, ``speed_kind``
``court_plane``: the speed of that floor point, a court-plane figure and not the
ball's 3D speed, nor a bound of it either way: a ball in the air moves its floor
point at another speed, faster for a ball flying level (by the camera's height over
its height above the ball), slower or not at all when its climb and its travel
towards the camera cancel; it is the ball's own speed only for a ball on the floor);
with the camera pose (``pose``) the ball is placed in 3D from its flight
(``speed_kind`` ``3d``, with ``speed_error_mps`` its one-sigma band) and bounces and rallies
are found, and hits (a player's racket on the ball, the serve included; ``hits``,
absent from the JSON when there are none, so readers of the first form of version 1
ignore it). The ball is the best estimate *at this frame*; bounces, hits and finished
rallies are reported in the message of the frame where they were settled (a few
frames later) and carry their own ``seq``/``ts``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from courtside_contracts.annotations import _int, _mapping
from courtside_contracts.errors import ContractError
from courtside_contracts.names import InvalidName, validate_name

ANALYTICS_VERSION = 1
#: Calibration kinds: a floor homography, or the full camera pose.
CALIBRATION_KINDS: tuple[str, ...] = ("floor", "pose")
#: ``speed_kind`` of the ball: 3D speed (pose known), or the speed of its floor point (homography only).
SPEED_KINDS: tuple[str, ...] = ("3d", "court_plane")
#: The side of the net a player is on: near (y < 10) or far.
SIDES: tuple[str, ...] = ("near", "far")
#: Court zones by distance from the net: net (< 3.5 m), transition (< 6.95 m, the service line), back.
ZONES: tuple[str, ...] = ("net", "transition", "back")
#: What a bounce touched.
SURFACES: tuple[str, ...] = ("floor", "glass", "mesh", "net")
#: Why a rally ended.
RALLY_END_REASONS: tuple[str, ...] = ("net", "double bounce", "out", "ball lost")
#: Bounds on list lengths, so a broken sender cannot flood clients.
MAX_PLAYERS = 32
MAX_BOUNCES = 64
MAX_HITS = 16


def _num(value: Any, where: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ContractError(f"{where} must be a finite number, got {value!r:.40}")
    if minimum is not None and value < minimum:
        raise ContractError(f"{where} must be >= {minimum}, got {value}")
    return float(value)


def _opt_num(value: Any, where: str, minimum: float | None = None) -> float | None:
    return None if value is None else _num(value, where, minimum)


def _choice(value: Any, where: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ContractError(f"{where} must be one of {', '.join(options)}, got {value!r:.40}")
    return value


def _list(value: Any, where: str, limit: int) -> Sequence[Any]:
    if not isinstance(value, list):
        raise ContractError(f"{where} must be an array")
    if len(value) > limit:
        raise ContractError(f"{where} has {len(value)} entries, limit {limit}")
    return value


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _check_event(where: str, seq: Any, ts: Any, xyz: tuple[Any, Any, Any]) -> None:
    """The fields every event of a frame has (a bounce, a hit): ``seq``, capture ``ts`` (ns), ``x, y, z`` metres."""
    _int(seq, f"{where}.seq")
    _int(ts, f"{where}.ts")
    for axis, value in zip("xyz", xyz, strict=True):
        _num(value, f"{where}.{axis}")


@dataclass(frozen=True, slots=True)
class CalibrationInfo:
    """Which calibration placed this frame: its store ``revision``, ``kind``, mean reprojection error (pixels)."""

    revision: int
    kind: str
    reprojection_px: float

    def __post_init__(self) -> None:
        _int(self.revision, "calibration.revision", 1)
        _choice(self.kind, "calibration.kind", CALIBRATION_KINDS)
        _num(self.reprojection_px, "calibration.reprojection_px", 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "kind": self.kind, "reprojection_px": round(self.reprojection_px, 3)}

    @classmethod
    def from_dict(cls, raw: Any) -> CalibrationInfo:
        data = _mapping(raw, "calibration")
        return cls(_int(data.get("revision"), "calibration.revision", 1),
                   _choice(data.get("kind"), "calibration.kind", CALIBRATION_KINDS),
                   _num(data.get("reprojection_px"), "calibration.reprojection_px", 0.0))


@dataclass(frozen=True, slots=True)
class PlayerState:
    """One player at this frame: ``track_id``, ``side``, floor position ``x``, ``y`` metres,
    ``speed_mps`` (m/s, over the last step), ``distance_m`` run since first seen (metres; detection
    jumps not counted), ``zone`` now and ``zone_s`` seconds spent in each zone."""

    track_id: int
    side: str
    x: float
    y: float
    speed_mps: float
    distance_m: float
    zone: str
    zone_s: Mapping[str, float]

    def __post_init__(self) -> None:
        _int(self.track_id, "players[].track_id")
        _choice(self.side, "players[].side", SIDES)
        _num(self.x, "players[].x")
        _num(self.y, "players[].y")
        _num(self.speed_mps, "players[].speed_mps", 0.0)
        _num(self.distance_m, "players[].distance_m", 0.0)
        _choice(self.zone, "players[].zone", ZONES)
        if set(self.zone_s) != set(ZONES):
            raise ContractError(f"players[].zone_s must have exactly the keys {', '.join(ZONES)}")
        for zone, seconds in self.zone_s.items():
            _num(seconds, f"players[].zone_s.{zone}", 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"track_id": self.track_id, "side": self.side, "x": round(self.x, 3), "y": round(self.y, 3),
                "speed_mps": round(self.speed_mps, 3), "distance_m": round(self.distance_m, 3),
                "zone": self.zone, "zone_s": {z: round(self.zone_s[z], 3) for z in ZONES}}

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> PlayerState:
        data = _mapping(raw, where)
        zone_s = _mapping(data.get("zone_s"), f"{where}.zone_s")
        return cls(_int(data.get("track_id"), f"{where}.track_id"),
                   _choice(data.get("side"), f"{where}.side", SIDES),
                   _num(data.get("x"), f"{where}.x"), _num(data.get("y"), f"{where}.y"),
                   _num(data.get("speed_mps"), f"{where}.speed_mps", 0.0),
                   _num(data.get("distance_m"), f"{where}.distance_m", 0.0),
                   _choice(data.get("zone"), f"{where}.zone", ZONES),
                   {str(k): _num(v, f"{where}.zone_s.{k}", 0.0) for k, v in zone_s.items()})


@dataclass(frozen=True, slots=True)
class BallState:
    """The ball at this frame, court metres (``z`` None with a floor homography only).

    ``speed_mps`` m/s (None until two placed frames, and for a ball held in a hand); ``speed_error_mps``
    its one-sigma band (m/s, from the flight fit's covariance along the velocity: the true speed lies
    within ``speed_mps`` +- ``speed_error_mps`` about two times in three; None when unknown, always None
    for ``court_plane``, whose speed is its floor point's, not a bound of the 3D speed);
    ``speed_kind`` one of :data:`SPEED_KINDS`.
    """

    x: float
    y: float
    z: float | None
    speed_mps: float | None
    speed_error_mps: float | None
    speed_kind: str

    def __post_init__(self) -> None:
        _num(self.x, "ball.x")
        _num(self.y, "ball.y")
        _opt_num(self.z, "ball.z")
        _opt_num(self.speed_mps, "ball.speed_mps", 0.0)
        _opt_num(self.speed_error_mps, "ball.speed_error_mps", 0.0)
        _choice(self.speed_kind, "ball.speed_kind", SPEED_KINDS)
        if self.speed_kind == "court_plane" and (self.z is not None or self.speed_error_mps is not None):
            raise ContractError("ball: a court_plane ball has no z and no speed_error_mps")

    def to_dict(self) -> dict[str, Any]:
        return {"x": round(self.x, 3), "y": round(self.y, 3), "z": _r(self.z), "speed_mps": _r(self.speed_mps, 2),
                "speed_error_mps": _r(self.speed_error_mps, 2), "speed_kind": self.speed_kind}

    @classmethod
    def from_dict(cls, raw: Any) -> BallState:
        data = _mapping(raw, "ball")
        return cls(_num(data.get("x"), "ball.x"), _num(data.get("y"), "ball.y"), _opt_num(data.get("z"), "ball.z"),
                   _opt_num(data.get("speed_mps"), "ball.speed_mps", 0.0),
                   _opt_num(data.get("speed_error_mps"), "ball.speed_error_mps", 0.0),
                   _choice(data.get("speed_kind"), "ball.speed_kind", SPEED_KINDS))


@dataclass(frozen=True, slots=True)
class BounceEvent:
    """A contact of the ball with ``surface`` at frame ``seq`` (capture ``ts`` ns), at ``x, y, z`` metres."""

    seq: int
    ts: int
    x: float
    y: float
    z: float
    surface: str

    def __post_init__(self) -> None:
        _check_event("bounces[]", self.seq, self.ts, (self.x, self.y, self.z))
        _choice(self.surface, "bounces[].surface", SURFACES)

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "x": round(self.x, 3), "y": round(self.y, 3),
                "z": round(self.z, 3), "surface": self.surface}

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> BounceEvent:
        data = _mapping(raw, where)
        return cls(_int(data.get("seq"), f"{where}.seq"), _int(data.get("ts"), f"{where}.ts"),
                   _num(data.get("x"), f"{where}.x"), _num(data.get("y"), f"{where}.y"),
                   _num(data.get("z"), f"{where}.z"), _choice(data.get("surface"), f"{where}.surface", SURFACES))


@dataclass(frozen=True, slots=True)
class HitEvent:
    """A hit of the ball by player ``track_id`` (on ``side``) at frame ``seq`` (capture ``ts`` ns), the ball
    at ``x, y, z`` metres."""

    seq: int
    ts: int
    track_id: int
    side: str
    x: float
    y: float
    z: float

    def __post_init__(self) -> None:
        _check_event("hits[]", self.seq, self.ts, (self.x, self.y, self.z))
        _int(self.track_id, "hits[].track_id")
        _choice(self.side, "hits[].side", SIDES)

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "track_id": self.track_id, "side": self.side,
                "x": round(self.x, 3), "y": round(self.y, 3), "z": round(self.z, 3)}

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> HitEvent:
        data = _mapping(raw, where)
        return cls(_int(data.get("seq"), f"{where}.seq"), _int(data.get("ts"), f"{where}.ts"),
                   _int(data.get("track_id"), f"{where}.track_id"), _choice(data.get("side"), f"{where}.side", SIDES),
                   _num(data.get("x"), f"{where}.x"), _num(data.get("y"), f"{where}.y"),
                   _num(data.get("z"), f"{where}.z"))


@dataclass(frozen=True, slots=True)
class RallyState:
    """The rally in play, if any: ``active``, its ``start_ts`` (ns; None when not active) and ``shots`` so far."""

    active: bool
    start_ts: int | None
    shots: int

    def __post_init__(self) -> None:
        if not isinstance(self.active, bool):
            raise ContractError("rally.active must be true or false")
        if self.active != (self.start_ts is not None):
            raise ContractError("rally.start_ts is set exactly when rally.active is true")
        if self.start_ts is not None:
            _int(self.start_ts, "rally.start_ts")
        _int(self.shots, "rally.shots")

    def to_dict(self) -> dict[str, Any]:
        return {"active": self.active, "start_ts": self.start_ts, "shots": self.shots}

    @classmethod
    def from_dict(cls, raw: Any) -> RallyState:
        data = _mapping(raw, "rally")
        start = data.get("start_ts")
        active = data.get("active")
        if not isinstance(active, bool):
            raise ContractError("rally.active must be true or false")
        return cls(active, None if start is None else _int(start, "rally.start_ts"), _int(data.get("shots"), "rally.shots"))


@dataclass(frozen=True, slots=True)
class RallyStats:
    """A finished rally: ``start_ts``/``end_ts`` ns, ``shots`` (the serve included), ``fastest_mps``
    the fastest ball seen (m/s), ``reason`` it ended (:data:`RALLY_END_REASONS`). Invariant: start < end."""

    start_ts: int
    end_ts: int
    shots: int
    fastest_mps: float
    reason: str

    def __post_init__(self) -> None:
        _int(self.start_ts, "finished_rally.start_ts")
        if _int(self.end_ts, "finished_rally.end_ts") <= self.start_ts:
            raise ContractError("finished_rally.end_ts must be after start_ts")
        _int(self.shots, "finished_rally.shots")
        _num(self.fastest_mps, "finished_rally.fastest_mps", 0.0)
        _choice(self.reason, "finished_rally.reason", RALLY_END_REASONS)

    @property
    def duration_s(self) -> float:
        return (self.end_ts - self.start_ts) / 1e9

    def to_dict(self) -> dict[str, Any]:
        return {"start_ts": self.start_ts, "end_ts": self.end_ts, "duration_s": round(self.duration_s, 3),
                "shots": self.shots, "fastest_mps": round(self.fastest_mps, 2), "reason": self.reason}

    @classmethod
    def from_dict(cls, raw: Any) -> RallyStats:
        data = _mapping(raw, "finished_rally")
        return cls(_int(data.get("start_ts"), "finished_rally.start_ts"),
                   _int(data.get("end_ts"), "finished_rally.end_ts"),
                   _int(data.get("shots"), "finished_rally.shots"),
                   _num(data.get("fastest_mps"), "finished_rally.fastest_mps", 0.0),
                   _choice(data.get("reason"), "finished_rally.reason", RALLY_END_REASONS))


@dataclass(frozen=True, slots=True)
class AnalyticsMessage:
    """One frame's analytics (the JSON payload of ``analytics.<camera>``); see the module docstring.

    ``rally`` is None without a camera pose (rallies need the ball in 3D); ``finished_rally`` is
    set on the message where a rally ended; ``hits`` (pose only) those settled at this message.
    """

    camera: str
    seq: int
    ts: int
    calibration: CalibrationInfo
    players: tuple[PlayerState, ...] = ()
    ball: BallState | None = None
    bounces: tuple[BounceEvent, ...] = ()
    rally: RallyState | None = None
    finished_rally: RallyStats | None = None
    hits: tuple[HitEvent, ...] = ()
    version: int = ANALYTICS_VERSION

    def __post_init__(self) -> None:
        try:
            validate_name(self.camera, "camera")
        except InvalidName as exc:
            raise ContractError(str(exc)) from None
        if self.version != ANALYTICS_VERSION:
            raise ContractError(f"v must be {ANALYTICS_VERSION}, got {self.version!r:.20}")
        _int(self.seq, "seq")
        _int(self.ts, "ts")
        if len(self.players) > MAX_PLAYERS or len(self.bounces) > MAX_BOUNCES:
            raise ContractError(f"at most {MAX_PLAYERS} players and {MAX_BOUNCES} bounces per message")
        if len(self.hits) > MAX_HITS:
            raise ContractError(f"hits has {len(self.hits)} entries, limit {MAX_HITS}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": self.version, "camera": self.camera, "seq": self.seq, "ts": self.ts,
            "calibration": self.calibration.to_dict(),
            "players": [p.to_dict() for p in self.players],
            "ball": None if self.ball is None else self.ball.to_dict(),
            "bounces": [b.to_dict() for b in self.bounces],
            "rally": None if self.rally is None else self.rally.to_dict(),
            "finished_rally": None if self.finished_rally is None else self.finished_rally.to_dict(),
        }
        if self.hits:
            out["hits"] = [h.to_dict() for h in self.hits]
        return out

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, the wire form."""
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, raw: Any) -> AnalyticsMessage:
        data = _mapping(raw, "analytics")
        version = data.get("v")
        if version != ANALYTICS_VERSION or isinstance(version, bool):
            raise ContractError(f"v must be {ANALYTICS_VERSION}, got {version!r:.20}")
        camera = data.get("camera")
        try:
            validate_name(camera, "camera")
        except InvalidName as exc:
            raise ContractError(str(exc)) from None
        players = _list(data.get("players", []), "players", MAX_PLAYERS)
        bounces = _list(data.get("bounces", []), "bounces", MAX_BOUNCES)
        hits = _list(data.get("hits", []), "hits", MAX_HITS)
        ball, rally, finished = data.get("ball"), data.get("rally"), data.get("finished_rally")
        return cls(
            camera=str(camera), seq=_int(data.get("seq"), "seq"), ts=_int(data.get("ts"), "ts"),
            calibration=CalibrationInfo.from_dict(data.get("calibration")),
            players=tuple(PlayerState.from_dict(p, f"players[{i}]") for i, p in enumerate(players)),
            ball=None if ball is None else BallState.from_dict(ball),
            bounces=tuple(BounceEvent.from_dict(b, f"bounces[{i}]") for i, b in enumerate(bounces)),
            rally=None if rally is None else RallyState.from_dict(rally),
            finished_rally=None if finished is None else RallyStats.from_dict(finished),
            hits=tuple(HitEvent.from_dict(h, f"hits[{i}]") for i, h in enumerate(hits)),
        )

    @classmethod
    def from_json(cls, payload: bytes | str) -> AnalyticsMessage:
        """Parse wire JSON; raise :class:`ContractError` for anything malformed."""
        try:
            raw = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ContractError(f"analytics message is not valid JSON: {exc}") from None
        return cls.from_dict(raw)

