"""Drawing the simulated court: a static background once per style, then players, net and ball per frame.

Painter's order by distance (the camera is behind the near wall, so larger y is
farther): far players, the ball if it is in the far half, the net (see-through),
near players, the ball if near. Players drawn after the ball also go into an
occlusion mask, from which the ball's visibility class is read. On request every
object is also inked, in the same order, into a label map (player ``i`` as
``i + 1``, the ball as :data:`BALL_INK`), so what is left of each ink is exactly
its visible pixels: the detection dataset's boxes come from it. Pixels are those
of the style's camera; every primitive is a cv2 fill or line (a 640x360 frame
draws in about a millisecond).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import cv2
import numpy as np
import numpy.typing as npt

from courtside.court import model as court
from courtside.court.camera import Camera
from courtside.sim.style import Color, Style

Image = npt.NDArray[np.uint8]
#: The smallest ball radius drawn, as a fraction of the image height (a real camera's blur and bloom).
MIN_BALL_RADIUS = 0.0035
#: The ball's value in a label map (players are 1 .. 4).
BALL_INK = 255


class Visibility(IntEnum):
    """The TrackNet label classes: 0 not in the frame, 1 visible, 2 partly hidden, 3 hidden."""

    OUT_OF_FRAME = 0
    VISIBLE = 1
    PARTIAL = 2
    OCCLUDED = 3


@dataclass(frozen=True, slots=True)
class PlayerPose:
    x: float
    y: float
    swing: float
    stride: float


@dataclass(frozen=True, slots=True)
class BallView:
    """Where the ball's centre projects (pixels, may lie outside the image) and how visible it is."""

    u: float
    v: float
    radius: float
    visibility: Visibility


def _scale(color: Color, gain: float) -> Color:
    return (min(255, int(color[0] * gain)), min(255, int(color[1] * gain)), min(255, int(color[2] * gain)))


def _polyline(cam: Camera, pts: list[tuple[float, float, float]], closed: bool, samples: int) -> np.ndarray:
    """World polygon -> int pixel polygon, each edge sampled so lens distortion bends it."""
    arr = np.asarray(pts, np.float64)
    ends = np.roll(arr, -1, axis=0) if closed else arr[1:]
    starts = arr if closed else arr[:-1]
    s = np.linspace(0.0, 1.0, samples, endpoint=False)[None, :, None]
    dense = (starts[:, None, :] + (ends - starts)[:, None, :] * s).reshape(-1, 3)
    if not closed:
        dense = np.vstack([dense, arr[-1:]])
    uv, depth = cam.project(dense)
    uv = uv[depth > 0.05]
    return np.asarray(np.round(uv * 16), np.int32)  # 4 fractional bits for cv2's shift


def _fill(img: Image, cam: Camera, pts: list[tuple[float, float, float]], color: Color, alpha: float = 1.0,
          samples: int = 8) -> None:
    poly = _polyline(cam, pts, True, samples)
    if len(poly) < 3:
        return
    if alpha >= 1.0:
        cv2.fillPoly(img, [poly], color, cv2.LINE_AA, shift=4)
        return
    layer = img.copy()
    cv2.fillPoly(layer, [poly], color, cv2.LINE_AA, shift=4)
    cv2.addWeighted(layer, alpha, img, 1 - alpha, 0, dst=img)


def _line(img: Image, cam: Camera, a: tuple[float, float, float], b: tuple[float, float, float], color: Color,
          width: int) -> None:
    poly = _polyline(cam, [a, b], False, 12)
    if len(poly) >= 2:
        cv2.polylines(img, [poly], False, color, width, cv2.LINE_AA, shift=4)


@dataclass(frozen=True, slots=True)
class Background:
    """The static picture and the net as an overlay: its box (x0, y0, x1, y1 pixels), where its
    see-through band and its opaque tape are inside the box (H x W x 1 masks), their colours."""

    image: Image
    net_box: tuple[int, int, int, int]
    net_band: npt.NDArray[np.bool_]
    net_tape: npt.NDArray[np.bool_]
    band_color: Color
    tape_color: Color


