"""Automatic calibration: the court model's camera fitted to the court's lines in an image.

Two masks are found (:func:`line_mask`, :func:`edge_mask`): the centre ridges of thin
bright unsaturated structures (the painted lines and the net tape: a white top-hat of
the grey image, so logos and glass, wider than the kernel, drop out) and of thin dark
ones (the enclosure's frames, among them the floor's edge under the walls, where the
side and back lines lie hidden under a broadcast view). The model is sampled every
:data:`SAMPLE_STEP_M` metres: the service and centre lines and the net tape
(:data:`FITTED_LINES`) against the bright mask, every wall panel's edges against the
dark one. For a camera the residuals are, in pixels and truncated at
:data:`TRUNCATE_PX`, each model sample's distance to the nearest ridge pixel (a
distance transform), each bright ridge pixel's distance to the projected model (this
pins the lines' ends, which the first term alone leaves free), and each frame
sample's distance to a dark ridge. ``scipy.optimize.least_squares`` with a robust
loss moves the camera: rotation vector, centre (metres), horizontal field of view
(degrees) and radial ``k1``.

:func:`fit_lines` refines a rough start (the last calibration, a manual solve), at
half then full resolution. :func:`search_lines` starts from none: a grid of plausible
broadcast cameras (behind and above the near back glass, looking along the court) is
scored cheaply at a quarter of the resolution, and the best few distinct ones are
refined. Pure: numpy, cv2 and scipy; no I/O. Pixels are those of the given image
(origin top-left, OpenCV's convention as in :mod:`courtside.court.camera`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from scipy import ndimage, optimize

from courtside.court import model as court
from courtside.court.camera import Camera, FloatArray, Intrinsics, Pose

Image = npt.NDArray[np.uint8]
#: Spacing of the model samples along each line (metres).
SAMPLE_STEP_M = 0.25
#: Residuals are capped here (pixels at full resolution): a model point far from every line costs the same.
TRUNCATE_PX = 25.0
#: The robust loss's scale (pixels): residuals below it count as squares, above it about linearly.
LOSS_SCALE_PX = 2.0
#: The field of view the fit may use (degrees, horizontal) and the radial distortion range.
HFOV_RANGE = (30.0, 110.0)
K1_RANGE = (-0.4, 0.2)


class LineFitError(ValueError):
    """No court lines, or no camera that fits them; the message says which."""


#: The white lines a broadcast camera sees: the back and side lines lie under the walls' frames.
FITTED_LINES = ("near service line", "far service line", "centre service line")
#: Detected line pixels used for the image-to-model term (a random subsample, fixed seed).
MAX_IMAGE_POINTS = 300
#: Weight of the image-to-model residuals (they pin the lines' ends, which model-to-image alone leaves free).
BACK_WEIGHT = 0.5


def model_lines() -> list[FloatArray]:
    """World polylines (each (n, 3) metres, samples every :data:`SAMPLE_STEP_M`): the fitted lines and the net tape."""
    pts: list[FloatArray] = []
    for seg in court.lines():
        if seg.name not in FITTED_LINES:
            continue
        a, b = np.asarray(seg.a), np.asarray(seg.b)
        n = max(2, math.ceil(float(np.linalg.norm(b - a)) / SAMPLE_STEP_M) + 1)
        s = np.linspace(0.0, 1.0, n)[:, None]
        xy = a + (b - a) * s
        pts.append(np.column_stack([xy, np.zeros(n)]))
    xs = np.linspace(-court.HALF_WIDTH_M, court.HALF_WIDTH_M, int(court.WIDTH_M / SAMPLE_STEP_M) + 1)
    pts.append(np.column_stack([xs, np.full_like(xs, court.NET_Y_M), [court.net_height(float(x)) for x in xs]]))
    return pts


def model_edges() -> FloatArray:
    """World points (N, 3) metres along the enclosure's frame: every wall panel's edges (the floor's
    edge under the walls among them, where the turf ends), every :data:`SAMPLE_STEP_M`."""
    pts: list[FloatArray] = []
    for panel in court.walls():
        corners = np.asarray(panel.corners(), np.float64)
        for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True):
            n = max(2, math.ceil(float(np.linalg.norm(b - a)) / SAMPLE_STEP_M) + 1)
            pts.append(a + (b - a) * np.linspace(0.0, 1.0, n)[:, None])
    return np.unique(np.round(np.vstack(pts), 3), axis=0)


_LINES = model_lines()
_MODEL = np.vstack(_LINES)
_EDGES = model_edges()
#: Weight of the floor-edge residuals against the white lines'.
EDGE_WEIGHT = 0.5
#: Index pairs (start, end) into _MODEL of consecutive samples of one polyline: the projected model's segments.
#: (Every :data:`SEGMENT_EVERY` samples: the lines are straight, so only lens distortion bends them between.)
SEGMENT_EVERY = 3
_SEGS = np.array([(o + i, o + min(i + SEGMENT_EVERY, n - 1))
                  for o, n in zip(np.cumsum([0] + [len(p) for p in _LINES[:-1]]), [len(p) for p in _LINES], strict=True)
                  for i in range(0, n - 1, SEGMENT_EVERY)])


def _ridges(gray: npt.NDArray[np.uint8], keep: npt.NDArray[np.bool_], *, bright: bool,
            contrast: int = 40) -> npt.NDArray[np.uint8]:
    """255 on the centre ridge (a pixel wide) of thin bright (or dark) structures where ``keep``, else 0."""
    h, w = gray.shape
    k = max(5, (max(h, w) // 80) | 1)  # wider than a line, narrower than a logo
    op = cv2.MORPH_TOPHAT if bright else cv2.MORPH_BLACKHAT
    hat = cv2.morphologyEx(gray, op, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    th = hat.astype(np.int16)
    pad = np.pad(th, 1, mode="edge")
    ridge_x = (th >= pad[1:-1, :-2]) & (th >= pad[1:-1, 2:])
    ridge_y = (th >= pad[:-2, 1:-1]) & (th >= pad[2:, 1:-1])
    return np.where((hat > contrast) & keep & (ridge_x | ridge_y), 255, 0).astype(np.uint8)


def _planes(image: Image) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    if image.ndim == 3:
        gray = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), np.uint8)
        return gray, np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2HSV)[..., 1] < 70, np.bool_)
    return image, np.ones(image.shape, np.bool_)


def line_mask(image: Image) -> npt.NDArray[np.uint8]:
    """255 on the centre ridge of what looks like painted line (thin, bright, unsaturated), else 0; BGR or grey."""
    gray, unsaturated = _planes(image)
    return _ridges(gray, unsaturated & (gray > 120), bright=True)


def edge_mask(image: Image) -> npt.NDArray[np.uint8]:
    """255 on the ridge of thin dark lines (the walls' frames at the floor's edge, any hue), else 0."""
    gray, _ = _planes(image)
    return _ridges(gray, gray < 110, bright=False, contrast=25)


def distance_map(mask: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Distance (pixels) of every pixel to the nearest line pixel of ``mask``."""
    if not mask.any():
        raise LineFitError("no court line pixels found in the image")
    return np.asarray(cv2.distanceTransform(np.where(mask > 0, 0, 255).astype(np.uint8), cv2.DIST_L2, 5),
                      np.float32)


