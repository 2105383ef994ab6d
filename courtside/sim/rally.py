"""Points played by four simulated players: serves, hits, bounces, faults, the end of a rally.

:class:`Rally` advances a world (the ball and four players) by fixed physics steps
and reports what happened as :class:`Event` values. Players 0 and 1 play the near
half (y < 10), 2 and 3 the far half. Shots are planned: the hitter aims at a
floor point on the other side with a flight time; the receiver's hit is chosen
on the ball's predicted path (after its bounce, or a volley) and the receiver
runs there at a bounded speed, so a ball out of reach is missed. Some shots are
errors on purpose (into the net, out over the walls), so rallies end the ways
real ones do. Seconds, metres; deterministic for a given ``numpy`` generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from courtside.court import model as court
from courtside.court.model import Surface
from courtside.sim import physics

#: Physics steps per second.
STEP_HZ = 240
PLAYER_SPEED = 6.0
HOME = ((-2.5, 3.0), (2.5, 3.5), (-2.5, 17.0), (2.5, 16.5))


def _on_side(player: int, x: float, y: float) -> tuple[float, float]:
    """A floor point clamped to ``player``'s half, inside the walls."""
    x = min(court.HALF_WIDTH_M - 0.3, max(-court.HALF_WIDTH_M + 0.3, x))
    if player < 2:
        return x, min(court.NET_Y_M - 0.6, max(0.3, y))
    return x, min(court.LENGTH_M - 0.3, max(court.NET_Y_M + 0.6, y))


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened at ``t`` seconds: ``kind`` is hit, bounce, rally_start or rally_end.

    ``surface`` is set for bounces (floor, glass, mesh, net); ``detail`` names the
    panel, the hitter ("player 2") or why a rally ended.
    """

    t: float
    kind: str
    position: tuple[float, float, float]
    surface: Surface | None = None
    detail: str = ""


@dataclass(slots=True)
class Player:
    """A player's floor position (metres), where it runs to, and its swing (seconds left)."""

    x: float
    y: float
    goal: tuple[float, float]
    swing_left: float = 0.0
    travelled: float = 0.0
    speed: float = PLAYER_SPEED

    def run(self, dt: float) -> None:
        self.swing_left = max(0.0, self.swing_left - dt)
        dx, dy = self.goal[0] - self.x, self.goal[1] - self.y
        dist = math.hypot(dx, dy)
        if dist < 1e-6:
            return
        move = min(dist, self.speed * dt)
        self.x += dx / dist * move
        self.y += dy / dist * move
        self.travelled += move


@dataclass(slots=True)
class _Plan:
    """The next hit: who, when (seconds) and where the ball will be."""

    player: int
    t: float
    position: tuple[float, float, float]


