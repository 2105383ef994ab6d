"""One camera's analytics state: annotations in, :class:`AnalyticsMessage` values out (pure).

The player model and the ball model annotate frames separately; their annotations
are joined by ``seq``. A frame is analysed when both have arrived (or one model
alone annotates both), or with what came when it falls :data:`JOIN_WINDOW` frames
behind the newest one (a model skipped it: inference drops frames under load).
Frames are analysed in ``seq`` order; an annotation for a frame already analysed
(late, replayed or duplicated), from another model, for another camera, or whose
frame size cannot be mapped onto the calibration is refused with a
:class:`Skipped` naming the reason, and changes nothing.

Times: ``ts`` Unix ns from the annotations; internally seconds since the first
frame. Pixels are scaled from the frame's size to the calibration's.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from courtside_contracts.analytics import (
    AnalyticsMessage,
    BallState,
    BounceEvent,
    CalibrationInfo,
    HitEvent,
    PlayerState,
    RallyState,
    RallyStats,
)
from courtside_contracts.annotations import Annotation, DetectedObject

from analytics.ball3d import BallPoint, BallTracker3D
from analytics.bounces import Bounce, detect
from analytics.calibrated import Calibrated
from analytics.hits import MAX_HEIGHT_M, MIN_GAP, REACH_M, Hit, nearest_player
from analytics.hits import detect as detect_hits
from analytics.players import PlayerStats, box_feet, zone_of
from analytics.rallies import RallyTracker
from courtside.court import model as court
from courtside.court.model import Surface

#: Frames a partly annotated frame waits for the other model before it is analysed without it.
JOIN_WINDOW = 15
#: Settled ball frames the bounce detector looks at (enough for its net-contact rule).
BOUNCE_WINDOW = 8
#: Settled frames a hit is decided behind the newest: a hit at frame k needs the ball up to k + 1 and
#: the bounces up to k + 1, which are found one settled frame behind the newest.
HIT_DELAY = 2
#: A bounce on the surface of one reported this many frames before is the same contact (read twice: from
#: the flight's path, then from the settled positions a frame later).
SAME_CONTACT_FRAMES = 3
#: COCO keypoints of the ankles, and the score a keypoint needs to count.
ANKLES = (15, 16)
KEYPOINT_SCORE = 0.3
#: Untracked detections join the nearest player seen within this many metres and seconds.
ASSOCIATE_M = 1.5
ASSOCIATE_S = 1.0
#: A player unseen this long is forgotten (seconds).
FORGET_S = 10.0
#: A seq this far behind the last analysed one, with a later ts, means the camera's stream started again.
RESTART_SEQS = 30
#: A ball speed counts towards a rally's fastest when its one-sigma band is within this fraction of it.
SPEED_BAND = 0.1
SKIP_REASONS = ("garbage", "model", "camera", "out_of_order", "duplicate", "frame_size")


class Skipped(ValueError):
    """An annotation refused; ``reason`` is one of :data:`SKIP_REASONS` (the metrics label)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class _Frame:
    seq: int
    ts: int
    players: Annotation | None = None
    ball: Annotation | None = None


class _Players:
    """Players by track id: the model's ids when it tracks, else nearest-neighbour ids on the floor."""

    def __init__(self) -> None:
        self.stats: dict[int, PlayerStats] = {}
        self._next_id = 1_000_000  # our own ids, apart from a tracker's

    def update(self, t: float, found: list[tuple[int | None, tuple[float, float]]]) -> list[int]:
        ids: list[int] = []
        taken: set[int] = set()
        for track_id, xy in found:
            if track_id is None:
                track_id = self._nearest(t, xy, taken)
            taken.add(track_id)
            stats = self.stats.setdefault(track_id, PlayerStats())
            if stats.t is None or t > stats.t:
                stats.update(t, xy)
            ids.append(track_id)
        for tid in [k for k, s in self.stats.items() if s.t is not None and t - s.t > FORGET_S]:
            del self.stats[tid]
        return ids

    def _nearest(self, t: float, xy: tuple[float, float], taken: set[int]) -> int:
        best: tuple[float, int] | None = None
        for tid, s in self.stats.items():
            if tid in taken or s.position is None or s.t is None or t - s.t > ASSOCIATE_S:
                continue
            d = math.hypot(s.position[0] - xy[0], s.position[1] - xy[1])
            if d <= ASSOCIATE_M and (best is None or d < best[0]):
                best = (d, tid)
        if best is not None:
            return best[1]
        self._next_id += 1
        return self._next_id


