"""The demo court's fixed view: the camera ``demo://padel`` is rendered from, and its size.

Pure and shared: ingest renders the demo clip through it (:mod:`ingest.demo_scene`), and analytics
seeds the demo court's calibration from it (:mod:`analytics.seed_calibration`), so the two can
never disagree, and analytics needs nothing of ingest (its image has no ``ingest`` package).
"""

from __future__ import annotations

from courtside.court.camera import Camera, broadcast_camera

#: The size of the demo clip (pixels): ``demo_camera(WIDTH, HEIGHT)`` is the camera of its every frame.
WIDTH, HEIGHT = 1280, 720


def demo_camera(width: int = WIDTH, height: int = HEIGHT) -> Camera:
    """The camera the demo is rendered from, exactly (so its calibration is known, not measured)."""
    return broadcast_camera(width, height)