def _hfov(k: Intrinsics) -> float:
    return math.degrees(2 * math.atan((k.width / 2) / k.fx))


def _params(cam: Camera) -> FloatArray:
    rvec = cv2.Rodrigues(cam.pose.rotation)[0].ravel()
    return np.concatenate([rvec, cam.pose.position, [_hfov(cam.intrinsics), cam.intrinsics.k1]])


def _camera(p: FloatArray, width: int, height: int) -> Camera:
    rot = np.asarray(cv2.Rodrigues(np.asarray(p[:3], np.float64))[0], np.float64)
    hfov = float(np.clip(p[6], *HFOV_RANGE))
    return Camera(Intrinsics.from_hfov(width, height, hfov, k1=float(p[7])), Pose(rot, -rot @ p[3:6]))


@dataclass(frozen=True, slots=True)
class _Target:
    """One resolution of the detected lines: the distance map, the line pixels sampled (K, 2), the scale
    from full-resolution pixels to these and the truncation (pixels at this scale)."""

    dist: npt.NDArray[np.float32]
    points: FloatArray
    scale: float
    truncate: float
    edges: npt.NDArray[np.float32]


def _shrunk(mask: npt.NDArray[np.uint8], scale: float) -> npt.NDArray[np.uint8]:
    h, w = mask.shape
    if scale == 1.0:
        return mask
    return np.asarray(cv2.resize(mask, (max(16, round(w * scale)), max(9, round(h * scale))),
                                 interpolation=cv2.INTER_AREA), np.uint8)


