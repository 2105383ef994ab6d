"""The simulator's ground truth as the annotations a player tracker and a ball tracker would publish.

Players: a box from the feet to the head (1.8 m) of each simulated player, track id = player + 1,
label ``person``. Ball: its true pixel, visible unless it is outside the image. Frames are
30 fps from ``BASE_TS``; ``seq`` starts at 1. Also the calibration an operator would click:
every court point in view, with ``noise_px`` of pixel noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from courtside_contracts.analytics import AnalyticsMessage
from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.annotations import Annotation, Ball, DetectedObject, Latency

from courtside.court.calibration import COURT_POINTS
from courtside.court.camera import Camera, broadcast_camera
from courtside.sim.clip import Simulation, Truth
from courtside.sim.render import Visibility

BASE_TS = 1_800_000_000_000_000_000
FPS = 30.0
WIDTH, HEIGHT = 640, 360


@dataclass(frozen=True, slots=True)
class SimFrameTruth:
    """One frame: its annotations and the truth to check against (players metres, ball;
    ``velocity`` the ball's, m/s, zero while held)."""

    seq: int
    ts: int
    players: Annotation
    ball: Annotation
    player_xy: tuple[tuple[float, float], ...]
    truth: Truth
    velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)


def camera() -> Camera:
    return broadcast_camera(WIDTH, HEIGHT)


def clicks(cam: Camera, camera_id: str, noise_px: float = 0.5, seed: int = 0) -> CalibrationRecord:
    rng = np.random.default_rng(seed)
    names = list(COURT_POINTS)
    uv, _ = cam.project([COURT_POINTS[n] for n in names])
    seen = cam.in_view(uv, margin=2.0)
    noisy = uv + rng.normal(0.0, noise_px, uv.shape)
    points = {n: (float(p[0]), float(p[1])) for n, p, s in zip(names, noisy, seen, strict=True) if s}
    return CalibrationRecord(camera_id, cam.width, cam.height, points, BASE_TS)


def frames(seed: int, count: int, camera_id: str, player_model: str, ball_model: str, *,
           fps: float = FPS, noise_px: float = 0.0, outliers: float = 0.0) -> list[SimFrameTruth]:
    """``count`` frames at ``fps``. The ball tracker's errors, seeded by ``seed`` (0, 0: the truth itself):
    ``noise_px`` pixels (one sigma per axis, Gaussian) added to the ball's true pixel, and a share
    ``outliers`` of the frames with the ball in view reporting a wrong peak anywhere in the image instead."""
    cam = camera()
    sim = Simulation(seed, WIDTH, HEIGHT, fps, camera=cam)
    rng = np.random.default_rng([seed, 15])
    out = []
    lat = Latency(0.0, 0.0, 0.0)
    for f in sim.frames(count):
        t = f.truth
        seq, ts = t.index + 1, BASE_TS + round(t.index * 1e9 / fps)
        xy = tuple((p.x, p.y) for p in sim.rally.players)
        feet, _ = cam.project([(x, y, 0.0) for x, y in xy])
        heads, _ = cam.project([(x, y, 1.8) for x, y in xy])
        objects = []
        for i, ((u, v), (_, vh)) in enumerate(zip(feet, heads, strict=True)):
            half = max(2.0, 0.22 * (v - vh))
            objects.append(DetectedObject("person", 0, 0.9, (float(u) - half, float(vh), float(u) + half, float(v)),
                                          track_id=i + 1))
        seen = t.visibility is not Visibility.OUT_OF_FRAME
        u, v = t.pixel
        if noise_px > 0:
            u, v = u + float(rng.normal(0.0, noise_px)), v + float(rng.normal(0.0, noise_px))
        if outliers > 0 and rng.random() < outliers:
            u, v = float(rng.uniform(0, WIDTH)), float(rng.uniform(0, HEIGHT))
        ball = Ball(u, v, 0.9, True) if seen else Ball(0.0, 0.0, 0.0, False)
        players = Annotation(camera_id, seq, ts, player_model, "truth", "trained", WIDTH, HEIGHT, lat,
                             tuple(objects))
        ball_ann = Annotation(camera_id, seq, ts, ball_model, "truth", "trained", WIDTH, HEIGHT, lat, (), ball)
        vel = sim.rally.velocity
        v = (0.0, 0.0, 0.0) if sim.rally.held_by is not None else (float(vel[0]), float(vel[1]), float(vel[2]))
        out.append(SimFrameTruth(seq, ts, players, ball_ann, xy, t, v))
    return out