def draw_background(style: Style) -> Background:
    """Floor, lines, walls and logos for ``style`` (drawn once per clip)."""
    cam, g = style.camera, style.gain
    w, h = cam.width, cam.height
    img: Image = np.empty((h, w, 3), np.uint8)
    top = np.linspace(0.55, 1.0, h, dtype=np.float32)[:, None, None]
    img[:] = np.clip(np.asarray(_scale((50, 45, 40), g), np.float32) * top, 0, 255).astype(np.uint8)
    _fill(img, cam, [(-9, -3, 0), (9, -3, 0), (9, 24, 0), (-9, 24, 0)], _scale(style.surround, g))
    _fill(img, cam, [(-5, 0, 0), (5, 0, 0), (5, 20, 0), (-5, 20, 0)], _scale(style.court, g), samples=16)
    for logo in style.logos:
        hw, hh = logo.w / 2, logo.h / 2
        if logo.z is None:
            pts = [(logo.x - hw, logo.y - hh, 0.0), (logo.x + hw, logo.y - hh, 0.0),
                   (logo.x + hw, logo.y + hh, 0.0), (logo.x - hw, logo.y + hh, 0.0)]
        else:
            pts = [(logo.x - hw, logo.y, logo.z - hh), (logo.x + hw, logo.y, logo.z - hh),
                   (logo.x + hw, logo.y, logo.z + hh), (logo.x - hw, logo.y, logo.z + hh)]
        _fill(img, cam, pts, _scale(logo.color, g), 0.85)
    line_px = max(1, round(cam.pixels_per_metre(12.0) * court.LINE_WIDTH_M))
    for seg in court.lines():
        _line(img, cam, (seg.a[0], seg.a[1], 0.0), (seg.b[0], seg.b[1], 0.0), _scale(style.line, g), line_px)
    frame_px = max(1, line_px)
    for panel in court.walls():
        corners = list(panel.corners())
        if panel.surface is court.Surface.GLASS:
            _fill(img, cam, corners, _scale(style.glass, g), 0.25)
        else:
            _fill(img, cam, corners, _scale(style.frame, g), 0.12)
        for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
            _line(img, cam, a, b, _scale(style.frame, g), frame_px)
    # The net: a dark see-through band with a white tape.
    layer = np.zeros((h, w), np.uint8)
    net = [(-5.0, 10.0, 0.0), (5.0, 10.0, 0.0), (5.0, 10.0, court.NET_POST_M), (0.0, 10.0, court.NET_CENTRE_M),
           (-5.0, 10.0, court.NET_POST_M)]
    cv2.fillPoly(layer, [_polyline(cam, net, True, 8)], 140, cv2.LINE_AA, shift=4)
    tape = [(-5.0, 10.0, court.NET_POST_M), (0.0, 10.0, court.NET_CENTRE_M), (5.0, 10.0, court.NET_POST_M)]
    cv2.polylines(layer, [_polyline(cam, tape, False, 8)], False, 255, max(2, line_px + 1), cv2.LINE_AA, shift=4)
    ys, xs = np.nonzero(layer)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else (0, 0, 0, 0)
    x0, y0, x1, y1 = box
    patch = layer[y0:y1, x0:x1]
    img.flags.writeable = False
    return Background(img, box, np.ascontiguousarray(patch[..., None] >= 70), np.ascontiguousarray(patch[..., None] >= 230),
                      _scale((25, 25, 25), g), _scale((235, 235, 235), g))


def _draw_net(img: Image, bg: Background) -> None:
    x0, y0, x1, y1 = bg.net_box
    if x1 <= x0:
        return
    roi = img[y0:y1, x0:x1]
    dark = cv2.addWeighted(roi, 0.45, np.full_like(roi, bg.band_color), 0.55, 0)
    np.copyto(roi, dark, where=bg.net_band)
    np.copyto(roi, np.asarray(bg.tape_color, np.uint8), where=bg.net_tape)