def _target(masks: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]], scale: float) -> _Target:
    mask, edge = masks
    w = mask.shape[1]
    small = _shrunk(mask, scale)
    small_edge = _shrunk(edge, scale)
    ys, xs = np.nonzero(small)
    if len(xs) == 0:
        raise LineFitError("no court line pixels found in the image")
    pick = np.random.default_rng(0).permutation(len(xs))[:MAX_IMAGE_POINTS]
    edges = distance_map(small_edge) if small_edge.any() else np.full(small.shape, 1e3, np.float32)
    return _Target(distance_map(small), np.column_stack([xs[pick], ys[pick]]).astype(np.float64),
                   small.shape[1] / w, TRUNCATE_PX * small.shape[1] / w, edges)


def _residuals(cam: Camera, t: _Target) -> FloatArray:
    """Model samples -> nearest line pixel, then line pixels -> nearest projected model segment (pixels
    of ``t``'s scale, each truncated; a sample out of view costs the truncation)."""
    uv, _ = cam.project(_MODEL)
    uv = uv * t.scale
    ok: npt.NDArray[np.bool_] = np.asarray(np.isfinite(uv).all(axis=1), np.bool_)
    fwd = np.full(len(uv), t.truncate)
    if ok.any():
        got = ndimage.map_coordinates(t.dist, [uv[ok, 1], uv[ok, 0]], order=1, mode="constant", cval=t.truncate)
        fwd[ok] = np.minimum(got, t.truncate)
    segs = _SEGS[ok[_SEGS[:, 0]] & ok[_SEGS[:, 1]]]
    back = np.full(len(t.points), t.truncate)
    if len(segs):
        a, b = uv[segs[:, 0]], uv[segs[:, 1]]
        ab = b - a
        ap = t.points[:, None, :] - a[None, :, :]
        s = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-9), 0.0, 1.0)
        d = np.linalg.norm(ap - s[..., None] * ab[None], axis=-1).min(axis=1)
        back = np.minimum(d, t.truncate)
    euv, _ = cam.project(_EDGES)
    euv = euv * t.scale
    eok: npt.NDArray[np.bool_] = np.asarray(np.isfinite(euv).all(axis=1), np.bool_)
    edge = np.full(len(euv), t.truncate)
    if eok.any():
        got = ndimage.map_coordinates(t.edges, [euv[eok, 1], euv[eok, 0]], order=1, mode="constant",
                                      cval=t.truncate)
        edge[eok] = np.minimum(got, t.truncate)
    return np.concatenate([fwd, back * BACK_WEIGHT, edge * EDGE_WEIGHT])


@dataclass(frozen=True, slots=True)
class LineFit:
    """A fitted camera: ``residual_px`` is the mean distance (pixels) from the model's samples in view
    to the nearest line pixel; ``inliers`` the share of the model's samples within 3 px of a line pixel
    and of the line pixels within 3 px of the model, averaged (0..1)."""

    camera: Camera
    residual_px: float
    inliers: float

    def image_to_floor(self, pixels: npt.ArrayLike) -> FloatArray:
        """Pixels (N, 2) -> floor points (N, 2) metres (as :class:`~courtside.court.calibration.PoseCalibration`)."""
        from courtside.court.calibration import PoseCalibration

        return PoseCalibration(self.camera, self.residual_px, ()).image_to_floor(pixels)


