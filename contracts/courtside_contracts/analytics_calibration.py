"""A camera's court calibration as stored: the clicked court points, version 1.

Stored as JSON in the JetStream key-value bucket :data:`~courtside_contracts.subjects.CALIBRATION_BUCKET`
under the camera id (so it survives restarts and is shared by replicas); the store's
revision of the key is the calibration's version. What is stored is what the operator
gave, the named court points and their pixels, not a solved matrix: every reader
solves it the same way (``courtside.court.calibration``), and a better solver
improves every stored calibration.

Units: ``points`` map a court point's name (one of ``courtside.court.calibration.COURT_POINTS``;
the names are checked by the solver, not here) to its pixel ``[u, v]`` in an image of
``width`` x ``height`` pixels, origin top-left; ``set_ns`` is when it was set (Unix ns).

``source`` (optional, omitted from the JSON when None) says where points that no operator
clicked came from, e.g. the projections of a camera known exactly (the demo court's); None
means the points were given as they are (clicked, or a points file).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from courtside_contracts.errors import ContractError
from courtside_contracts.names import InvalidName, validate_name

CALIBRATION_VERSION = 1
#: Most points in one calibration (the court model names 25).
MAX_POINTS = 64
MAX_POINT_NAME = 64
MAX_SOURCE = 200


def _finite_number(value: object) -> bool:
    """A finite int or float (not a bool); an int too large for a float is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


@dataclass(frozen=True, slots=True)
class CalibrationRecord:
    """Clicked court points of one camera (see the module docstring)."""

    camera: str
    width: int
    height: int
    points: Mapping[str, tuple[float, float]]
    set_ns: int
    version: int = CALIBRATION_VERSION
    source: str | None = None

    def __post_init__(self) -> None:
        try:
            validate_name(self.camera, "camera")
        except InvalidName as exc:
            raise ContractError(str(exc)) from None
        if self.version != CALIBRATION_VERSION:
            raise ContractError(f"calibration v must be {CALIBRATION_VERSION}, got {self.version!r:.20}")
        for name, value in (("width", self.width), ("height", self.height), ("set_ns", self.set_ns)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ContractError(f"calibration.{name} must be a positive integer, got {value!r:.40}")
        if not self.points or len(self.points) > MAX_POINTS:
            raise ContractError(f"calibration.points must have 1-{MAX_POINTS} entries, got {len(self.points)}")
        for name, uv in self.points.items():
            if not isinstance(name, str) or not 0 < len(name) <= MAX_POINT_NAME:
                raise ContractError(f"calibration.points: a point name must be 1-{MAX_POINT_NAME} characters")
            if len(uv) != 2 or not all(_finite_number(c) for c in uv):
                raise ContractError(f"calibration.points[{name!r}] must be [u, v], two finite numbers")
        if self.source is not None and (not isinstance(self.source, str) or not 0 < len(self.source) <= MAX_SOURCE
                                        or not self.source.isprintable()):
            raise ContractError(f"calibration.source must be 1-{MAX_SOURCE} printable characters or absent")

    def to_json(self) -> bytes:
        data: dict[str, object] = {
            "v": self.version, "camera": self.camera, "width": self.width, "height": self.height,
            "points": {n: [round(float(u), 3), round(float(v), 3)] for n, (u, v) in self.points.items()},
            "set_ns": self.set_ns}
        if self.source is not None:
            data["source"] = self.source
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, payload: bytes | str) -> CalibrationRecord:
        """Parse a stored record; :class:`ContractError` names what is wrong."""
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ContractError(f"calibration is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ContractError("calibration must be a JSON object")
        raw_points = data.get("points")
        if not isinstance(raw_points, dict):
            raise ContractError("calibration.points must be an object of name: [u, v]")
        points: dict[str, tuple[float, float]] = {}
        for name, uv in raw_points.items():
            if not isinstance(uv, list) or len(uv) != 2:
                raise ContractError(f"calibration.points[{name!r:.70}] must be [u, v]")
            points[name] = (uv[0], uv[1])
        camera = data.get("camera")
        if not isinstance(camera, str):
            raise ContractError("calibration.camera must be a string")
        # The raw values go to the dataclass, whose __post_init__ checks each one.
        return cls(camera, data.get("width", 0), data.get("height", 0), points, data.get("set_ns", 0), data.get("v", 0),
                   data.get("source"))
