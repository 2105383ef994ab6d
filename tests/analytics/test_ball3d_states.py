"""The 3D ball's states from one calibrated view, on trajectories the simulator's physics flies (pure: no
servers). A ball let go from a hand, bounced before a serve, or coming off the glass is flying, never
"held" at hand height; a ball carried in a hand is held; one wrong peak of the tracker does not break a
flight."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.ball3d import FREE_MIN, HAND_M, PAST_WALL_M, BallPoint, BallTracker3D, _Obs
from courtside.court import model as court
from courtside.court.camera import broadcast_camera
from courtside.sim import physics

FPS = 30.0
CAM = broadcast_camera(640, 360)
STEPS = 8  # physics steps per frame (240 Hz)


def fly(start: tuple[float, float, float], velocity: tuple[float, float, float], seconds: float,
        ) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Positions and velocities at each frame of a free ball from ``start`` (metres, m/s), and the
    surfaces it touched during each frame's interval ('' when none)."""
    p, v = np.array(start, float), np.array(velocity, float)
    pos, vel, touched = [p.copy()], [v.copy()], [""]
    for _ in range(round(seconds * FPS)):
        hit = ""
        for _ in range(STEPS):
            res = physics.step(p, v, 1.0 / (FPS * STEPS))
            p, v = res.position, res.velocity
            hit = hit or ",".join(c.surface.value for c in res.contacts)
        pos.append(p.copy())
        vel.append(v.copy())
        touched.append(hit)
    return pos, vel, touched


def track(points: list[np.ndarray], *, wrong: dict[int, tuple[float, float]] | None = None) -> list[BallPoint]:
    """Every frame's settled point (the tracker flushed with unseen frames), the camera's exact pixels,
    ``wrong`` frames replaced by the given pixels (a tracker's wrong peak)."""
    tracker = BallTracker3D(CAM)
    uv, _ = CAM.project(np.array(points))
    out: list[BallPoint] = []
    for i, (u, v) in enumerate(uv):
        pixel = (float(u), float(v))
        if wrong and i in wrong:
            pixel = wrong[i]
        out += tracker.update(i, i / FPS, pixel)
    for j in range(len(uv), len(uv) + tracker.lag):
        out += tracker.update(j, j / FPS, None)
    return out


def hold_then_drop(hold_s: float = 0.6) -> tuple[list[np.ndarray], list[np.ndarray], list[str], int]:
    """A serve's ball: still in a hand at HAND_M, then let go (bouncing on the floor); the release frame."""
    hand = (1.2, 1.8, HAND_M)
    held = round(hold_s * FPS)
    pos, vel, touched = fly(hand, (0.0, 0.0, 0.0), 1.4)
    return [np.array(hand)] * held + pos, [np.zeros(3)] * held + vel, [""] * held + touched, held


def flying_share(points: list[BallPoint], frames: range) -> float:
    return sum(1 for p in points if p.index in frames and p.velocity is not None and not p.held) / len(frames)


def test_a_dropped_ball_bounced_before_the_serve_flies() -> None:
    pos, vel, touched, release = hold_then_drop()
    bounce = next(i for i, s in enumerate(touched) if "floor" in s)
    points = track(pos)
    assert len(points) == len(pos)
    # In the hand: held, at hand height.
    # Still for FREE_MIN pixels: held (the last two in the hand may already be the drop's start, at rest).
    held = [p for p in points if FREE_MIN <= p.index < release - 2]
    assert held and all(p.held and p.position is not None for p in held)
    assert all(abs(p.position[2] - HAND_M) < 1e-6 for p in held if p.position is not None)
    # Let go: the drop and the rise after its bounce are flights (a few frames pass before a fit takes
    # them), never held at hand height.
    after = [p for p in points if p.index >= release]
    assert not any(p.held for p in after), [p.index for p in after if p.held]
    assert flying_share(points, range(release + 8, bounce)) >= 0.8
    assert flying_share(points, range(bounce + 6, len(pos))) >= 0.8
    # Placed near the truth, and their speed near the true one.
    errors = [float(np.linalg.norm(np.subtract(p.position, pos[p.index])))
              for p in after if p.position is not None and p.velocity is not None]
    assert errors and float(np.median(errors)) < 0.1, errors
    speed_ok = [abs(float(np.linalg.norm(p.velocity)) - float(np.linalg.norm(vel[p.index])))
                <= 0.1 * float(np.linalg.norm(vel[p.index])) + 0.3
                for p in after if p.velocity is not None and p.index not in range(bounce - 1, bounce + 2)]
    assert sum(speed_ok) >= 0.8 * len(speed_ok), speed_ok