def _score(cam: Camera, t: _Target) -> tuple[float, float]:
    """(mean distance in full-resolution pixels from the model's samples in view to a line, the share of
    model samples and of line pixels within 3 full-resolution pixels of the other, averaged)."""
    r = _residuals(cam, t) / t.scale
    n = len(_MODEL)
    fwd, back = r[:n], r[n:len(r) - len(_EDGES)] / BACK_WEIGHT
    uv, _ = cam.project(_MODEL)
    seen = cam.in_view(uv, margin=2.0)
    if not seen.any():
        return math.inf, 0.0
    return float(fwd[seen].mean()), float(((fwd <= 3.0).mean() + (back <= 3.0).mean()) / 2)


def _refine(start: Camera, t: _Target, *, fit_k1: bool, max_nfev: int = 200) -> Camera:
    w, h = start.width, start.height
    p0 = _params(start)
    free = np.ones(8, bool)
    free[7] = fit_k1

    def fun(x: FloatArray) -> FloatArray:
        p = p0.copy()
        p[free] = x
        return _residuals(_camera(p, w, h), t)

    x_scale = np.array([0.01, 0.01, 0.01, 0.1, 0.1, 0.1, 1.0, 0.02])[free]
    res = optimize.least_squares(fun, p0[free], x_scale=x_scale, loss="soft_l1", f_scale=LOSS_SCALE_PX * t.scale,
                                 max_nfev=max_nfev, diff_step=1e-3)
    p = p0.copy()
    p[free] = res.x
    return _camera(p, w, h)


def fit_lines(image: Image, start: Camera, *, fit_k1: bool = True) -> LineFit:
    """Refine ``start`` (a camera for ``image``'s size) against the image's court lines.

    Coarse (half resolution, wide basin) then fine (full resolution, with ``k1`` when
    ``fit_k1``). :class:`LineFitError` when the image has no line pixels.
    """
    h, w = image.shape[:2]
    if (start.width, start.height) != (w, h):
        start = Camera(start.intrinsics.scaled(w, h), start.pose)
    return _fit((line_mask(image), edge_mask(image)), start, fit_k1=fit_k1)


def _fit(mask: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]], start: Camera, *, fit_k1: bool) -> LineFit:
    full = _target(mask, 1.0)
    cam = _refine(start, _target(mask, 0.5), fit_k1=False)
    cam = _refine(cam, full, fit_k1=fit_k1)
    residual, inliers = _score(cam, full)
    return LineFit(cam, residual, inliers)


#: The search grid: camera centre x, y, z (metres), the point looked at along the court's axis (y, metres),
#: horizontal field of view (degrees).
GRID_X = (-2.0, -1.0, 0.0, 1.0, 2.0)
GRID_Y = (-8.0, -6.5, -5.0, -3.5)
GRID_Z = (4.5, 5.75, 7.0, 8.25)
GRID_TARGET_Y = (6.5, 8.0, 9.5, 11.0)
GRID_HFOV = (48.0, 56.0, 64.0, 72.0, 80.0)
#: Cap (quarter-resolution pixels) of one sample's cost when the grid is scored.
GRID_CAP_PX = 6.0
#: Line pixels used when the grid is scored, and the weight of each (the model has ~900 samples).
GRID_IMAGE_POINTS = 120
GRID_BACK_WEIGHT = 3.0
_GRID_POINTS = np.vstack([_MODEL, _EDGES])
_GRID_WEIGHTS = np.r_[np.ones(len(_MODEL)), np.full(len(_EDGES), EDGE_WEIGHT)]


def _candidates(width: int, height: int) -> list[Camera]:
    """Plausible broadcast cameras: behind and above the near back glass, looking along the court."""
    return [Camera(Intrinsics.from_hfov(width, height, hfov), Pose.look_at((x, y, z), (0.0, ty, 0.0)))
            for x, y, z, ty, hfov in itertools.product(GRID_X, GRID_Y, GRID_Z, GRID_TARGET_Y, GRID_HFOV)]