def _rallies(frames_: list[SimFrameTruth]) -> tuple[list[tuple[int, int]], int | None]:
    """(start ts, end ts) of the rallies played to their end, and the start ts of one still in play."""
    out, start = [], None
    for f in frames_:
        for e in f.truth.events:
            if e.kind == "rally_start":
                start = f.ts
            elif e.kind == "rally_end" and start is not None:
                out.append((start, f.ts))
                start = None
    return out, start


def truth_rallies(frames_: list[SimFrameTruth]) -> list[tuple[int, int]]:
    """(start ts, end ts) of every rally the simulator played to its end."""
    return _rallies(frames_)[0]


def play_intervals(frames_: list[SimFrameTruth]) -> list[tuple[int, int]]:
    """(start ts, end ts) of every rally in play: those played to their end and, when the frames stop
    mid-rally, the last one up to the last frame (its bounces and hits are scored too)."""
    ended, open_start = _rallies(frames_)
    return ended + ([(open_start, frames_[-1].ts)] if open_start is not None else [])


def truth_bounces(frames_: list[SimFrameTruth], last_seq: int) -> list[tuple[int, str]]:
    """(seq, surface) of the bounces in play the camera saw (ball in the image the frame before and at
    the contact), up to ``last_seq``: a contact outside the picture cannot be seen from it."""
    seen = {f.seq: f.truth.visibility is not Visibility.OUT_OF_FRAME for f in frames_}
    out, in_play = [], False
    for f in frames_:
        for e in f.truth.events:
            if e.kind == "rally_start":
                in_play = True
            elif e.kind == "rally_end":
                in_play = False
            elif e.kind == "bounce" and in_play and f.seq <= last_seq and seen.get(f.seq - 1) and seen[f.seq]:
                assert e.surface is not None
                out.append((f.seq, e.surface.value))
    return out


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def _match(truth: list[int], found: list[int], within: int = 2) -> list[tuple[int, int]]:
    """Truth and found frames (seqs) matched one to one, each truth to its nearest free found within
    ``within`` frames: (truth index, found index) pairs."""
    used: set[int] = set()
    out = []
    for i, seq in enumerate(truth):
        cands = [k for k, s in enumerate(found) if k not in used and abs(s - seq) <= within]
        if cands:
            k = min(cands, key=lambda k: abs(found[k] - seq))
            used.add(k)
            out.append((i, k))
    return out


@dataclass(frozen=True, slots=True)
class Score:
    """Accuracy of analytics messages against the truth: metres, ratios, IoUs.

    Ball: ``ball_present`` the share of frames with the ball in the picture whose message places it,
    ``flying_as_flight`` the share of those with the ball in flight (not in a hand) whose message gives it
    a 3D speed (a flight, not a held ball), ``speed_within`` the share of messages with a 3D speed, the ball
    in flight, within 10 % of the true speed (``speed_frames`` of them), ``ball_median_m`` the median 3D
    position error of the placed balls. Hits: those in play, matched within 2 frames.
    """

    position_median_m: float
    players_placed: int
    bounces_truth: int
    bounces_found: int
    bounce_recall: float
    bounce_precision: float
    surfaces_right: float
    rally_ious: tuple[float, ...]
    rallies_found: int
    rallies_unmatched: int
    hits_truth: int
    hits_found: int
    hit_recall: float
    hit_precision: float
    ball_present: float
    flying_as_flight: float
    speed_frames: int
    speed_within: float
    ball_median_m: float

    def table(self) -> str:
        return "\n".join([
            "| measure | value |", "|---|---|",
            f"| player position error, median | {self.position_median_m * 100:.1f} cm ({self.players_placed} placed) |",
            f"| bounces in play seen (truth / found) | {self.bounces_truth} / {self.bounces_found} |",
            f"| bounce recall / precision (within 2 frames) | {self.bounce_recall:.3f} / {self.bounce_precision:.3f} |",
            f"| bounce surfaces right | {self.surfaces_right:.3f} |",
            f"| rallies (truth / found / found unmatched) | {len(self.rally_ious)} / {self.rallies_found} / "
            f"{self.rallies_unmatched} |",
            f"| rally time IoU, min / mean | {min(self.rally_ious, default=0):.3f} / "
            f"{float(np.mean(self.rally_ious)) if self.rally_ious else 0:.3f} |",
            f"| hits in play (truth / found), recall / precision | {self.hits_truth} / {self.hits_found}, "
            f"{self.hit_recall:.3f} / {self.hit_precision:.3f} |",
            f"| ball placed (in view) / in flight given a 3D speed | {self.ball_present:.3f} / "
            f"{self.flying_as_flight:.3f} |",
            f"| 3D speed within 10 % of truth ({self.speed_frames} frames) | {self.speed_within:.3f} |",
            f"| ball position error, median | {self.ball_median_m * 100:.1f} cm |",
        ])