def test_a_ball_off_the_glass_flies() -> None:
    """A drive into the far back glass and back: the ball after the glass is a flight, not held."""
    pos, _, touched = fly((0.5, 12.0, 1.0), (1.0, 14.0, 3.0), 1.0)
    glass = next(i for i, s in enumerate(touched) if "glass" in s)
    points = track(pos)
    assert not any(p.held for p in points)
    assert flying_share(points, range(2, glass)) >= 0.8
    assert flying_share(points, range(glass + 6, len(pos))) >= 0.8


def test_a_ball_seen_first_in_flight_is_not_held() -> None:
    """A ball coming into view fast (off the near glass, below the picture before): no flight before it
    to anchor to, its pixels fit no flight yet for the first frames; it is unplaced until they do, never
    put in a hand at HAND_M."""
    pos, _, _ = fly((-1.0, 2.0, 1.6), (0.5, 11.0, 4.0), 0.8)
    points = track(pos)
    assert not any(p.held for p in points)
    assert flying_share(points, range(12, len(pos))) >= 0.9


def test_a_ball_carried_in_a_hand_is_held() -> None:
    """A server walking to the line (1.5 m/s) with the ball at hand height: held, placed at HAND_M."""
    pos = [np.array([0.5 + 1.5 * i / FPS, 1.5, HAND_M]) for i in range(40)]
    points = track(pos)
    late = [p for p in points if p.index >= 15]
    assert late and all(p.held and p.position is not None for p in late)
    assert all(abs(p.position[0] - pos[p.index][0]) < 0.05 for p in late if p.position is not None)


@pytest.mark.parametrize("direction", [(1.0, 0.0), (0.0, -1.0), (0.0, 1.0)])
def test_a_ball_carried_at_a_run_is_held(direction: tuple[float, float]) -> None:
    """A server walking or running (1.5-6 m/s, within a hand's speed) across the court, towards the camera
    or away along its sight line, with the ball: its pixels also fit some flight, but placed at hand
    height they move in a straight line at one speed, as a carried ball does; a dropped one accelerates."""
    for speed in (1.5, 3.0, 6.0):
        pos = [np.array([-1.8 + direction[0] * speed * i / FPS, 4.3 + direction[1] * speed * i / FPS, HAND_M])
               for i in range(25)]
        points = track(pos)
        late = [p for p in points if p.index >= 5]
        assert all(p.held for p in late), (speed, [p.index for p in late if not p.held])


def test_one_wrong_peak_does_not_break_a_flight() -> None:
    """A lob's pixel replaced once by a distractor's far away: the flight goes on through it, and that
    frame takes the flight's position."""
    pos, _, _ = fly((0.0, 3.0, 1.0), (0.5, 9.0, 6.0), 1.2)
    clean = track(pos)
    wrong = track(pos, wrong={20: (40.0, 300.0)})
    assert wrong[20].position is not None and wrong[20].velocity is not None
    assert float(np.linalg.norm(np.subtract(wrong[20].position, pos[20]))) < 0.2
    for a, b in zip(clean, wrong, strict=True):
        assert (a.velocity is None) == (b.velocity is None), a.index


def test_noise_bad_value_refused() -> None:
    with pytest.raises(ValueError, match="noise_px"):
        BallTracker3D(CAM, noise_px=-1.0)


def test_fits_solved_together_equal_each_solved_alone() -> None:
    """The contact-time search solves several starts of one pixel window in one batch: each flight of the
    batch is the flight that start alone gives, and the true start recovers the true flight."""
    pos, vel, _ = fly((0.5, 3.0, 1.2), (0.4, 9.0, 3.0), 0.4)
    tracker = BallTracker3D(CAM)
    uv, _ = CAM.project(np.array(pos))
    obs = [_Obs(i, i / FPS, *tracker._normalise((float(u), float(v)))) for i, (u, v) in enumerate(uv)][:8]
    truth = (0.0, pos[0])
    starts = [(truth, None), ((0.01, pos[0] + 0.05), (vel[0], 1.0)), (None, None), (truth, (vel[0] * 0.5, 0.3))]
    together = tracker._fits(obs, starts)
    for (anchor, prior), got in zip(starts, together, strict=True):
        alone = tracker._fit(obs, anchor, prior)
        assert got is not None and alone is not None
        assert got[0].t_ref == alone[0].t_ref
        for a, b in ((got[0].p, alone[0].p), (got[0].v, alone[0].v), (got[0].v_cov, alone[0].v_cov),
                     (got[1], alone[1])):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
    p, v = together[0][0].at(obs[-1].t)
    assert np.linalg.norm(p - pos[7]) < 0.01 and np.linalg.norm(v - vel[7]) < 0.2
    assert float(together[0][1].max()) < 0.05  # pixels


