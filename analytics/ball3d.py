"""The ball in 3D from its pixels in one calibrated camera: piecewise ballistic flight.

One camera sees a ray per frame, not a point. What fixes the depth is physics: between
two contacts the ball flies under gravity (and drag), so its pixels over a few frames
fit one flight ``X(t) = P + V s + a s^2 / 2`` (``s = t - t_ref``) whose known
acceleration sets the scale. Every pixel gives two equations linear in ``(P, V)``
(the cross product of the ray with the projection), solved by least squares with
weights that turn them into pixels; drag enters as the constant acceleration
``-k |v| v`` of the flight's mid-point velocity, refined by iteration.

Segments: a ``flight`` takes each new pixel its prediction explains (within
:data:`BREAK_PX`); the first one it does not opens a ``pending`` segment, anchored to
the old flight's position at the break (the ball is continuous through a bounce or a
hit), which becomes a flight once :data:`ANCHORED_MIN` pixels fit it (the break may be
moved up to :data:`LOOKBACK` pixels earlier, when a contact late in a frame interval
let the first pixel after it pass). A pending segment from a known start (a hand's release) that one
flight does not fit is tried as two, a contact between (a serve's drop and its bounce). A pending
segment that fits no anchored flight becomes a flight on a free fit of its latest :data:`FREE_MIN`
(or :data:`WINDOW`) pixels, or else ``held`` when it is at rest: a ball not in free flight is placed
where its ray meets a plane: the net's or the floor's when the flight before ended there (a netted
ball sliding down, a dead ball rolling), else a hand's at :data:`HAND_M` metres, until a fit of its
latest pixels succeeds. A ball that flew moments ago (a bounce or a glass the fits have not placed
yet), or whose pixels at hand height move faster than a hand (:data:`HAND_SPEED_MPS`), is in no hand:
it stays pending, unplaced, until a fit takes it.

The tracker's pixel error can be allowed for (``noise_px``, :data:`NOISE_PX` by default): a pixel is
explained within ``hypot(FIT_PX, NOISE_SIGMAS * noise_px)`` (a flight's prediction likewise, from
:data:`BREAK_PX`), and a single pixel a flight or a held ball does not explain is held back one pixel:
the next decides whether it was a contact or a wrong peak (dropped; its frame takes the flight's place).

A pixel that breaks a flight whose path ran into the floor or a wall panel on its way there carries that
contact (:class:`Contact`, on its :class:`BallPoint`): the ball cannot pass a surface, so it bounced
there, which the flight alone tells when nothing after it is placed (the ball gone from the picture, the
next flight too short to fit before the frame settles). One that ran into no surface carries a contact in
the air (``surface`` None: a racquet, or a flight fitted wrong), which the camera's analytics reads as a
hit when a player is within reach.

Positions are final (``settled``) :attr:`BallTracker3D.lag` frames after they were seen,
once the segments around them are decided. Pure: metres, seconds, pixels of the
calibrated image; no clock read.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
import numpy.typing as npt

from courtside.court import model as court
from courtside.court.camera import Camera
from courtside.court.model import Surface
from courtside.sim.physics import DRAG_K, GRAVITY, RESPONSE

FloatArray = npt.NDArray[np.float64]

#: A flight keeps a new pixel predicted within this many pixels (plus the tracker's noise); beyond it, a
#: contact happened.
BREAK_PX = 1.5
#: A fit is accepted when every pixel it explains is within this many pixels (plus the tracker's noise).
FIT_PX = 1.0
#: The ball tracker's pixel error the fits allow for (pixels, one sigma per axis): a pixel counts as
#: explained within ``hypot(FIT_PX, NOISE_SIGMAS * noise_px)`` (a 2D error beyond 4 sigma: 3 in 10,000).
#: 0 by default (exact pixels). Allowed for, with the longer :data:`NOISY_WINDOW`: at 0.5 px of noise bounce
#: recall 0.63-0.73 (seeds 3, 4, 5, 12; 0.16-0.33 without), at 1 px 0.29-0.51 with most positions a metre
#: off (one view's depth, from gravity's curvature, drowns in the noise): a noisier tracker needs more than
#: a tolerance. The analytics configuration's ``ball_noise_px`` sets it per deployment.
NOISE_PX = 0.0
NOISE_SIGMAS = 4.0
#: Pixels an anchored (post-contact) flight needs before it is accepted; a free one needs FREE_MIN.
ANCHORED_MIN = 4
FREE_MIN = 10
#: A flight's latest FREE_MIN pixels must span at least this many pixels: a still ball is held, not flying.
MIN_MOTION_PX = 4.0
#: Pixels of the old flight the break may be moved back over.
LOOKBACK = 2
#: Where in the frame interval between two flights their contact is looked for (fractions of it).
CONTACT_TIMES = (0.1, 0.3, 0.5, 0.7, 0.9)
#: Instants between a flight's last pixel and the pixel that broke it where its path is checked against
#: the court's surfaces.
CROSSING_STEPS = 8
#: How far (metres) past the floor or a wall panel a fitted flight may put the ball (its fit's error)
#: before it is known to have missed a bounce there.
PAST_WALL_M = 0.1
#: A break whose flight comes this near (metres) the net's plane below its top, heading into it, was the
#: net: a fitted flight's depth is that far off under the tracker's noise (at 0.6 px, seeds 3, 4, 5, 12,
#: rallies at IoU >= 0.8: 11 of 35 with 0 m, 14 with 0.25 m, 16 with 0.5 m; exact pixels: no change), and no
#: racquet meets the ball that near the net below its top.
NET_REACH_M = 0.5
#: Most recent pixels a flight is fitted to (drag is a constant over the window): exact pixels, and pixels
#: with the tracker's noise allowed for (``noise_px`` > 0). Depth from one view rests on gravity's curvature,
#: which grows with the window's length squared: at 0.5 px of noise, 30 pixels took seeds 3, 4, 5 and 12 from
#: bounce recall 0.16-0.56 to 0.63-0.73; on exact pixels 30 cost bounces (ten seeds 0.952 against 0.972).
WINDOW = 15
NOISY_WINDOW = 30
#: A pixel more than this many seconds after the last one starts afresh (no anchor).
MAX_GAP_S = 0.12
#: Height (metres) of a ball not in free flight: in a hand.
HAND_M = 1.0
#: Fastest a hand carries the ball (m/s, a running player): a ball whose pixels, placed at HAND_M, move
#: faster is flying (a fit not found yet), not held.
HAND_SPEED_MPS = 7.0
#: A ball that stops flying within this many seconds of a flight that ended at the net or on the floor
#: rests there (see ``_rest_plane``).
REST_CONTEXT_S = 0.5
#: A held ball that moves this many pixels in one frame is another ball (or was thrown): start afresh.
JUMP_PX = 25.0
#: Fastest plausible ball (m/s) and the volume (metres) a fitted flight must stay in: no deeper under
#: the floor than a fit's error allows (:data:`PAST_WALL_M`; at 0.3 m a flight that swallowed a hit came
#: straight at the camera, dipping 0.12 m under the floor).
MAX_SPEED_MPS = 50.0
BOUNDS = ((-8.0, 8.0), (-5.0, 25.0), (-PAST_WALL_M, 15.0))
_LOW, _HIGH = np.array([lo for lo, _ in BOUNDS]), np.array([hi for _, hi in BOUNDS])
#: Frames between seeing a pixel and settling its position.
LAG_FRAMES = 10
#: One sigma of the anchor (metres), counted like one pixel of error.
ANCHOR_SIGMA_M = 0.05
#: One sigma (m/s) of the speed of a ball let go from a hand (a serve's drop), counted like one pixel.
RELEASE_SIGMA_MPS = 1.0
#: A held ball whose pixels, placed in its plane, stay this near (metres) a straight line at constant
#: speed is still carried, whatever flight they also fit.
CARRIED_M = 0.03
#: A contact this near the floor (metres up) or a wall (metres off it) may be a bounce on it.
SURFACE_M = 0.25
#: One sigma of the velocity a bounce gives (a share of the arriving speed, at least RELEASE_SIGMA_MPS):
#: restitution and friction vary with the ball, its spin and the surface. One view leaves a flight's
#: speed along the sight line to gravity alone over the few pixels after a contact; the bounce law
#: (courtside.sim.physics.RESPONSE: the floor's restitution, the glass's, the mesh's) fixes it.
RESPONSE_SIGMA = 0.15
#: Where a fit starts: its anchor ``(t seconds, position metres)`` and its velocity prior ``(m/s, one
#: sigma m/s)``, each None when unknown.
_Start = tuple[tuple[float, FloatArray] | None, tuple[FloatArray, float] | None]
#: The start of a ball let go from a hand: near rest.
RELEASED: tuple[FloatArray, float] = (np.zeros(3), RELEASE_SIGMA_MPS)


@dataclass(frozen=True, slots=True)
class Contact:
    """Where the flight before a pixel ended: at ``t`` seconds, ``position`` metres, on ``surface`` (the
    floor or the wall panel it ran into: a bounce) or None (in the air: a racquet, or a flight fitted
    wrong)."""

    t: float
    position: tuple[float, float, float]
    surface: Surface | None


@dataclass(slots=True)
class _Obs:
    index: int
    t: float
    xn: float  # undistorted normalised image coordinates
    yn: float
    seg: _Segment | None = None
    #: The first pixel after a break: the bounce the flight before ran into on the way to it, if any.
    contact: Contact | None = None


@dataclass(frozen=True, slots=True)
class Flight:
    """A fitted flight: position ``p`` and velocity ``v`` at ``t_ref`` seconds, acceleration ``accel``
    (m/s^2) changing by ``jerk`` (m/s^3; drag slows the ball), ``v_cov`` the velocity's covariance (m^2/s^2)."""

    t_ref: float
    p: FloatArray
    v: FloatArray
    accel: FloatArray
    v_cov: FloatArray
    jerk: FloatArray

    def at(self, t: float) -> tuple[FloatArray, FloatArray]:
        """Position (metres) and velocity (m/s) at ``t`` seconds."""
        s = t - self.t_ref
        return (self.p + self.v * s + 0.5 * self.accel * s * s + self.jerk * s ** 3 / 6,
                self.v + self.accel * s + 0.5 * self.jerk * s * s)

    def speed_error(self, velocity: FloatArray) -> float:
        """One-sigma error (m/s) of the speed along ``velocity``."""
        norm = float(np.linalg.norm(velocity))
        if norm < 1e-9:
            return float(math.sqrt(max(0.0, float(np.trace(self.v_cov)))))
        d = velocity / norm
        return float(math.sqrt(max(0.0, float(d @ self.v_cov @ d))))