class CameraAnalytics:
    """Analytics of ``camera`` under ``calibration`` from ``player_model`` and ``ball_model``
    (``ball_noise_px``: that model's pixel error, one sigma per axis in pixels of the calibrated image, which
    the 3D ball's fits allow for)."""

    def __init__(self, camera: str, calibration: Calibrated, player_model: str, ball_model: str,
                 player_label: str = "person", *, ball_noise_px: float = 0.0) -> None:
        self.camera = camera
        self.ball_noise_px = ball_noise_px
        self.calibration = calibration
        self.player_model = player_model
        self.ball_model = ball_model
        self.player_label = player_label
        self.info = CalibrationInfo(calibration.revision, calibration.kind, calibration.reprojection_px)
        self.restarts = 0
        self._start_afresh()

    def _start_afresh(self) -> None:
        calibration = self.calibration
        self._pending: dict[int, _Frame] = {}
        self._done_seq = -1
        self._last_ts = -1
        self._t0: int | None = None
        self._players = _Players()
        self._ball3d = (BallTracker3D(calibration.camera, noise_px=self.ball_noise_px)
                        if calibration.camera is not None else None)
        self._settled: deque[BallPoint] = deque(maxlen=BOUNCE_WINDOW)
        self._seq_ts: dict[int, int] = {}
        #: Players' floor positions (metres) by seq and track id, for the hit rules at settled frames.
        self._seq_players: dict[int, dict[int, tuple[float, float]]] = {}
        #: The latest bounces reported: (seq, surface).
        self._bounces: deque[tuple[int, Surface]] = deque(maxlen=BOUNCE_WINDOW)
        self._last_hit_seq: int | None = None
        self._rallies = RallyTracker() if calibration.camera is not None else None
        self._floor_ball: tuple[float, float, float] | None = None  # (t, x, y) of the last floor-plane ball

    # -- input ---------------------------------------------------------------------------
    def feed(self, ann: Annotation) -> list[AnalyticsMessage]:
        """Take one annotation; the messages of the frames it completes (in seq order), or :class:`Skipped`."""
        if ann.camera != self.camera:
            raise Skipped("camera", f"annotation for camera {ann.camera}, not {self.camera}")
        if ann.model not in (self.player_model, self.ball_model):
            raise Skipped("model", f"model {ann.model} is neither {self.player_model} nor {self.ball_model}")
        if self._done_seq - ann.seq >= RESTART_SEQS and ann.ts > self._last_ts:
            # seq went far back while time went on: ingest restarted (seqs start again at 1).
            self.restarts += 1
            self._start_afresh()
        if ann.seq <= self._done_seq:
            raise Skipped("out_of_order", f"seq {ann.seq} of {ann.model} arrived after frame {self._done_seq}")
        if self.calibration.scale_from(ann.frame_w, ann.frame_h) is None:
            raise Skipped("frame_size", f"frame {ann.frame_w}x{ann.frame_h} does not match the calibration's "
                                        f"{self.calibration.width}x{self.calibration.height} aspect ratio")
        frame = self._pending.get(ann.seq)
        if frame is not None and frame.ts != ann.ts:
            raise Skipped("garbage", f"seq {ann.seq}: ts {ann.ts} differs from {frame.ts} of the other model")
        if frame is None:
            frame = self._pending[ann.seq] = _Frame(ann.seq, ann.ts)
        for model, attr in ((self.player_model, "players"), (self.ball_model, "ball")):
            if ann.model == model:
                if getattr(frame, attr) is not None:
                    raise Skipped("duplicate", f"seq {ann.seq} of {ann.model} arrived twice")
                setattr(frame, attr, ann)
        ready = [s for s, f in self._pending.items()
                 if (f.players is not None and f.ball is not None) or s <= ann.seq - JOIN_WINDOW]
        if not ready:
            return []
        upto = max(ready)
        out = []
        for seq in sorted(s for s in self._pending if s <= upto):
            f = self._pending.pop(seq)
            if f.ts <= self._last_ts:  # a frame whose time does not move on cannot be placed in time
                continue
            out.append(self._analyse(f))
        return out

    def flush(self) -> list[AnalyticsMessage]:
        """Analyse every waiting frame now (at stop, or when a camera goes away)."""
        out = []
        for seq in sorted(self._pending):
            f = self._pending.pop(seq)
            if f.ts > self._last_ts:
                out.append(self._analyse(f))
        return out

    # -- one frame ------------------------------------------------------------------------
    def _analyse(self, f: _Frame) -> AnalyticsMessage:
        self._done_seq, self._last_ts = f.seq, f.ts
        if self._t0 is None:
            self._t0 = f.ts
        t = (f.ts - self._t0) / 1e9
        players = self._player_states(t, f.players) if f.players is not None else ()
        pixel = self._ball_pixel(f.ball)
        bounces: tuple[BounceEvent, ...] = ()
        hits: tuple[HitEvent, ...] = ()
        finished: RallyStats | None = None
        if self._ball3d is not None:
            self._seq_ts[f.seq] = f.ts
            self._seq_players[f.seq] = {p.track_id: (p.x, p.y) for p in players}
            for point in self._ball3d.update(f.seq, t, pixel):
                b, h, r = self._settle(point)
                bounces += b
                hits += h
                finished = r or finished
            ball = self._ball_3d_state(self._ball3d.current())
            for seq in [s for s in self._seq_ts if s < f.seq - 4 * BOUNCE_WINDOW - self._ball3d.lag]:
                del self._seq_ts[seq]
                self._seq_players.pop(seq, None)
        else:
            ball = self._ball_floor_state(t, pixel)
        rally = None
        if self._rallies is not None:
            active = self._rallies.active
            rally = RallyState(False, None, 0) if active is None else RallyState(True, self._ts(active[0]), active[1])
        return AnalyticsMessage(self.camera, f.seq, f.ts, self.info, players, ball, bounces, rally, finished, hits)

    def _ts(self, t: float) -> int:
        assert self._t0 is not None
        return self._t0 + round(t * 1e9)

    def _scale(self, ann: Annotation) -> tuple[float, float]:
        scale = self.calibration.scale_from(ann.frame_w, ann.frame_h)
        assert scale is not None  # checked in feed
        return scale

    def _feet(self, obj: DetectedObject, sx: float, sy: float) -> tuple[float, float]:
        kps = obj.keypoints
        if kps is not None and len(kps) > max(ANKLES):
            ankles = [kps[i] for i in ANKLES if kps[i][2] >= KEYPOINT_SCORE]
            if ankles:
                return (sum(a[0] for a in ankles) / len(ankles) * sx, sum(a[1] for a in ankles) / len(ankles) * sy)
        u, v = box_feet(obj.box)
        return u * sx, v * sy

    def _player_states(self, t: float, ann: Annotation) -> tuple[PlayerState, ...]:
        sx, sy = self._scale(ann)
        objs = [o for o in ann.objects if o.label == self.player_label]
        if not objs:
            return ()
        xy = self.calibration.floor.image_to_floor(np.array([self._feet(o, sx, sy) for o in objs]))
        found = [(o.track_id, (float(p[0]), float(p[1]))) for o, p in zip(objs, xy, strict=True)
                 if math.isfinite(p[0]) and math.isfinite(p[1])]
        ids = self._players.update(t, found)
        out = []
        for tid, (_, (x, y)) in zip(ids, found, strict=True):
            s = self._players.stats[tid]
            out.append(PlayerState(tid, "near" if court.side_of(y) == 0 else "far", x, y, s.speed_mps, s.distance_m,
                                   zone_of(y).value, {z.value: v for z, v in s.zone_s.items()}))
        return tuple(out)

    def _ball_pixel(self, ann: Annotation | None) -> tuple[float, float] | None:
        if ann is None or ann.ball is None or not ann.ball.visible:
            return None
        sx, sy = self._scale(ann)
        return ann.ball.x * sx, ann.ball.y * sy

    def _ball_3d_state(self, point: BallPoint | None) -> BallState | None:
        if point is None or point.position is None:
            return None
        speed = None if point.velocity is None else math.hypot(*point.velocity)
        x, y, z = point.position
        return BallState(x, y, z, speed, point.speed_error_mps, "3d")

    def _ball_floor_state(self, t: float, pixel: tuple[float, float] | None) -> BallState | None:
        if pixel is None:
            return None
        p = self.calibration.floor.image_to_floor(np.array([pixel]))[0]
        x, y = float(p[0]), float(p[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        speed = None
        if self._floor_ball is not None and t > self._floor_ball[0]:
            speed = math.hypot(x - self._floor_ball[1], y - self._floor_ball[2]) / (t - self._floor_ball[0])
        self._floor_ball = (t, x, y)
        return BallState(x, y, None, speed, None, "court_plane")

    def _settle(self, point: BallPoint) -> tuple[tuple[BounceEvent, ...], tuple[HitEvent, ...], RallyStats | None]:
        """A settled ball frame: bounces found at it (the window's newest middle frame), the hit
        :data:`HIT_DELAY` frames behind, rally updates."""
        assert self._rallies is not None
        self._settled.append(point)
        found: list[Bounce] = []
        if len(self._settled) >= 3:
            window = list(self._settled)
            times = np.array([p.t for p in window])
            pos = np.array([p.position if p.position is not None else (math.nan,) * 3 for p in window])
            found = [b for b in detect(times, pos) if b.index == len(window) - 2]
        at = self._settled[-2] if len(self._settled) >= 2 else point
        c = point.contact
        if c is not None and c.surface is not None and len(self._settled) >= 2 and not found and (
                point.position is None or c.surface is Surface.NET):
            # This frame's pixel broke a flight that ran into a surface on its way here, and the fits placed
            # nothing after it (the ball gone from view, the next flight too short), or that surface is the
            # net (whose contact the settled positions of a noisy fit miss): the flight's own path shows it.
            found = [Bounce(len(self._settled) - 2, at.t, c.position, c.surface)]
        found = [b for b in found if not any(s == b.surface and at.index - q <= SAME_CONTACT_FRAMES
                                             for q, s in self._bounces)]
        self._bounces.extend((at.index, b.surface) for b in found)
        events = []
        for b in found:
            events.append(BounceEvent(at.index, self._seq_ts.get(at.index, self._ts(at.t)), b.position[0],
                                      b.position[1], b.position[2], b.surface.value))
        # The rally tracker sees the frame the bounces belong to (one settled frame behind).
        velocity = None
        if at.velocity is not None and at.speed_error_mps is not None \
                and at.speed_error_mps <= SPEED_BAND * math.hypot(*at.velocity):
            velocity = at.velocity
        hits = self._hit()
        rally = (self._rallies.update(at.t, at.position, found, velocity=velocity, hits=hits)
                 if len(self._settled) >= 2 else None)
        stats = None
        if rally is not None and rally.end > rally.start:
            stats = RallyStats(self._ts(rally.start), self._ts(rally.end), rally.shots, rally.fastest_mps, rally.reason)
        hit_events = []
        for h in hits:
            y = self._seq_players[h.index][h.player][1]
            hit_events.append(HitEvent(h.index, self._seq_ts.get(h.index, self._ts(h.t)), h.player,
                                       "near" if court.side_of(y) == 0 else "far", *h.position))
        return tuple(events), tuple(hit_events), stats

    def _hit(self) -> list[Hit]:
        """The hit at the settled frame :data:`HIT_DELAY` behind the newest, if any (``Hit.index`` its seq).

        The hit rules look at that frame's four-frame neighbourhood only, so each frame is judged once;
        their one-hit-per-:data:`~analytics.hits.MIN_GAP` rule is kept here across calls. Where they find
        none (that neighbourhood not all placed, or placed by a flight fitted past the contact), a flight
        that broke in the air at that frame, a player within reach, is the hit (:meth:`_struck`).
        """
        if len(self._settled) < 3 + HIT_DELAY:
            return []
        window = list(self._settled)[-3 - HIT_DELAY:len(self._settled) - HIT_DELAY + 1]
        seqs = [p.index for p in window]
        players = [self._seq_players.get(s, {}) for s in seqs]
        found: list[Hit] = []
        if all(p.position is not None for p in window):
            times = np.array([p.t for p in window])
            pos = np.array([p.position for p in window])
            bounced = {q for q, _ in self._bounces}
            bounces = [i for i, s in enumerate(seqs) if s in bounced]
            found = [h for h in detect_hits(times, pos, players, bounces) if h.index == 2]
        found = found or self._struck(window[2], players[2])
        if not found or (self._last_hit_seq is not None and seqs[2] - self._last_hit_seq < MIN_GAP):
            return []
        self._last_hit_seq = seqs[2]
        h = found[0]
        return [Hit(seqs[2], h.t, h.position, h.player, h.turn_deg)]

    @staticmethod
    def _struck(point: BallPoint, players: Mapping[int, tuple[float, float]]) -> list[Hit]:
        """The hit a flight's break in the air at ``point`` shows, the ball within a player's reach and
        height (``turn_deg`` NaN: the turn itself was not placed)."""
        c = point.contact
        if c is None or c.surface is not None or c.position[2] > MAX_HEIGHT_M:
            return []
        near = nearest_player(c.position, players)
        if near is None or near[1] > REACH_M:
            return []
        return [Hit(point.index, c.t, c.position, near[0], math.nan)]
