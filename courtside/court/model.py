"""A padel court in metres: lines, net and enclosure walls, as plain data.

Dimensions follow the International Padel Federation (FIP) rules, *Reglamento de
Juego del Pádel*, Annex "Installations" (section 1, "The court"), as best we know them
(tolerance in the rules: 0.5 % on length and width):

- playing area 20 m x 10 m (inside the walls), a rectangle;
- net across the middle, 0.88 m high at the centre and 0.92 m at the posts (ends);
- service lines parallel to the net, 6.95 m from it (3.05 m from the back walls);
- the centre service line joins the two service lines along the court's axis and
  is prolonged 0.20 m beyond each of them; lines are 5 cm wide;
- back walls: 3 m of glass with 1 m of metal mesh above it (4 m in all);
- side walls: 3 m of glass for the 2 m nearest each back wall, then 2 m of glass
  for the next 2 m (the stepped panel, with mesh above it up to 3 m), then metal
  mesh 3 m high along the middle of the court (the doors are openings in that
  mesh; not modelled). The enclosure is open above 4 m (back) and 3 m (sides).

World frame (right-handed, metres): ``x`` across the court (-5..5), ``y`` along it
(0 = the near back wall, 20 = the far one, net at 10), ``z`` up (0 = the floor).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

LENGTH_M = 20.0
WIDTH_M = 10.0
HALF_WIDTH_M = WIDTH_M / 2
NET_Y_M = LENGTH_M / 2
NET_CENTRE_M = 0.88
NET_POST_M = 0.92
SERVICE_FROM_NET_M = 6.95
CENTRE_LINE_EXTENSION_M = 0.20
LINE_WIDTH_M = 0.05
BACK_GLASS_M = 3.0
BACK_MESH_TOP_M = 4.0
SIDE_HIGH_GLASS_M = 3.0
SIDE_LOW_GLASS_M = 2.0
SIDE_STEP_M = 2.0
SIDE_MESH_TOP_M = 3.0
#: FIP ball: 6.35-6.77 cm across, 56.0-59.4 g; dropped from 2.54 m it rebounds 1.35-1.45 m.
BALL_RADIUS_M = 0.0328
BALL_MASS_KG = 0.057
BALL_FLOOR_RESTITUTION = (1.40 / 2.54) ** 0.5  # ~0.74, from the FIP drop test

Point3 = tuple[float, float, float]


class Surface(str, Enum):
    """What the ball can hit (the ``surface`` of a bounce event)."""

    FLOOR = "floor"
    GLASS = "glass"
    MESH = "mesh"
    NET = "net"


@dataclass(frozen=True, slots=True)
class Segment:
    """A court line on the floor (z = 0) from ``a`` to ``b``, metres."""

    name: str
    a: tuple[float, float]
    b: tuple[float, float]


@dataclass(frozen=True, slots=True)
class WallPanel:
    """An axis-aligned vertical rectangle of the enclosure.

    ``axis`` "x" means the panel lies in the plane x = ``offset`` spanning
    ``span`` in y; "y" means the plane y = ``offset`` spanning ``span`` in x.
    ``z`` is its (bottom, top) in metres.
    """

    name: str
    axis: str
    offset: float
    span: tuple[float, float]
    z: tuple[float, float]
    surface: Surface

    def corners(self) -> tuple[Point3, Point3, Point3, Point3]:
        """Four corners, bottom edge first (counter-clockwise seen from inside)."""
        (s0, s1), (z0, z1) = self.span, self.z
        if self.axis == "x":
            return ((self.offset, s0, z0), (self.offset, s1, z0), (self.offset, s1, z1), (self.offset, s0, z1))
        return ((s0, self.offset, z0), (s1, self.offset, z0), (s1, self.offset, z1), (s0, self.offset, z1))

    def contains(self, along: float, z: float) -> bool:
        """Whether a point of the panel's plane (``along`` its span, height ``z``) is on it."""
        return self.span[0] <= along <= self.span[1] and self.z[0] <= z <= self.z[1]


def net_height(x: float) -> float:
    """Height of the net's top (metres) at ``x``: 0.88 m at the centre rising to 0.92 m at the posts."""
    frac = min(1.0, abs(x) / HALF_WIDTH_M)
    return NET_CENTRE_M + (NET_POST_M - NET_CENTRE_M) * frac