def score(messages: list[AnalyticsMessage], frames_: list[SimFrameTruth], lag_frames: int) -> Score:
    """Score the messages of one camera (any order) against the frames they came from.

    Bounces: matched one to one within 2 frames; precision counts the bounces found while a
    simulated rally was in play (the dead ball rolling between points is not scored); hits likewise.
    Rallies: every simulated rally that ended is matched to the found rally of best time IoU.
    """
    by_seq = {f.seq: f for f in frames_}
    errors = []
    for m in messages:
        f = by_seq[m.seq]
        for p in m.players:
            if 1 <= p.track_id <= len(f.player_xy):
                x, y = f.player_xy[p.track_id - 1]
                errors.append(float(np.hypot(p.x - x, p.y - y)))
    last = max(m.seq for m in messages) - lag_frames
    rallies = truth_rallies(frames_)
    truth_b = truth_bounces(frames_, last - 2)
    frame_ns = frames_[1].ts - frames_[0].ts if len(frames_) > 1 else round(1e9 / FPS)

    play = play_intervals(frames_)  # as truth_bounces counts them: the rally the frames stop in included

    def in_play(ts: int) -> bool:
        return any(a - frame_ns <= ts <= e + 2 * frame_ns for a, e in play)

    found = [b for m in messages for b in m.bounces if in_play(b.ts)]
    pairs = _match([seq for seq, _ in truth_b], [b.seq for b in found])
    right = sum(found[k].surface == truth_b[i][1] for i, k in pairs)
    truth_h = [f.seq for f in frames_ for e in f.truth.events if e.kind == "hit" and f.seq <= last - 2]
    found_h = [h.seq for m in messages for h in m.hits if in_play(h.ts)]
    hit_pairs = _match(truth_h, found_h)
    got = [(m.finished_rally.start_ts, m.finished_rally.end_ts) for m in messages if m.finished_rally is not None]
    ended = [r for r in rallies if r[1] <= by_seq[last].ts]
    ious = tuple(max((iou(t, g) for g in got), default=0.0) for t in ended)
    unmatched = sum(1 for g in got if max((iou(t, g) for t in rallies), default=0.0) < 0.5)
    in_view = flying = present = as_flight = 0
    speed_ok: list[bool] = []
    ball_err: list[float] = []
    for m in messages:
        f = by_seq[m.seq]
        if f.truth.visibility is Visibility.OUT_OF_FRAME:
            continue
        true_speed = float(np.linalg.norm(f.velocity))
        in_view += 1
        flying += true_speed > 0
        if m.ball is None:
            continue
        present += 1
        if m.ball.z is not None:
            ball_err.append(float(np.linalg.norm(np.subtract((m.ball.x, m.ball.y, m.ball.z), f.truth.position))))
        if m.ball.speed_mps is not None and m.ball.speed_kind == "3d" and true_speed > 0:
            as_flight += 1
            speed_ok.append(abs(m.ball.speed_mps - true_speed) <= 0.1 * true_speed)
    return Score(float(np.median(errors)) if errors else float("inf"), len(errors), len(truth_b), len(found),
                 len(pairs) / max(1, len(truth_b)), len(pairs) / max(1, len(found)), right / max(1, len(pairs)),
                 ious, len(got), unmatched, len(truth_h), len(found_h), len(hit_pairs) / max(1, len(truth_h)),
                 len(hit_pairs) / max(1, len(found_h)), present / max(1, in_view), as_flight / max(1, flying),
                 len(speed_ok), sum(speed_ok) / max(1, len(speed_ok)),
                 float(np.median(ball_err)) if ball_err else float("inf"))