def _coarse_cost(cam: Camera, t: _Target) -> float:
    """Model-to-image distances only, capped at :data:`GRID_CAP_PX` (cheap: one projection, two lookups)."""
    uv, _ = cam.project(_GRID_POINTS)
    uv = uv * t.scale
    ok: npt.NDArray[np.bool_] = np.asarray(np.isfinite(uv).all(axis=1), np.bool_)
    d = np.full(len(uv), GRID_CAP_PX)
    n = len(_MODEL)
    for sl, dist in ((slice(0, n), t.dist), (slice(n, len(uv)), t.edges)):
        sel = ok[sl]
        part = uv[sl][sel]
        if len(part):
            idx = np.arange(len(uv))[sl][sel]
            d[idx] = ndimage.map_coordinates(dist, [part[:, 1], part[:, 0]], order=1, mode="constant",
                                             cval=GRID_CAP_PX)
    fwd = float((np.minimum(d, GRID_CAP_PX) * _GRID_WEIGHTS).sum())
    # Image to model too (a few line pixels, coarse segments): without it a small, far court wins.
    segs = _SEGS[::2]
    segs = segs[ok[segs[:, 0]] & ok[segs[:, 1]]]
    pts = t.points[:GRID_IMAGE_POINTS]
    if not len(segs):
        return fwd + GRID_CAP_PX * len(pts) * GRID_BACK_WEIGHT
    a, b = uv[segs[:, 0]], uv[segs[:, 1]]
    ab = b - a
    ap = pts[:, None, :] - a[None, :, :]
    s = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-9), 0.0, 1.0)
    back = np.linalg.norm(ap - s[..., None] * ab[None], axis=-1).min(axis=1)
    return fwd + float(np.minimum(back, GRID_CAP_PX).sum()) * GRID_BACK_WEIGHT


def _distinct(cands: list[Camera], order: npt.NDArray[np.intp], keep: int) -> list[Camera]:
    """The first ``keep`` cameras of ``order`` that differ from every one kept (centre > 1.5 m or lens > 10 deg)."""
    out: list[Camera] = []
    for i in order:
        c = cands[int(i)]
        if all(np.linalg.norm(c.pose.position - o.pose.position) > 1.5
               or abs(_hfov(c.intrinsics) - _hfov(o.intrinsics)) > 10.0 for o in out):
            out.append(c)
        if len(out) == keep:
            break
    return out


def search_lines(image: Image, *, starts: int = 6, finalists: int = 2) -> LineFit:
    """Fit the camera from no start.

    A grid of plausible cameras (:data:`GRID_X` ...) is scored cheaply at a quarter of
    the resolution; the ``starts`` best distinct ones are refined at quarter
    resolution (focal length and distance trade off in a long valley of the cost, so
    several starts are kept), the ``finalists`` best of those at half then full
    resolution with ``k1``. The best fit (most model samples and line pixels matched,
    then the smallest residual) wins.
    """
    h, w = image.shape[:2]
    mask = (line_mask(image), edge_mask(image))
    quarter = _target(mask, 0.25)
    cands = _candidates(w, h)
    costs = np.array([_coarse_cost(c, quarter) for c in cands])
    refined = []
    for cam in _distinct(cands, np.argsort(costs), starts):
        cam = _refine(cam, quarter, fit_k1=False, max_nfev=40)
        res, inl = _score(cam, quarter)
        refined.append((-inl, res, cam))
    refined.sort(key=lambda r: (r[0], r[1]))
    best: LineFit | None = None
    for _, _, cam in refined[:finalists]:
        fit = _fit(mask, cam, fit_k1=True)
        if best is None or (fit.inliers, -fit.residual_px) > (best.inliers, -best.residual_px):
            best = fit
    if best is None:
        raise LineFitError("no candidate camera")
    return best


def check_lines(image: Image, cam: Camera) -> tuple[float, float]:
    """How well ``cam`` (for ``image``'s size) matches the image's lines, unchanged: (mean distance in pixels
    from the model's samples in view to a line, matched share 0..1 as :attr:`LineFit.inliers`)."""
    if (cam.width, cam.height) != (image.shape[1], image.shape[0]):
        raise LineFitError(f"camera is {cam.width}x{cam.height}, image {image.shape[1]}x{image.shape[0]}")
    return _score(cam, _target((line_mask(image), edge_mask(image)), 1.0))