@dataclass(slots=True)
class _Segment:
    kind: str  # "pending" | "flight" | "held"
    obs: list[_Obs] = field(default_factory=list)
    anchor_from: _Segment | None = None  # the flight before a contact, while pending
    parent: _Segment | None = None  # the flight this one was anchored to
    came_from: tuple[float, FloatArray] | None = None  # (t, position) where the flight before ended
    plane: tuple[int, float] = (2, HAND_M)  # held: the plane the ball rests in (axis, metres)
    #: The velocity (m/s) it starts with at ``anchor`` and its one sigma: near rest from a hand, a bounce's.
    prior: tuple[FloatArray, float] | None = None
    anchor: tuple[float, FloatArray] | None = None  # (t, position) the flight starts from
    fit: Flight | None = None
    #: While pending after ``anchor_from``: that flight refitted without its last ``back`` pixels, by
    #: ``(len(anchor_from.obs), back)`` (it does not change while this segment waits for pixels).
    old_fits: dict[tuple[int, int], tuple[Flight, FloatArray] | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BallPoint:
    """The ball at frame ``index`` (``t`` seconds): ``position`` metres, ``velocity`` m/s (None when held
    or unknown), ``speed_error_mps`` one sigma, ``held`` when not in free flight; ``contact`` where the
    flight before ended (a surface it ran into, or in the air), when this frame's pixel broke it."""

    index: int
    t: float
    position: tuple[float, float, float] | None
    velocity: tuple[float, float, float] | None = None
    speed_error_mps: float | None = None
    held: bool = False
    contact: Contact | None = None


class BallTracker3D:
    """Feed :meth:`update` every frame in order; it returns the frames it settles (``lag`` frames late)."""

    def __init__(self, camera: Camera, *, lag: int = LAG_FRAMES, noise_px: float = NOISE_PX) -> None:
        """``noise_px``: the ball tracker's pixel error (one sigma per axis) the fits allow for; above 0,
        flights are fitted to their latest :data:`NOISY_WINDOW` pixels instead of :data:`WINDOW`."""
        if not (math.isfinite(noise_px) and noise_px >= 0):
            raise ValueError(f"noise_px must be a finite number >= 0, got {noise_px}")
        self.camera = camera
        self.lag = lag
        self._window = NOISY_WINDOW if noise_px > 0 else WINDOW
        self._fit_px = math.hypot(FIT_PX, NOISE_SIGMAS * noise_px)
        self._break_px = math.hypot(BREAK_PX, NOISE_SIGMAS * noise_px)
        k = camera.intrinsics
        self._k = np.array([[k.fx, 0.0, k.cx], [0.0, k.fy, k.cy], [0.0, 0.0, 1.0]])
        self._dist = np.array([k.k1, k.k2, 0.0, 0.0])
        self._distorted = bool(k.k1 or k.k2)
        self._f = (k.fx + k.fy) / 2
        self._r = camera.pose.rotation
        self._tr = camera.pose.translation
        self._centre = camera.pose.position
        self._frames: deque[tuple[int, float, _Obs | None]] = deque(maxlen=lag + self._window + 2)
        self._seg: _Segment | None = None
        #: A pixel the current segment does not explain, held back one pixel: the next one decides
        #: whether it was a contact (the next does not fit either) or a wrong peak of the tracker.
        self._suspect: _Obs | None = None

    # -- the public face ------------------------------------------------------------------
    def update(self, index: int, t: float, pixel: tuple[float, float] | None) -> list[BallPoint]:
        """Frame ``index`` at ``t`` seconds (both strictly increasing), ``pixel`` (u, v) or None when unseen."""
        if self._frames and (index <= self._frames[-1][0] or t <= self._frames[-1][1]):
            raise ValueError(f"frame {index} at t={t} s is not after frame {self._frames[-1][0]}")
        obs = None
        if pixel is not None and math.isfinite(pixel[0]) and math.isfinite(pixel[1]):
            xn, yn = self._normalise(pixel)
            obs = _Obs(index, t, xn, yn)
            self._add(obs)
        else:
            self._unseen()
        self._frames.append((index, t, obs))
        settled = []
        if len(self._frames) > self.lag:
            i = len(self._frames) - 1 - self.lag
            settled.append(self._point(i))
        return settled

    def current(self) -> BallPoint | None:
        """The newest frame's ball as known now (may still change before it settles)."""
        return self._point(len(self._frames) - 1) if self._frames else None

    def reset(self) -> None:
        self._frames.clear()
        self._seg = None
        self._suspect = None

    # -- geometry ------------------------------------------------------------------------
    def _normalise(self, pixel: tuple[float, float]) -> tuple[float, float]:
        if self._distorted:
            n = cv2.undistortPoints(np.array([[pixel]], np.float64), self._k, self._dist).reshape(2)
            return float(n[0]), float(n[1])
        k = self.camera.intrinsics
        return (pixel[0] - k.cx) / k.fx, (pixel[1] - k.cy) / k.fy

    def _on_plane(self, obs: _Obs, axis: int, value: float) -> FloatArray | None:
        """Where the pixel's ray meets the plane ``world[axis] = value`` (metres); None behind the camera."""
        ray = np.array([obs.xn, obs.yn, 1.0]) @ self._r  # camera ray in the world frame
        if abs(ray[axis]) < 1e-9:
            return None
        s = (value - self._centre[axis]) / ray[axis]
        return np.asarray(self._centre + s * ray, np.float64) if s > 0 else None

    def _rest_plane(self, seg: _Segment) -> tuple[int, float] | None:
        """Where a ball not in free flight is: still at the net or on the floor when it got there from the
        flight before (a netted ball slides down the net, a dead ball rolls), else in a hand; None when it
        is in none of them: it came from a flight moments ago (a drop bounced before a serve, a ball off
        the glass: a contact the fits have not placed yet), or its pixels at hand height move faster
        than a hand carries a ball. Such a ball is flying; it stays unplaced until a fit takes it."""
        # Flying moments ago, and its first pixel where that flight could have taken it (not a new
        # point's ball in the server's hand, far from where the last one stopped).
        recent = seg.came_from is not None and seg.obs[0].t - seg.came_from[0] <= REST_CONTEXT_S \
            and self._ray_distance(seg.obs[0], seg.came_from[1]) < MAX_SPEED_MPS * (seg.obs[0].t - seg.came_from[0])
        if seg.came_from is not None and seg.obs[0].t - seg.came_from[0] <= REST_CONTEXT_S:
            p = seg.came_from[1]
            r = court.BALL_RADIUS_M
            net_side = court.NET_Y_M - r if p[1] < court.NET_Y_M else court.NET_Y_M + r
            for axis, value, near in ((1, net_side, abs(p[1] - court.NET_Y_M) < 0.6 and p[2] < 1.3),
                                      (2, r, p[2] < 0.3)):
                # Its latest pixel decides: a ball that rolled on is still near; a new point's ball in a
                # hand is far from where the last one stopped.
                q = self._on_plane(seg.obs[-1], axis, value) if near else None
                if q is not None and float(np.linalg.norm(q - p)) < 2.0:
                    return axis, value
        window = seg.obs[-FREE_MIN:]
        if recent and self._moving(window):
            return None
        first, last = self._on_plane(window[0], 2, HAND_M), self._on_plane(window[-1], 2, HAND_M)
        if first is None or last is None or not self._inside(last):
            return None
        speed = float(np.linalg.norm(last - first)) / max(1e-9, window[-1].t - window[0].t)
        return (2, HAND_M) if speed <= HAND_SPEED_MPS else None

    def _ray_distance(self, obs: _Obs, p: FloatArray) -> float:
        """How far (metres) the point ``p`` lies from the pixel's sight line."""
        ray = np.array([obs.xn, obs.yn, 1.0]) @ self._r
        ray /= np.linalg.norm(ray)
        d = p - self._centre
        return float(np.linalg.norm(d - (d @ ray) * ray))

    @staticmethod
    def _inside(p: FloatArray) -> bool:
        return all(lo <= float(p[i]) <= hi for i, (lo, hi) in enumerate(BOUNDS))

    @staticmethod
    def _surface(p: FloatArray, v: FloatArray) -> tuple[Surface, int] | None:
        """The surface a ball at ``p`` (metres) moving at ``v`` (m/s) is bouncing on, and its normal's axis:
        the floor or a wall panel it is near (:data:`SURFACE_M`) and moving into; None otherwise (a racket,
        the net: no law to lean on)."""
        if p[2] < SURFACE_M and v[2] < 0:
            return Surface.FLOOR, 2
        for axis, wall, lim, along in ((1, "y", court.LENGTH_M, p[0]), (0, "x", court.HALF_WIDTH_M, p[1])):
            low = 0.0 if axis == 1 else -lim
            offset = lim if p[axis] > lim - SURFACE_M and v[axis] > 0 else (
                low if p[axis] < low + SURFACE_M and v[axis] < 0 else None)
            if offset is not None:
                panel = court.wall_at(wall, offset, float(along), float(max(0.0, p[2])))
                return (panel.surface, axis) if panel is not None else None
        return None

    @classmethod
    def _response(cls, p: FloatArray, v: FloatArray) -> tuple[FloatArray, float] | None:
        """The velocity (m/s) and its one sigma a bounce at ``p`` (metres) gives a ball arriving at ``v``
        (:meth:`_surface`'s surface; None without one)."""
        found = cls._surface(p, v)
        if found is None:
            return None
        surface, axis = found
        normal, tangent = RESPONSE[surface]
        out = v * tangent
        out[axis] = -v[axis] * normal
        return out, max(RELEASE_SIGMA_MPS, RESPONSE_SIGMA * float(np.linalg.norm(v)))

    @classmethod
    def _ran_into(cls, flight: Flight, t0: float, t1: float) -> Contact | None:
        """The surface ``flight`` runs into between ``t0`` and ``t1`` seconds (the floor, a wall's panel, the
        net below its top (within :data:`NET_REACH_M`): the ball cannot pass it, so a break there is a
        bounce on it), at the first of :data:`CROSSING_STEPS` instants where the ball's surface reaches it;
        None when it reaches none."""
        r = court.BALL_RADIUS_M
        before = flight.at(t0)[0]
        for t in np.linspace(t0, t1, CROSSING_STEPS + 1)[1:]:
            p, v = flight.at(float(t))
            toward = 1.0 if before[1] < court.NET_Y_M else -1.0
            if toward * (p[1] - court.NET_Y_M) > -NET_REACH_M and toward * (p[1] - before[1]) > 0 \
                    and p[2] - r < court.net_height(float(p[0])) and abs(p[0]) <= court.HALF_WIDTH_M:
                return Contact(float(t), (float(p[0]), court.NET_Y_M, float(p[2])), Surface.NET)
            before = p
            if p[2] > r and court.HALF_WIDTH_M - r > abs(p[0]) and r < p[1] < court.LENGTH_M - r:
                continue
            found = cls._surface(p, v)
            return None if found is None else Contact(float(t), (float(p[0]), float(p[1]), float(p[2])), found[0])
        return None

    @staticmethod
    def _in_air(flight: Flight, t0: float, t1: float) -> Contact:
        """A break between ``t0`` and ``t1`` seconds with no surface on the way: the contact is in the air,
        placed on the flight midway."""
        t = (t0 + t1) / 2
        p = flight.at(t)[0]
        return Contact(t, (float(p[0]), float(p[1]), float(p[2])), None)

    def _fit(self, obs: list[_Obs], anchor: tuple[float, FloatArray] | None = None,
             prior: tuple[FloatArray, float] | None = None) -> tuple[Flight, FloatArray] | None:
        """Least-squares flight through ``obs`` (and near ``anchor``; starting near the velocity ``prior``
        (m/s, one sigma) at the anchor's time: a ball let go from a hand, a bounce); the fit and each
        pixel's error, or None."""
        return self._fits(obs, [(anchor, prior)])[0]

    def _fits(self, obs: list[_Obs], starts: Sequence[_Start]) -> list[tuple[Flight, FloatArray] | None]:
        """:meth:`_fit` of the same pixels from each ``(anchor, prior)`` of ``starts``, solved together: one
        batch of 6 x 6 normal equations per iteration instead of one Python pass per start (a contact's
        time is searched over several starts)."""
        nb, n = len(starts), len(obs)
        t = np.array([o.t for o in obs])
        t_ref = np.array([obs[0].t if a is None else a[0] for a, _ in starts])
        s = t[None, :] - t_ref[:, None]  # (batch, pixel) seconds from each start
        xn = np.array([o.xn for o in obs])
        yn = np.array([o.yn for o in obs])
        r, tr = self._r, self._tr
        m = np.vstack([r[0] - xn[:, None] * r[2], r[1] - yn[:, None] * r[2]])  # (2n, 3)
        rhs = np.concatenate([xn * tr[2] - tr[0], yn * tr[2] - tr[1]])
        ss = np.concatenate([s, s], axis=1)  # (batch, 2n)
        s1, s2, s3 = s[:, :, None], 0.5 * (s * s)[:, :, None], (s ** 3 / 6)[:, :, None]  # (batch, pixel, 1)
        ss2, ss3 = 0.5 * ss * ss, ss ** 3 / 6
        # Anchor and prior as weighted pseudo-observations of P and V (weight 0: none).
        wa = np.array([0.0 if a is None else ANCHOR_SIGMA_M ** -2 for a, _ in starts])
        pa = np.array([np.zeros(3) if a is None else a[1] for a, _ in starts])
        wp = np.array([0.0 if p is None else p[1] ** -2 for _, p in starts])
        pv = np.array([np.zeros(3) if p is None else p[0] for _, p in starts])
        extra = np.zeros((nb, 6, 6))
        extra[:, :3, :3] = wa[:, None, None] * np.eye(3)
        extra[:, 3:, 3:] = wp[:, None, None] * np.eye(3)
        extra_b = np.concatenate([wa[:, None] * pa, wp[:, None] * pv], axis=1)
        g = np.array([0.0, 0.0, -GRAVITY])
        a0, a1 = np.tile(g, (nb, 1)), np.zeros((nb, 3))  # acceleration a0 + a1 s: gravity, drag (by iteration)
        depth = np.full((nb, n), 10.0)
        ok = np.ones(nb, bool)
        lhs = np.concatenate([np.broadcast_to(m, (nb, 2 * n, 3)), m[None] * ss[:, :, None]], axis=2)
        s_mean = s.sum(axis=1) / n
        sc = s[0] - s_mean[0]  # the same for every start (they differ by a shift)
        spread = float(sc @ sc)
        theta = np.zeros((nb, 6))
        normal = extra
        for _ in range(3):
            w = np.concatenate([self._f / depth, self._f / depth], axis=1)
            rows = lhs * w[:, :, None]
            b = (rhs[None] - ss2 * (a0 @ m.T) - ss3 * (a1 @ m.T)) * w
            rows_t = rows.transpose(0, 2, 1)
            normal = rows_t @ rows + extra  # normal equations: 6 x 6 each
            vec = (rows_t @ b[:, :, None])[:, :, 0] + extra_b
            try:
                theta = np.linalg.solve(normal, vec[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                return [self._fits(obs, [start])[0] for start in starts] if nb > 1 else [None]
            pts = theta[:, None, :3] + s1 * theta[:, None, 3:] + s2 * a0[:, None] + s3 * a1[:, None]
            depth = pts @ r[2] + tr[2]
            ok &= depth.min(axis=1) > 0.5
            depth = np.where(ok[:, None], depth, 10.0)
            vel = theta[:, None, 3:] + s1 * a0[:, None] + s2 * a1[:, None]
            acc = g - DRAG_K * np.sqrt((vel * vel).sum(axis=2))[:, :, None] * vel
            if spread > 0:  # a straight line through the accelerations over time, per axis
                a1 = (sc @ acc) / spread  # sc sums to 0: no need to centre acc
                a0 = acc.sum(axis=1) / n - a1 * s_mean[:, None]
            else:
                a0, a1 = acc[:, 0].copy(), np.zeros((nb, 3))
        pts = theta[:, None, :3] + s1 * theta[:, None, 3:] + s2 * a0[:, None] + s3 * a1[:, None]
        cam = pts @ r.T + tr
        err = self._f * np.hypot(cam[:, :, 0] / cam[:, :, 2] - xn, cam[:, :, 1] / cam[:, :, 2] - yn)
        ok &= self._plausible(pts, theta[:, 3:])
        try:
            cov = np.linalg.inv(normal)
        except np.linalg.LinAlgError:
            return [self._fits(obs, [start])[0] for start in starts] if nb > 1 else [None]
        sigma = np.maximum(0.5, np.sqrt((err * err).sum(axis=1) / n))
        cov_v = cov[:, 3:, 3:] * (sigma * sigma)[:, None, None]
        return [(Flight(float(t_ref[k]), theta[k, :3], theta[k, 3:], a0[k], cov_v[k], a1[k]), err[k])
                if ok[k] else None for k in range(nb)]

    @staticmethod
    def _plausible(pts: FloatArray, v: FloatArray) -> npt.NDArray[np.bool_]:
        """Per flight of a batch (``pts`` (batch, pixel, 3) metres, ``v`` (batch, 3) m/s): no faster than
        MAX_SPEED_MPS and inside BOUNDS."""
        inside = ((pts.min(axis=1) >= _LOW) & (pts.max(axis=1) <= _HIGH)).all(axis=1)
        return np.asarray(inside & ((v * v).sum(axis=1) <= MAX_SPEED_MPS ** 2))

    @staticmethod
    def _through_wall(p: FloatArray) -> bool:
        """Whether ``p`` (metres) lies more than :data:`PAST_WALL_M` beyond the floor or a wall panel: no ball
        gets there, so a flight through it has swallowed the pixels after a bounce (the glass far from the
        camera turns the ball back along its sight line, moving its pixel little)."""
        if p[2] < -PAST_WALL_M:
            return True
        r = court.BALL_RADIUS_M
        for axis, wall, low, high, along in ((1, "y", 0.0, court.LENGTH_M, p[0]),
                                             (0, "x", -court.HALF_WIDTH_M, court.HALF_WIDTH_M, p[1])):
            for offset, beyond in ((high, p[axis] - (high - r)), (low, (low + r) - p[axis])):
                if beyond > PAST_WALL_M and court.wall_at(wall, offset, float(along), float(max(0.0, p[2]))):
                    return True
        return False

    def _moving_px(self, obs: list[_Obs]) -> float:
        """How far (pixels) the latest of ``obs`` lies from the farthest of the others."""
        xy = np.array([(o.xn, o.yn) for o in obs]) * self._f
        return float(np.max(np.linalg.norm(xy - xy[-1], axis=1)))

    def _moving(self, obs: list[_Obs]) -> bool:
        """Whether ``obs`` span :data:`MIN_MOTION_PX` (fewer than FREE_MIN pixels always count as moving)."""
        return len(obs) < FREE_MIN or self._moving_px(obs) >= MIN_MOTION_PX

    def _predict_px(self, flight: Flight, obs: _Obs) -> float:
        pos, _ = flight.at(obs.t)
        cam = self._r @ pos + self._tr
        if cam[2] <= 0.5:
            return math.inf
        return float(self._f * math.hypot(cam[0] / cam[2] - obs.xn, cam[1] / cam[2] - obs.yn))

    # -- segmentation --------------------------------------------------------------------
    def _refit(self, seg: _Segment) -> bool:
        """Fit ``seg`` (a flight) to its latest pixels; False when no fit explains them.

        The fit leans on where the flight starts (its anchor: the contact or the hand it left) or,
        once the window has moved on, on where the previous fit put the window's first pixel: a single
        view of a ball falling straight away from it has two near-equal flights, and continuity picks
        the right one. When that prior does not fit (an error carried from the flight before), the
        pixels alone decide.
        """
        window = seg.obs[-self._window:]
        prior = None
        if window[0] is seg.obs[0]:
            anchor, prior = seg.anchor, seg.prior
        else:
            anchor = None if seg.fit is None else (window[0].t, seg.fit.at(window[0].t)[0])
        got = self._fit(window, anchor, prior)
        if (got is None or float(got[1].max()) > self._fit_px) and anchor is not None and len(window) >= FREE_MIN:
            got = self._fit(window)
        if got is None or float(got[1].max()) > self._fit_px or not self._moving(seg.obs[-FREE_MIN:]) \
                or self._through_wall(got[0].at(window[-1].t)[0]):
            return False  # (through a wall: the pixel came after a bounce there; a contact, not this flight)
        seg.fit = got[0]
        return True

    def _start(self, obs: _Obs, kind: str = "pending", anchor_from: _Segment | None = None) -> _Segment:
        seg = _Segment(kind, [obs], anchor_from)
        if anchor_from is not None and anchor_from.fit is not None:
            end = anchor_from.obs[-1].t
            seg.came_from = (end, anchor_from.fit.at(end)[0])
        obs.seg = seg
        self._seg = seg
        return seg

    def _add(self, obs: _Obs) -> None:
        """Place ``obs``. A pixel a flight (or a held ball) does not explain waits for the next one: when
        that one is explained, the first was a wrong peak of the tracker (dropped: its frame takes the
        flight's position); when not, a contact happened (or another ball came) at the first."""
        seg = self._seg
        suspect, self._suspect = self._suspect, None
        if seg is None or obs.t - seg.obs[-1].t > MAX_GAP_S:
            self._start(obs)
            return
        if suspect is not None:
            if self._explains(seg, obs):
                suspect.seg = seg if seg.kind == "flight" else None
            else:
                self._place(seg, suspect, confirmed=True)
                seg = self._seg
                assert seg is not None
        self._place(seg, obs)

    def _unseen(self) -> None:
        """A frame without the ball after a pixel the flight did not explain (held back as the suspect):
        no pixel will say whether it was a contact or a wrong peak, but when the flight ran into a surface
        on its way to it, the ball bounced there, whatever that pixel was."""
        seg, suspect = self._seg, self._suspect
        if suspect is not None and suspect.contact is None and seg is not None and seg.kind == "flight" \
                and seg.fit is not None:
            suspect.contact = self._ran_into(seg.fit, seg.obs[-1].t, suspect.t)

    def _explains(self, seg: _Segment, obs: _Obs) -> bool:
        """Whether ``obs`` continues ``seg`` as far as one pixel tells: a flight's prediction, a held
        ball's place (pending segments take every pixel)."""
        if seg.kind == "flight" and seg.fit is not None:
            return self._predict_px(seg.fit, obs) <= self._break_px
        if seg.kind == "held":
            return self._f * math.hypot(obs.xn - seg.obs[-1].xn, obs.yn - seg.obs[-1].yn) <= JUMP_PX
        return True

    def _place(self, seg: _Segment, obs: _Obs, *, confirmed: bool = False) -> None:
        """Add ``obs`` to ``seg`` or, when it does not continue it, hold it back as the suspect (unless the
        pixel after it already ``confirmed`` the change)."""
        if seg.kind == "flight" and seg.fit is not None:
            if self._predict_px(seg.fit, obs) <= self._break_px:
                seg.obs.append(obs)
                obs.seg = seg
                if self._refit(seg):
                    return
                seg.obs.pop()
                obs.seg = None
            if not confirmed:
                self._suspect = obs
                return
            self._break(seg, obs)
            return
        if seg.kind == "held" and not self._explains(seg, obs):
            if not confirmed:
                self._suspect = obs
                return
            self._start(obs)  # a still ball does not jump: another one (a new point's ball in a hand)
            return
        seg.obs.append(obs)
        obs.seg = seg
        if seg.kind == "pending":
            self._resolve_pending(seg)
        else:
            self._leave_held(seg)

    def _break(self, seg: _Segment, obs: _Obs) -> None:
        """``obs`` does not continue the flight ``seg``. A flight with FREE_MIN pixels, or one from a
        known start (a hand's release, a contact) with ANCHORED_MIN + 2 that has reached the floor or a
        wall (a serve's drop at its bounce), stands: a contact happened and the next flight starts from it. A younger one is not trusted as an anchor: its pixels go back to
        pending, with ``obs``, anchored to the flight before it. A sight line no ball could reach from
        where the flight last was (faster than MAX_SPEED_MPS) is another ball: a new point's, in a hand."""
        last = seg.obs[-1]
        if seg.fit is not None and \
                self._ray_distance(obs, seg.fit.at(last.t)[0]) > MAX_SPEED_MPS * (obs.t - last.t):
            self._start(obs)
            return
        if seg.fit is not None:
            obs.contact = self._ran_into(seg.fit, last.t, obs.t) or self._in_air(seg.fit, last.t, obs.t)
        if len(seg.obs) >= FREE_MIN or (seg.anchor is not None and len(seg.obs) >= ANCHORED_MIN + 2
                                        and seg.fit is not None and self._response(*seg.fit.at(obs.t)) is not None):
            self._start(obs, anchor_from=seg)
            return
        parent = seg.parent if seg.parent is not None and seg.parent.fit is not None else None
        # Its start point stays (where it was held, or the contact it flew from): only its flight is in doubt.
        merged = _Segment("pending", [*seg.obs, obs], parent, anchor=seg.anchor, prior=seg.prior,
                          came_from=seg.anchor)
        for o in merged.obs:
            o.seg = merged
        self._seg = merged
        self._resolve_pending(merged)

    def _resolve_pending(self, seg: _Segment) -> None:
        """Decide a pending segment, newest pixel added: a flight from its start point (or two, a contact
        between), a flight from the contact that ended the flight before, a free flight of its latest
        pixels, or a ball at rest (held, on the floor, at the net); else it waits for more pixels."""
        n = len(seg.obs)
        # A ball whose pixels stay put is at rest, whatever flight along its sight line would fit them.
        if seg.anchor is not None and ANCHORED_MIN <= n <= self._window and self._moving_px(seg.obs) >= MIN_MOTION_PX:
            got = self._fit(seg.obs, seg.anchor, seg.prior)
            if got is not None and float(got[1].max()) <= self._fit_px:
                seg.kind, seg.fit, seg.anchor_from = "flight", got[0], None
                return
            if n >= 2 * ANCHORED_MIN and self._split(seg):
                return
        if seg.anchor_from is not None and n >= ANCHORED_MIN:
            if self._anchored(seg):
                return
            if n >= self._window:
                seg.anchor_from = None
        if n < FREE_MIN:
            return
        for size in (self._window, FREE_MIN):
            window = seg.obs[-size:]
            got = self._fit(window)
            if got is not None and float(got[1].max()) <= self._fit_px and self._moving(window[-FREE_MIN:]):
                if len(window) < n:  # the pixels before it (a contact among them) stay unplaced
                    before = _Segment("pending", seg.obs[:n - len(window)])
                    for o in before.obs:
                        o.seg = before
                    del seg.obs[:n - len(window)]
                seg.kind, seg.fit, seg.anchor_from = "flight", got[0], None
                return
        plane = self._rest_plane(seg)
        if plane is not None:
            seg.kind, seg.plane = "held", plane

    def _split(self, seg: _Segment) -> bool:
        """The pending ``seg`` from its known start (``seg.anchor``) as two flights, a contact between (a
        serve's drop and its bounce): the best split of its pixels, each part at least ANCHORED_MIN."""
        assert seg.anchor is not None
        best: tuple[float, int, Flight, Flight, tuple[float, FloatArray]] | None = None
        for k in range(ANCHORED_MIN, len(seg.obs) - ANCHORED_MIN + 1):
            if min(self._moving_px(seg.obs[:k]), self._moving_px(seg.obs[k:])) < MIN_MOTION_PX:
                continue  # a part whose pixels stay put is a ball at rest, not a flight
            first = self._fit(seg.obs[:k], seg.anchor, seg.prior)
            if first is None or float(first[1].max()) > self._fit_px:
                continue
            tau = (seg.obs[k - 1].t + seg.obs[k].t) / 2
            anchor = (tau, first[0].at(tau)[0])
            second = self._fit(seg.obs[k:], anchor, self._response(*first[0].at(tau)))
            if second is None or float(second[1].max()) > self._fit_px:
                continue
            cost = float(np.sum(first[1] ** 2) + np.sum(second[1] ** 2))
            if best is None or cost < best[0]:
                best = (cost, k, first[0], second[0], anchor)
        if best is None:
            return False
        _, k, first_fit, second_fit, anchor = best
        head = _Segment("flight", seg.obs[:k], parent=seg.parent, anchor=seg.anchor, prior=seg.prior,
                        fit=first_fit)
        for o in head.obs:
            o.seg = head
        del seg.obs[:k]
        seg.kind, seg.fit, seg.anchor, seg.prior, seg.parent, seg.anchor_from = \
            "flight", second_fit, anchor, self._response(*first_fit.at(anchor[0])), head, None
        return True

    def _anchored(self, seg: _Segment) -> bool:
        """Try the pending ``seg`` as the flight after a contact that ended ``seg.anchor_from``.

        The contact lies between the old flight's last pixel and the new one's first, at a time no
        pixel shows: it is searched over :data:`CONTACT_TIMES` fractions of that interval (a ball falls
        7 cm in half a frame at 30 fps, more than the anchor's sigma: the interval's middle alone
        misplaces a floor bounce's start)."""
        old = seg.anchor_from
        assert old is not None and old.fit is not None
        best: tuple[float, int, Flight, Flight, tuple[float, FloatArray], tuple[FloatArray, float] | None] | None = None
        for back in range(0, LOOKBACK + 1):
            kept = old.obs[:len(old.obs) - back]
            if len(kept) < ANCHORED_MIN:
                break
            key = (len(old.obs), back)
            if key not in seg.old_fits:
                start = len(kept) <= self._window
                seg.old_fits[key] = self._fit(kept[-self._window:], old.anchor if start else None,
                                              old.prior if start else None)
            got_old = seg.old_fits[key]
            if got_old is None:
                continue
            old_fit, old_err = got_old
            moved = old.obs[len(kept):] + seg.obs
            starts = []
            for frac in CONTACT_TIMES:
                tau = kept[-1].t + frac * (moved[0].t - kept[-1].t)
                at, v_in = old_fit.at(tau)
                starts.append(((tau, at), self._response(at, v_in)))
            for (anchor, prior), got in zip(starts, self._fits(moved, starts), strict=True):
                if got is None or float(got[1].max()) > self._fit_px:
                    continue
                cost = float(np.sum(got[1] ** 2) + np.sum(old_err ** 2))
                if best is None or cost < best[0]:
                    best = (cost, back, old_fit, got[0], anchor, prior)
        if best is None:
            return False
        _, back, old_fit, new_fit, anchor, prior = best
        if back:
            moved = old.obs[len(old.obs) - back:]
            del old.obs[len(old.obs) - back:]
            old.fit = old_fit
            seg.obs[:0] = moved
            for o in moved:
                o.seg = seg
        seg.kind, seg.fit, seg.anchor, seg.anchor_from, seg.parent = "flight", new_fit, anchor, None, old
        seg.prior = prior
        return True

    def _leave_held(self, seg: _Segment) -> None:
        """A held ball that now flies: its latest pixels fit a flight from where it was held
        (:data:`ANCHORED_MIN` + 2 of them or more), or else a free flight (:data:`FREE_MIN`)."""
        got: tuple[Flight, FloatArray] | None = None
        anchor: tuple[float, FloatArray] | None = None
        size = 0
        # A drop seen from far moves few pixels at first: the anchored window grows until it moves.
        for size in (ANCHORED_MIN + 2, ANCHORED_MIN + 4, FREE_MIN, FREE_MIN + 2):
            if size > len(seg.obs) - 1:
                break
            release = seg.obs[-size - 1]
            held_at = self._on_plane(release, *seg.plane)
            window = seg.obs[-size:]
            if held_at is None or self._moving_px(window) < MIN_MOTION_PX:
                continue
            anchor = ((release.t + window[0].t) / 2, held_at)
            got = self._fit(window, anchor, RELEASED)
            if got is not None and float(got[1].max()) <= self._fit_px:
                break
            got = None
        if got is None and len(seg.obs) > FREE_MIN:
            size, anchor = FREE_MIN, None
            window = seg.obs[-size:]
            got = self._fit(window)
            if got is not None and (float(got[1].max()) > self._fit_px or not self._moving(window)):
                got = None
        if got is None or self._carried(seg, size):
            return
        flight = _Segment("flight", list(seg.obs[-size:]), fit=got[0], anchor=anchor,
                          prior=RELEASED if anchor is not None else None)
        del seg.obs[-size:]
        for o in flight.obs:
            o.seg = flight
        self._seg = flight

    def _carried(self, seg: _Segment, size: int) -> bool:
        """Whether the held ``seg``'s latest ``size`` pixels (and the one before), placed in its plane, move
        at one velocity no faster than a hand (within :data:`CARRIED_M` of a straight line at constant
        speed): a hand carrying the ball, which one view can also read as a flight along its sight line.
        A dropped ball accelerates in that plane too."""
        window = seg.obs[-size - 1:]
        pts = [self._on_plane(o, *seg.plane) for o in window]
        if any(p is None for p in pts):
            return False
        xyz = np.array(pts)
        t = np.array([o.t for o in window])
        a = np.vstack([np.ones_like(t), t - t[0]]).T
        coef, *_ = np.linalg.lstsq(a, xyz, rcond=None)
        residual = float(np.max(np.linalg.norm(a @ coef - xyz, axis=1)))
        return residual <= CARRIED_M and float(np.linalg.norm(coef[1])) <= HAND_SPEED_MPS

    # -- positions ----------------------------------------------------------------------
    def _point(self, i: int) -> BallPoint:
        obs = self._frames[i][2]
        if obs is not None and obs.contact is not None:
            return replace(self._placed(i), contact=obs.contact)
        return self._placed(i)

    def _placed(self, i: int) -> BallPoint:
        index, t, obs = self._frames[i]
        seg = obs.seg if obs is not None else self._between(i)
        if seg is None or seg.kind == "pending":
            return BallPoint(index, t, None)
        if seg.kind == "held":
            if obs is None:
                return BallPoint(index, t, None)
            p = self._on_plane(obs, *seg.plane)
            if p is None or not self._inside(p):  # a sight line grazing the plane: no place for it
                return BallPoint(index, t, None)
            return BallPoint(index, t, (float(p[0]), float(p[1]), float(p[2])), held=True)
        assert seg.fit is not None
        pos, vel = seg.fit.at(t)
        return BallPoint(index, t, (float(pos[0]), float(pos[1]), float(pos[2])),
                         (float(vel[0]), float(vel[1]), float(vel[2])), seg.fit.speed_error(vel))

    def _between(self, i: int) -> _Segment | None:
        """The flight an unseen frame lies inside (seen before and after in the same flight), if any."""
        before = next((o for _, _, o in reversed(list(self._frames)[:i]) if o is not None), None)
        after = next((o for _, _, o in list(self._frames)[i + 1:] if o is not None), None)
        if before is not None and after is not None and before.seg is after.seg \
                and before.seg is not None and before.seg.kind == "flight":
            return before.seg
        return None
