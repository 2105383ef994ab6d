"""A pinhole camera with optional radial distortion: world metres -> image pixels.

Conventions (OpenCV's): camera frame x right, y down, z forward (depth); pixels
(u, v) with the origin at the top-left corner of the top-left pixel... centre at
(0.5, 0.5) is *not* used: (u, v) = (0, 0) is the top-left pixel's centre, as in
``cv2.projectPoints``. Distortion is Brown's radial model on normalised
coordinates: ``r' = r (1 + k1 r^2 + k2 r^4)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
#: Points nearer than this to the camera plane (metres) do not project.
NEAR_M = 0.05


@dataclass(frozen=True, slots=True)
class Intrinsics:
    """Focal lengths and principal point in pixels, for an image ``width`` x ``height``."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    k1: float = 0.0
    k2: float = 0.0

    @classmethod
    def from_hfov(cls, width: int, height: int, hfov_deg: float, k1: float = 0.0, k2: float = 0.0) -> Intrinsics:
        """Square pixels, centred principal point, horizontal field of view ``hfov_deg`` degrees."""
        f = (width / 2) / math.tan(math.radians(hfov_deg) / 2)
        return cls(width, height, f, f, (width - 1) / 2, (height - 1) / 2, k1, k2)

    def scaled(self, width: int, height: int) -> Intrinsics:
        """The same lens for an image resized to ``width`` x ``height``."""
        sx, sy = width / self.width, height / self.height
        return replace(self, width=width, height=height, fx=self.fx * sx, fy=self.fy * sy,
                       cx=(self.cx + 0.5) * sx - 0.5, cy=(self.cy + 0.5) * sy - 0.5)


@dataclass(frozen=True, slots=True)
class Pose:
    """World -> camera: ``p_cam = rotation @ p_world + translation`` (metres)."""

    rotation: FloatArray
    translation: FloatArray

    @classmethod
    def look_at(cls, position: tuple[float, float, float], target: tuple[float, float, float],
                roll_deg: float = 0.0) -> Pose:
        """A camera at ``position`` looking at ``target`` with the world's z up (rolled by ``roll_deg``)."""
        pos = np.asarray(position, np.float64)
        forward = np.asarray(target, np.float64) - pos
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, np.array([0.0, 0.0, 1.0]))
        norm = np.linalg.norm(right)
        if norm < 1e-9:
            raise ValueError("look_at: the camera looks straight up or down; the roll is undefined")
        right /= norm
        down = np.cross(forward, right)
        roll = math.radians(roll_deg)
        right, down = (math.cos(roll) * right + math.sin(roll) * down,
                       -math.sin(roll) * right + math.cos(roll) * down)
        rotation = np.stack([right, down, forward])
        return cls(rotation, -rotation @ pos)

    @property
    def position(self) -> FloatArray:
        """The camera centre in world metres."""
        return np.asarray(-self.rotation.T @ self.translation, np.float64)


@dataclass(frozen=True, slots=True)
class Camera:
    """Intrinsics and pose: :meth:`project` maps world points to pixels."""

    intrinsics: Intrinsics
    pose: Pose

    @property
    def width(self) -> int:
        return self.intrinsics.width

    @property
    def height(self) -> int:
        return self.intrinsics.height

    def scaled(self, width: int, height: int) -> Camera:
        return Camera(self.intrinsics.scaled(width, height), self.pose)

    def to_camera(self, points: npt.ArrayLike) -> FloatArray:
        """World points (N, 3) -> camera-frame points (N, 3), metres."""
        pts = np.asarray(points, np.float64).reshape(-1, 3)
        return np.asarray(pts @ self.pose.rotation.T + self.pose.translation, np.float64)

    def project(self, points: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """World points (N, 3) metres -> pixels (N, 2) and depth (N,) metres.

        Points with depth below :data:`NEAR_M` get NaN pixels (behind the camera).
        """
        cam = self.to_camera(points)
        depth = cam[:, 2]
        safe = np.where(depth > NEAR_M, depth, np.nan)
        xn, yn = cam[:, 0] / safe, cam[:, 1] / safe
        k = self.intrinsics
        if k.k1 or k.k2:
            r2 = xn * xn + yn * yn
            factor = 1 + k.k1 * r2 + k.k2 * r2 * r2
            xn, yn = xn * factor, yn * factor
        uv = np.stack([k.fx * xn + k.cx, k.fy * yn + k.cy], axis=1)
        return uv, depth

    def project_point(self, x: float, y: float, z: float = 0.0) -> tuple[float, float, float]:
        """One world point -> (u, v, depth); u, v are NaN behind the camera."""
        uv, depth = self.project([(x, y, z)])
        return float(uv[0, 0]), float(uv[0, 1]), float(depth[0])

    def pixels_per_metre(self, depth: float) -> float:
        """How many pixels one metre spans (across the view) at ``depth`` metres, ignoring distortion."""
        return self.intrinsics.fx / max(depth, NEAR_M)

    def in_view(self, uv: FloatArray, margin: float = 0.0) -> npt.NDArray[np.bool_]:
        """Which pixels (N, 2) fall inside the image (``margin`` pixels inward)."""
        u, v = uv[:, 0], uv[:, 1]
        with np.errstate(invalid="ignore"):
            return np.asarray((u >= -0.5 + margin) & (u <= self.width - 0.5 - margin)
                              & (v >= -0.5 + margin) & (v <= self.height - 0.5 - margin), np.bool_)


def broadcast_camera(width: int, height: int, *, position: tuple[float, float, float] = (0.0, -5.0, 6.0),
                     target: tuple[float, float, float] = (0.0, 9.5, 0.0), hfov_deg: float = 62.0,
                     roll_deg: float = 0.0, k1: float = 0.0) -> Camera:
    """The usual padel view: behind and above the near back wall, looking along the court."""
    return Camera(Intrinsics.from_hfov(width, height, hfov_deg, k1), Pose.look_at(position, target, roll_deg))