def gone_after(pos: list[np.ndarray], surface: str, touched: list[str], seen_after: int) -> tuple[list[BallPoint], int]:
    """The settled points of a ball seen up to ``seen_after`` frames after its first contact with
    ``surface`` and never again (out of the picture), and that contact's frame (the first after it)."""
    k = next(i for i, s in enumerate(touched) if surface in s)
    return track(pos[:k + seen_after]), k


@pytest.mark.parametrize("seen_after", [1, 2])
def test_a_bounce_the_ball_leaves_the_view_after_is_told_by_the_flight(seen_after: int) -> None:
    """A ball falling onto the floor near the camera and gone from the picture one or two frames after:
    no flight after it to reverse into, but the flight before ran into the floor on its way to the pixel
    that broke it. That frame tells the bounce: on the floor, where the flight met it."""
    pos, _, touched = fly((1.0, 8.0, 1.8), (0.3, -9.0, -1.0), 1.0)
    points, k = gone_after(pos, "floor", touched, seen_after)
    told = [p for p in points if p.contact is not None]
    assert [p.index for p in told] == [k]
    contact = told[0].contact
    assert contact is not None and contact.surface.value == "floor"
    assert pos[k - 1][2] > contact.position[2] and abs(contact.position[2]) < 0.1
    assert (k - 1) / FPS < contact.t <= k / FPS
    assert float(np.linalg.norm(np.subtract(contact.position, (pos[k - 1] + pos[k]) / 2))) < 0.3


def test_a_flight_that_leaves_the_view_in_the_air_tells_no_bounce() -> None:
    """A lob cut off in mid air (and a wrong peak beside the path): nothing ran into a surface."""
    pos, _, _ = fly((0.0, 3.0, 1.0), (0.5, 9.0, 6.0), 0.8)
    assert not any(p.contact is not None for p in track(pos))
    assert not any(p.contact is not None for p in track(pos, wrong={20: (40.0, 300.0)}))


def test_through_wall_is_the_floor_and_the_panels_only() -> None:
    """Beyond the far glass or the floor: no ball gets there; above the back wall (open) or inside: fine."""
    past = PAST_WALL_M + court.BALL_RADIUS_M
    assert BallTracker3D._through_wall(np.array([1.0, court.LENGTH_M + past, 1.0]))  # the far glass
    assert BallTracker3D._through_wall(np.array([court.HALF_WIDTH_M + past, 18.0, 1.0]))  # a side glass
    assert BallTracker3D._through_wall(np.array([0.0, 5.0, -past]))  # the floor
    assert not BallTracker3D._through_wall(np.array([1.0, court.LENGTH_M + past, 6.0]))  # over the wall: out
    assert not BallTracker3D._through_wall(np.array([1.0, court.LENGTH_M - 0.05, 1.0]))  # at the glass
    assert not BallTracker3D._through_wall(np.array([0.0, 10.0, 1.0]))


def test_a_ball_struck_in_the_air_tells_where_the_flight_broke() -> None:
    """A volley: the ball's velocity changes at 0.6 s, 1.2 m up, with no surface near. The pixel after it
    breaks the flight, and that frame carries a contact in the air (no surface) where the flight was then;
    a flight with no strike carries none."""
    before, _, _ = fly((0.5, 4.0, 1.0), (0.2, 9.0, 3.0), 0.6)
    after, _, _ = fly(tuple(before[-1]), (-1.0, -12.0, 1.5), 0.6)
    points = track([*before, *after[1:]])
    struck = [p for p in points if p.contact is not None]
    assert len(struck) == 1, [(p.index, p.contact) for p in struck]
    contact = struck[0].contact
    assert contact is not None and contact.surface is None
    k = len(before) - 1  # the frame at the strike: the old flight's last pixel; the next one breaks it
    assert struck[0].index == k + 1 and k / FPS <= contact.t <= (k + 1) / FPS
    assert np.linalg.norm(np.subtract(contact.position, before[-1])) < 0.3  # half a frame on: 0.2 m
    assert not any(p.contact is not None for p in track(before))
