"""The annotation message: one model's results for one frame of one camera.

Coordinates are **pixels of the published frame** (``frame.w`` x ``frame.h``),
origin top-left; ``ts`` is the frame's capture time in Unix nanoseconds, copied
from the frame so that every annotation can be joined to its frame by
``(camera, seq)``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from courtside_contracts.errors import ContractError
from courtside_contracts.names import InvalidName, validate_name

Weights = Literal["trained", "untrained"]
WEIGHTS_STATES: frozenset[str] = frozenset({"trained", "untrained"})

#: Upper bound on objects per annotation: a model gone wild cannot flood clients.
MAX_OBJECTS = 1000
#: Longest ``trained_on`` text accepted (characters).
MAX_TRAINED_ON = 200


def _num(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ContractError(f"{where} must be a number, got {value!r:.40}")
    if not math.isfinite(value):
        raise ContractError(f"{where} must be finite, got {value!r}")
    return float(value)


def _int(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ContractError(f"{where} must be an integer, got {value!r:.40}")
    if value < minimum:
        raise ContractError(f"{where} must be >= {minimum}, got {value}")
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ContractError(f"{where} must be an object")
    return value


def _sequence(value: Any, where: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ContractError(f"{where} must be an array")
    return value


def _name(value: Any, kind: str) -> str:
    try:
        return validate_name(value, kind)
    except InvalidName as exc:
        raise ContractError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class DetectedObject:
    """One detection: a box in frame pixels, optionally a track id and keypoints."""

    label: str
    class_id: int
    score: float
    box: tuple[float, float, float, float]
    track_id: int | None = None
    keypoints: tuple[tuple[float, float, float], ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label,
            "class_id": self.class_id,
            "score": round(self.score, 5),
            "box": [round(v, 2) for v in self.box],
        }
        if self.track_id is not None:
            out["track_id"] = self.track_id
        if self.keypoints is not None:
            out["keypoints"] = [[round(x, 2), round(y, 2), round(s, 4)] for x, y, s in self.keypoints]
        return out

    @classmethod
    def from_dict(cls, raw: Any, where: str = "object") -> DetectedObject:
        data = _mapping(raw, where)
        label = data.get("label")
        if not isinstance(label, str) or not label or len(label) > 64:
            raise ContractError(f"{where}.label must be a string of 1-64 characters")
        box_raw = _sequence(data.get("box"), f"{where}.box")
        if len(box_raw) != 4:
            raise ContractError(f"{where}.box must have 4 numbers [x1, y1, x2, y2]")
        box = tuple(_num(v, f"{where}.box") for v in box_raw)
        if box[2] < box[0] or box[3] < box[1]:
            raise ContractError(f"{where}.box must satisfy x1 <= x2 and y1 <= y2")
        track = data.get("track_id")
        kps_raw = data.get("keypoints")
        keypoints = None
        if kps_raw is not None:
            keypoints = []
            for i, kp in enumerate(_sequence(kps_raw, f"{where}.keypoints")):
                point = _sequence(kp, f"{where}.keypoints[{i}]")
                if len(point) != 3:
                    raise ContractError(f"{where}.keypoints[{i}] must be [x, y, score]")
                keypoints.append(tuple(_num(v, f"{where}.keypoints[{i}]") for v in point))
        return cls(
            label=label,
            class_id=_int(data.get("class_id"), f"{where}.class_id"),
            score=_num(data.get("score"), f"{where}.score"),
            box=box,  # type: ignore[arg-type]
            track_id=None if track is None else _int(track, f"{where}.track_id"),
            keypoints=None if keypoints is None else tuple(keypoints),  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class Ball:
    """Ball position in frame pixels; ``visible`` False means the tracker lost it."""

    x: float
    y: float
    score: float
    visible: bool

    def to_dict(self) -> dict[str, Any]:
        return {"x": round(self.x, 2), "y": round(self.y, 2), "score": round(self.score, 4),
                "visible": self.visible}

    @classmethod
    def from_dict(cls, raw: Any) -> Ball:
        data = _mapping(raw, "ball")
        visible = data.get("visible")
        if not isinstance(visible, bool):
            raise ContractError("ball.visible must be true or false")
        return cls(_num(data.get("x"), "ball.x"), _num(data.get("y"), "ball.y"),
                   _num(data.get("score"), "ball.score"), visible)


@dataclass(frozen=True, slots=True)
class Latency:
    """Milliseconds: waiting in the consumer, in the model, and capture -> publish."""

    queue: float
    infer: float
    total: float

    def to_dict(self) -> dict[str, float]:
        return {"queue": round(self.queue, 3), "infer": round(self.infer, 3),
                "total": round(self.total, 3)}


@dataclass(frozen=True, slots=True)
class Annotation:
    """One model's output for one frame (the JSON payload of ``annotations.<cam>.<model>``)."""

    camera: str
    seq: int
    ts: int
    model: str
    model_version: str
    weights: Weights
    frame_w: int
    frame_h: int
    latency: Latency
    objects: tuple[DetectedObject, ...] = field(default_factory=tuple)
    ball: Ball | None = None
    #: What the weights were trained on, when the backend knows it ("COCO 2017 train", "synthetic
    #: court (courtside.sim v1)"); absent when unknown or untrained. At most 200 characters.
    trained_on: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "camera": self.camera,
            "seq": self.seq,
            "ts": self.ts,
            "model": self.model,
            "model_version": self.model_version,
            "weights": self.weights,
            "frame": {"w": self.frame_w, "h": self.frame_h},
            "latency_ms": self.latency.to_dict(),
            "objects": [o.to_dict() for o in self.objects],
        }
        if self.ball is not None:
            out["ball"] = self.ball.to_dict()
        if self.trained_on is not None:
            out["trained_on"] = self.trained_on
        return out

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, the wire form."""
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, raw: Any) -> Annotation:
        data = _mapping(raw, "annotation")
        weights = data.get("weights")
        if weights not in WEIGHTS_STATES:
            raise ContractError("weights must be 'trained' or 'untrained'")
        frame = _mapping(data.get("frame"), "frame")
        lat = _mapping(data.get("latency_ms"), "latency_ms")
        objects_raw = _sequence(data.get("objects", []), "objects")
        if len(objects_raw) > MAX_OBJECTS:
            raise ContractError(f"objects has {len(objects_raw)} entries, limit {MAX_OBJECTS}")
        version = data.get("model_version")
        if not isinstance(version, str):
            raise ContractError("model_version must be a string")
        ball_raw = data.get("ball")
        trained_on = data.get("trained_on")
        if trained_on is not None and not (isinstance(trained_on, str) and 0 < len(trained_on) <= MAX_TRAINED_ON):
            raise ContractError(f"trained_on must be a string of 1-{MAX_TRAINED_ON} characters")
        return cls(
            camera=_name(data.get("camera"), "camera"),
            seq=_int(data.get("seq"), "seq"),
            ts=_int(data.get("ts"), "ts"),
            model=_name(data.get("model"), "model"),
            model_version=version,
            weights=weights,
            frame_w=_int(frame.get("w"), "frame.w", 1),
            frame_h=_int(frame.get("h"), "frame.h", 1),
            latency=Latency(_num(lat.get("queue"), "latency_ms.queue"),
                            _num(lat.get("infer"), "latency_ms.infer"),
                            _num(lat.get("total"), "latency_ms.total")),
            objects=tuple(DetectedObject.from_dict(o, f"objects[{i}]")
                          for i, o in enumerate(objects_raw)),
            ball=None if ball_raw is None else Ball.from_dict(ball_raw),
            trained_on=trained_on,
        )

    @classmethod
    def from_json(cls, payload: bytes | str) -> Annotation:
        """Parse wire JSON; raise :class:`ContractError` for anything malformed."""
        try:
            raw = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContractError(f"annotation is not valid JSON: {exc}") from None
        return cls.from_dict(raw)