def _draw_player(targets: list[Image], cam: Camera, style: Style, i: int, pose: PlayerPose) -> None:
    """A player as legs, shoes, torso, arms, racket and head; drawn into every image of ``targets``
    (the frame, then masks in white without the shadow: the occlusion mask when the player is in front
    of the ball, the player's own footprint for the label map)."""
    x, y = pose.x, pose.y
    face = 1.0 if y < court.NET_Y_M else -1.0
    stride = 0.22 * math.sin(pose.stride * 3.2)
    swing = math.sin(math.pi * min(1.0, pose.swing / 0.35)) if pose.swing > 0 else 0.0
    hand = (x + 0.35 + 0.2 * swing, y + face * (0.15 + 0.35 * swing), 1.05 + 0.45 * swing)
    pts = np.array([
        (x - 0.12, y + stride, 0.03), (x + 0.12, y - stride, 0.03),  # feet 0, 1
        (x - 0.12, y, 0.92), (x + 0.12, y, 0.92),  # hips 2, 3
        (x - 0.23, y, 1.45), (x + 0.23, y, 1.45),  # shoulders 4, 5
        (x, y, 1.68), hand, (hand[0] + 0.08, hand[1] + face * 0.05, hand[2] + 0.3),  # head 6, hand 7, racket 8
        (x - 0.32, y + 0.05, 1.05), (x + 0.15, y, 0.0),  # other hand 9, shadow 10
    ])
    uv, depth = cam.project(pts)
    if not np.all(depth > 0.3):
        return
    ppm = cam.pixels_per_metre(float(depth[6]))
    p = [(a, b) for a, b in np.rint(uv).astype(np.int32).tolist()]
    thick = max(2, int(0.14 * ppm))
    arm = max(1, thick // 2)
    g = style.gain
    shirt, shorts, skin, shoe = (_scale(c, g) for c in (style.shirts[i], style.shorts[i], style.skins[i],
                                                        style.shoes[i]))
    for n, img in enumerate(targets):
        mask = n > 0

        def col(c: Color, mask: bool = mask) -> Color:
            return (255, 255, 255) if mask else c

        if not mask:
            cv2.ellipse(img, p[10], (max(2, int(0.35 * ppm)), max(1, int(0.1 * ppm))), 0, 0, 360,
                        _scale((40, 35, 25), g), -1, cv2.LINE_AA)
        cv2.line(img, p[2], p[0], col(shorts), thick, cv2.LINE_AA)
        cv2.line(img, p[3], p[1], col(shorts), thick, cv2.LINE_AA)
        for foot in (p[0], p[1]):
            cv2.ellipse(img, foot, (max(1, int(0.09 * ppm)), max(1, int(0.05 * ppm))), 0, 0, 360, col(shoe), -1,
                        cv2.LINE_AA)
        torso = np.array([p[2], p[3], p[5], p[4]], np.int32)
        cv2.fillConvexPoly(img, torso, col(shirt), cv2.LINE_AA)
        cv2.line(img, p[5], p[7], col(skin), arm, cv2.LINE_AA)
        cv2.line(img, p[4], p[9], col(skin), arm, cv2.LINE_AA)
        cv2.line(img, p[7], p[8], col((25, 25, 25)), max(1, arm // 2), cv2.LINE_AA)
        cv2.ellipse(img, p[8], (max(2, int(0.12 * ppm)), max(2, int(0.15 * ppm))), 0, 0, 360, col((25, 25, 25)), -1,
                    cv2.LINE_AA)
        cv2.circle(img, p[6], max(2, int(0.12 * ppm)), col(skin), -1, cv2.LINE_AA)


def _draw_ball(img: Image, cam: Camera, style: Style, pos: np.ndarray, vel: np.ndarray,
               labels: Image | None = None) -> tuple[float, float, float]:
    """The ball (with its motion streak over the exposure) and its shadow; returns (u, v, radius) pixels.
    ``labels`` gets the ball's footprint (disc or streak, no shadow) as :data:`BALL_INK`."""
    pts = np.array([pos, pos - vel * style.exposure_s, (pos[0], pos[1], 0.0)])
    uv, depth = cam.project(pts)
    if not depth[0] > 0.3:
        return math.nan, math.nan, 0.0
    radius = max(MIN_BALL_RADIUS * cam.height, court.BALL_RADIUS_M * style.ball_scale * cam.pixels_per_metre(float(depth[0])))
    g = style.gain
    if np.all(np.isfinite(uv[2])) and pos[2] < 3.0:
        shade = max(1, round(radius * (1.2 - pos[2] / 3.0)))
        cv2.circle(img, (round(uv[2, 0] * 16), round(uv[2, 1] * 16)), shade * 16,
                   _scale((30, 35, 30), g), -1, cv2.LINE_AA, shift=4)
    a, b = uv[1], uv[0]
    streak = float(np.hypot(*(b - a))) if np.all(np.isfinite(a)) else 0.0
    pa = (round(a[0] * 16), round(a[1] * 16)) if streak > 0.5 else None
    pb = (round(b[0] * 16), round(b[1] * 16))
    color = _scale(style.ball, g)
    r16 = max(16, round(radius * 16))
    if labels is not None:  # the same primitives as below, antialiased, so the footprint covers every tinted pixel
        piece = np.zeros_like(labels)
        if pa is None:
            cv2.circle(piece, pb, r16, 255, -1, cv2.LINE_AA, shift=4)
        else:
            cv2.line(piece, pa, pb, 255, max(1, round(2 * radius)), cv2.LINE_AA, shift=4)
        labels[piece > 0] = BALL_INK
    if pa is None:
        cv2.circle(img, pb, r16, color, -1, cv2.LINE_AA, shift=4)
    else:
        x0 = max(0, int(min(a[0], b[0]) - radius - 2))
        y0 = max(0, int(min(a[1], b[1]) - radius - 2))
        x1 = min(img.shape[1], int(max(a[0], b[0]) + radius + 3))
        y1 = min(img.shape[0], int(max(a[1], b[1]) + radius + 3))
        if x1 > x0 and y1 > y0:
            roi = img[y0:y1, x0:x1]
            layer = roi.copy()
            off = (x0 * 16, y0 * 16)
            cv2.line(layer, (pa[0] - off[0], pa[1] - off[1]), (pb[0] - off[0], pb[1] - off[1]), color,
                     max(1, round(2 * radius)), cv2.LINE_AA, shift=4)
            alpha = min(1.0, max(0.45, 2 * radius / (2 * radius + streak)))
            cv2.addWeighted(layer, alpha, roi, 1 - alpha, 0, dst=roi)
    return float(b[0]), float(b[1]), float(radius)


def render_frame(bg: Background, style: Style, ball: np.ndarray, velocity: np.ndarray,
                 players: list[PlayerPose], scratch: Image | None = None,
                 labels: Image | None = None) -> tuple[Image, BallView]:
    """One frame and the ball's view. ``scratch`` (an H x W uint8 array) is reused for the occlusion mask;
    ``labels`` (H x W uint8), when given, is cleared and inked with every object's visible pixels."""
    cam = style.camera
    img: Image = bg.image.copy()
    mask: Image = scratch if scratch is not None else np.zeros((cam.height, cam.width), np.uint8)
    mask[:] = 0
    piece: Image | None = None  # one object's antialiased footprint, inked into ``labels``
    if labels is not None:
        labels[:] = 0
        piece = np.zeros_like(labels)
    order = sorted(range(len(players)), key=lambda i: -players[i].y)
    ball_far = ball[1] > court.NET_Y_M
    drawn_ball: tuple[float, float, float] | None = None
    net_drawn = False
    for i in order:
        pose = players[i]
        if not net_drawn and pose.y <= court.NET_Y_M:
            if ball_far and drawn_ball is None:
                drawn_ball = _draw_ball(img, cam, style, ball, velocity, labels)
            _draw_net(img, bg)
            net_drawn = True
        if drawn_ball is None and ball[1] > pose.y:
            drawn_ball = _draw_ball(img, cam, style, ball, velocity, labels)
        targets = [img, mask] if drawn_ball is not None else [img]
        if piece is not None:
            piece[:] = 0
            targets.append(piece)
        _draw_player(targets, cam, style, i, pose)
        if labels is not None and piece is not None:
            labels[piece > 0] = i + 1
    if not net_drawn:
        if ball_far and drawn_ball is None:
            drawn_ball = _draw_ball(img, cam, style, ball, velocity, labels)
        _draw_net(img, bg)
    if drawn_ball is None:
        drawn_ball = _draw_ball(img, cam, style, ball, velocity, labels)
    u, v, r = drawn_ball
    return img, BallView(u, v, r, _visibility(mask, u, v, r))


def _visibility(mask: Image, u: float, v: float, radius: float) -> Visibility:
    h, w = mask.shape
    if not (math.isfinite(u) and math.isfinite(v)) or not (-0.5 <= u < w - 0.5 and -0.5 <= v < h - 0.5):
        return Visibility.OUT_OF_FRAME
    r = max(1, math.ceil(radius))
    x0, y0 = max(0, round(u) - r), max(0, round(v) - r)
    patch = mask[y0:round(v) + r + 1, x0:round(u) + r + 1]
    if patch.size == 0:
        return Visibility.VISIBLE
    centre = mask[min(h - 1, max(0, round(v))), min(w - 1, max(0, round(u)))] > 0
    covered = float((patch > 0).mean())
    if centre and covered >= 0.6:
        return Visibility.OCCLUDED
    if covered > 0.15:
        return Visibility.PARTIAL
    return Visibility.VISIBLE