@dataclass(slots=True)
class Rally:
    """The world: call :meth:`advance` with seconds; read ``ball``, ``players``, ``held``."""

    rng: np.random.Generator
    speed: float = 1.0
    error_rate: float = 0.08
    t: float = 0.0
    ball: np.ndarray = field(default_factory=lambda: np.zeros(3))
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))
    players: list[Player] = field(default_factory=list)
    held_by: int | None = None
    in_play: bool = False
    server: int = 0
    _phase: str = "hold"
    _phase_end: float = 0.0
    _plan: _Plan | None = None
    _last_hitter: int = -1
    _floor_bounces: int = 0
    _left: bool = False
    _netted: bool = False
    _next_shuffle: float = 0.0

    def __post_init__(self) -> None:
        if not self.players:
            self.players = [Player(x, y, (x, y)) for x, y in HOME]
        self._new_point()

    # -- the point's life cycle -------------------------------------------------------------
    def _new_point(self) -> None:
        self.server = int(self.rng.integers(0, 4))
        side = 0 if self.server < 2 else 1
        x = (-1.5 if self.server % 2 == 0 else 1.5) + float(self.rng.uniform(-0.8, 0.8))
        y = 1.2 + float(self.rng.uniform(0, 0.8)) if side == 0 else court.LENGTH_M - 1.2 - float(self.rng.uniform(0, 0.8))
        for i, p in enumerate(self.players):
            hx, hy = HOME[i]
            p.goal = (hx + float(self.rng.uniform(-0.7, 0.7)), hy + float(self.rng.uniform(-1.0, 1.0)))
        self.players[self.server].goal = (x, y)
        for p in self.players:
            p.speed = PLAYER_SPEED
        self.held_by = self.server
        self._phase, self._phase_end = "hold", self.t + float(self.rng.uniform(0.6, 1.2))
        self._plan, self._last_hitter, self._floor_bounces = None, -1, 0
        self._left = self._netted = False
        self.in_play = False
        self.velocity = np.zeros(3)
        self.ball = np.array(self._hand(self.server))

    def _shuffle(self) -> None:
        """Players not running to the ball keep moving near their places (split steps, cover)."""
        busy = self._plan.player if self._plan is not None else None
        for i, p in enumerate(self.players):
            if i == busy or (self._phase == "hold" and i == self.server):
                continue
            hx, hy = HOME[i]
            p.goal = _on_side(i, hx + float(self.rng.uniform(-1.2, 1.2)), hy + float(self.rng.uniform(-1.5, 1.5)))
            p.speed = float(self.rng.uniform(1.0, 3.0))
        self._next_shuffle = self.t + float(self.rng.uniform(0.4, 1.0))

    def _hand(self, i: int) -> tuple[float, float, float]:
        p = self.players[i]
        toward = 1.0 if p.y < court.NET_Y_M else -1.0
        return (p.x + 0.35, p.y + 0.25 * toward, 1.0)

    def _end(self, reason: str) -> Event:
        self.in_play = False
        self._plan = None
        self._phase, self._phase_end = "dead", self.t + float(self.rng.uniform(1.0, 1.6))
        return Event(self.t, "rally_end", self._pos(), detail=reason)

    def _pos(self) -> tuple[float, float, float]:
        return (float(self.ball[0]), float(self.ball[1]), float(self.ball[2]))

    # -- shots ------------------------------------------------------------------------------
    def _shoot(self, hitter: int) -> None:
        near = hitter < 2
        roll = float(self.rng.random())
        s = self.speed
        if self._phase == "serve":
            box_x = -2.5 if self.players[hitter].x > 0 else 2.5
            target = (box_x + float(self.rng.uniform(-1.5, 1.5)), court.NET_Y_M + (1 if near else -1) * float(self.rng.uniform(2.0, 6.3)))
            flight = float(self.rng.uniform(0.8, 1.1)) / s
        elif roll < self.error_rate * 0.6:  # into the net
            target = (float(self.rng.uniform(-4, 4)), court.NET_Y_M + (1 if near else -1) * float(self.rng.uniform(0.5, 2.0)))
            flight = float(self.rng.uniform(0.35, 0.5))
        elif roll < self.error_rate:  # out over the back wall
            target = (float(self.rng.uniform(-4, 4)), court.NET_Y_M + (1 if near else -1) * float(self.rng.uniform(14, 18)))
            flight = float(self.rng.uniform(1.8, 2.4))
        elif roll < self.error_rate + 0.15:  # a lob
            target = (float(self.rng.uniform(-4.2, 4.2)), court.NET_Y_M + (1 if near else -1) * float(self.rng.uniform(6.5, 9.2)))
            flight = float(self.rng.uniform(1.6, 2.2))
        else:
            target = (float(self.rng.uniform(-4.3, 4.3)), court.NET_Y_M + (1 if near else -1) * float(self.rng.uniform(2.5, 9.3)))
            flight = float(self.rng.uniform(0.7, 1.4)) / s
        self.velocity = physics.launch_velocity(self._pos(), target, flight)
        self._last_hitter = hitter
        self._floor_bounces = 0
        self.players[hitter].swing_left = 0.35
        self._plan = self._plan_reply(hitter)

    def _plan_reply(self, hitter: int) -> _Plan | None:
        """Fly a copy of the ball and pick where a receiver can hit it, if anywhere."""
        receivers = (2, 3) if hitter < 2 else (0, 1)
        far = hitter < 2
        p, v = self.ball.copy(), self.velocity.copy()
        dt = 1.0 / STEP_HZ
        bounces, walls_after, t = 0, False, self.t
        options: list[tuple[float, tuple[float, float, float]]] = []
        for _ in range(int(3.0 * STEP_HZ)):
            res = physics.step(p, v, dt)
            p, v, t = res.position, res.velocity, t + dt
            if res.left_court:
                return None
            for c in res.contacts:
                if c.surface is Surface.NET:
                    return None
                if c.surface is Surface.FLOOR:
                    bounces += 1
                elif bounces == 0:
                    return None  # wall before the bounce: a fault, nobody plays it
                else:
                    walls_after = True
            if bounces >= 2:
                break
            on_side = (p[1] > court.NET_Y_M + 0.5) if far else (p[1] < court.NET_Y_M - 0.5)
            if not on_side:
                continue
            if bounces == 1 and 0.45 <= p[2] <= 1.5 and v[2] < 0.5:
                options.append((t, (float(p[0]), float(p[1]), float(p[2]))))
            elif bounces == 0 and 0.9 <= p[2] <= 1.8 and abs(p[1] - court.NET_Y_M) < 5 and self.rng.random() < 0.02:
                options.append((t, (float(p[0]), float(p[1]), float(p[2]))))
        del walls_after
        if not options:
            return None
        t_hit, pos = options[int(self.rng.integers(0, len(options)))]
        receiver = min(receivers, key=lambda i: abs(self.players[i].x - pos[0]))
        return _Plan(receiver, t_hit, pos)

    # -- stepping ---------------------------------------------------------------------------
    def advance(self, seconds: float) -> list[Event]:
        """Move the world on by ``seconds`` (whole physics steps); the events of that span, in order."""
        events: list[Event] = []
        for _ in range(max(1, round(seconds * STEP_HZ))):
            events.extend(self._step(1.0 / STEP_HZ))
        return events

    def _step(self, dt: float) -> list[Event]:
        self.t += dt
        events: list[Event] = []
        plan = self._plan
        if plan is not None:
            runner = self.players[plan.player]
            runner.goal = _on_side(plan.player, plan.position[0] - 0.35,
                                   plan.position[1] - (0.3 if plan.player < 2 else -0.3))
            runner.speed = PLAYER_SPEED
        if self.t >= self._next_shuffle:
            self._shuffle()
        for p in self.players:
            p.run(dt)
        if self._phase == "hold":
            self.ball = np.array(self._hand(self.server))
            if self.t >= self._phase_end:
                self.held_by, self._phase, self.in_play = None, "serve", True
                events.append(Event(self.t, "rally_start", self._pos(), detail=f"player {self.server} serves"))
            return events
        res = physics.step(self.ball, self.velocity, dt, in_play=not self._left, netted=self._netted)
        self.ball, self.velocity = res.position, res.velocity
        for c in res.contacts:
            events.append(Event(self.t, "bounce", c.position, c.surface, c.name))
            if c.surface is Surface.NET:
                self._netted = True
            if not self.in_play:
                continue
            if c.surface is Surface.NET:
                events.append(self._end("net"))
            elif c.surface is Surface.FLOOR:
                self._floor_bounces += 1
                if self._phase == "serve" and self._last_hitter < 0 and self._floor_bounces == 1:
                    continue  # the server's own bounce before the serve
                if self._floor_bounces >= (3 if self._last_hitter < 0 else 2):
                    events.append(self._end("double bounce"))
            elif self._floor_bounces == 0 and self._last_hitter >= 0:
                events.append(self._end("wall before bounce"))
        if res.left_court and self.in_play:
            self._left = True
            events.append(self._end("out"))
        if self._phase == "serve" and self._last_hitter < 0 and self._floor_bounces >= 1 \
                and self.velocity[2] < 0 and self.ball[2] < 0.75:
            events.append(Event(self.t, "hit", self._pos(), detail=f"player {self.server}"))
            self._shoot(self.server)
            self._phase = "play"
        elif plan is not None and self.in_play and self.t >= plan.t:
            player = self.players[plan.player]
            reach = math.hypot(player.x + 0.35 - self.ball[0], player.y - self.ball[1])
            if reach < 1.0:
                events.append(Event(self.t, "hit", self._pos(), detail=f"player {plan.player}"))
                self._shoot(plan.player)
            else:
                self._plan = None  # not reached: the ball plays on to its second bounce
        if self._phase == "dead" and self.t >= self._phase_end:
            self._new_point()
        return events