def lines() -> tuple[Segment, ...]:
    """Every painted line (the walls are the court's outer limits; no side lines are painted)."""
    near_service, far_service = NET_Y_M - SERVICE_FROM_NET_M, NET_Y_M + SERVICE_FROM_NET_M
    ext = CENTRE_LINE_EXTENSION_M
    return (
        Segment("near service line", (-HALF_WIDTH_M, near_service), (HALF_WIDTH_M, near_service)),
        Segment("far service line", (-HALF_WIDTH_M, far_service), (HALF_WIDTH_M, far_service)),
        Segment("centre service line", (0.0, near_service - ext), (0.0, far_service + ext)),
        Segment("near back line", (-HALF_WIDTH_M, 0.0), (HALF_WIDTH_M, 0.0)),
        Segment("far back line", (-HALF_WIDTH_M, LENGTH_M), (HALF_WIDTH_M, LENGTH_M)),
        Segment("left side line", (-HALF_WIDTH_M, 0.0), (-HALF_WIDTH_M, LENGTH_M)),
        Segment("right side line", (HALF_WIDTH_M, 0.0), (HALF_WIDTH_M, LENGTH_M)),
    )


def walls() -> tuple[WallPanel, ...]:
    """The enclosure: back glass and mesh, stepped side glass, side mesh."""
    panels: list[WallPanel] = []
    for name, y in (("near", 0.0), ("far", LENGTH_M)):
        panels.append(WallPanel(f"{name} back glass", "y", y, (-HALF_WIDTH_M, HALF_WIDTH_M),
                                (0.0, BACK_GLASS_M), Surface.GLASS))
        panels.append(WallPanel(f"{name} back mesh", "y", y, (-HALF_WIDTH_M, HALF_WIDTH_M),
                                (BACK_GLASS_M, BACK_MESH_TOP_M), Surface.MESH))
    step = SIDE_STEP_M
    for side, x in (("left", -HALF_WIDTH_M), ("right", HALF_WIDTH_M)):
        for end, (y0, y1), (y2, y3) in (("near", (0.0, step), (step, 2 * step)),
                                        ("far", (LENGTH_M - step, LENGTH_M), (LENGTH_M - 2 * step, LENGTH_M - step))):
            panels.append(WallPanel(f"{side} {end} high glass", "x", x, (y0, y1), (0.0, SIDE_HIGH_GLASS_M),
                                    Surface.GLASS))
            panels.append(WallPanel(f"{side} {end} low glass", "x", x, (y2, y3), (0.0, SIDE_LOW_GLASS_M),
                                    Surface.GLASS))
            panels.append(WallPanel(f"{side} {end} step mesh", "x", x, (y2, y3),
                                    (SIDE_LOW_GLASS_M, SIDE_MESH_TOP_M), Surface.MESH))
        panels.append(WallPanel(f"{side} mesh", "x", x, (2 * step, LENGTH_M - 2 * step), (0.0, SIDE_MESH_TOP_M),
                                Surface.MESH))
    return tuple(panels)


def wall_height(axis: str, along: float) -> float:
    """The enclosure's top (metres) at a point of a wall line; above it the ball is out.

    ``axis`` "y" is a back wall (``along`` = x), "x" a side wall (``along`` = y).
    """
    if axis == "y":
        return BACK_MESH_TOP_M
    return SIDE_HIGH_GLASS_M if min(along, LENGTH_M - along) <= SIDE_STEP_M else SIDE_MESH_TOP_M


def wall_at(axis: str, offset: float, along: float, z: float) -> WallPanel | None:
    """The panel of the wall plane ``axis`` = ``offset`` at (``along``, ``z``); None where it is open (out)."""
    for panel in _WALLS:
        if panel.axis == axis and panel.offset == offset and panel.contains(along, z):
            return panel
    return None


_WALLS = walls()


def side_of(y: float) -> int:
    """0 for the near half (y < 10), 1 for the far half."""
    return 0 if y < NET_Y_M else 1


def in_court(x: float, y: float) -> bool:
    """Whether a floor point is inside the 20 x 10 m playing area."""
    return -HALF_WIDTH_M <= x <= HALF_WIDTH_M and 0.0 <= y <= LENGTH_M
