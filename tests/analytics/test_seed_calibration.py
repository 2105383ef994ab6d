"""Seeded calibrations (analytics/seed_calibration.py): the demo court's is its renderer's camera, exactly, and
says so; it goes into a real JetStream key-value store only when the camera has none there."""

from __future__ import annotations

import dataclasses

import av
import numpy as np
import pytest
from nats.aio.client import Client as NATS

from analytics.calibrate_auto import decode_frame
from analytics.calibrated import solve
from analytics.calibration_store import CalibrationStore
from analytics.drift import DROP, FLOOR
from analytics.seed_calibration import DEMO_SCENE_SOURCE, demo_scene_record, seed_calibrations
from courtside.app.cli import EMBEDDED_CONFIG
from courtside.config import load_config
from courtside.court.calibration import COURT_POINTS
from courtside.court.camera import Camera
from courtside.court.line_fit import check_lines
from ingest import demo_scene
from ingest.jpeg_encoder import JpegEncoder
from tests.analytics import sim_annotations as sa

pytestmark = pytest.mark.timeout(30)
SET_NS = 1_800_000_000_000_000_000


def test_the_demo_scene_record_is_the_rendering_camera() -> None:
    record = demo_scene_record("court-1", SET_NS)
    assert record.source == DEMO_SCENE_SOURCE and "not measured" in DEMO_SCENE_SOURCE
    assert (record.width, record.height) == (demo_scene.WIDTH, demo_scene.HEIGHT)
    solved = solve(record, 1)
    assert solved.kind == "pose" and solved.reprojection_px < 0.01, "wall points in view: the full pose"
    assert solved.camera is not None
    sim = demo_scene.simulation()  # what ingest renders demo://padel with
    names = list(COURT_POINTS)
    truth, _ = sim.style.camera.project([COURT_POINTS[n] for n in names])
    found, _ = solved.camera.project([COURT_POINTS[n] for n in names])
    assert np.abs(found - truth).max() < 0.05, "every court point, in view or not, where the renderer puts it"
    for _ in range(60):  # two seconds of play: the players' feet pixels back on the floor where they stand
        sim.next_frame()
    feet = [(p.x, p.y, 0.0) for p in sim.rally.players]
    uv, _ = sim.style.camera.project(feet)
    assert np.abs(solved.floor.image_to_floor(uv) - np.array(feet)[:, :2]).max() < 0.01


def test_the_seed_serves_court_1_at_the_size_it_is_published() -> None:
    """The record is in the clip's pixels (1280x720) while ingest publishes court-1 at the embedded default's
    ``max_side``: analytics maps a published frame's pixels onto the record's (``Calibrated.scale_from``), and
    the drift check, which scales the camera to the frame it reads, finds the seeded camera on the court lines
    of frames at that size as well as at full size (never "moved", so the seed is never re-fitted away)."""
    camera = load_config(EMBEDDED_CONFIG, environ={}).cameras[0]
    assert camera.id == "court-1" and camera.url.get_secret_value() == "demo://padel"
    solved = solve(demo_scene_record("court-1", SET_NS), 1)
    assert solved.camera is not None
    for t in (0.0, 2.0, 5.0):
        picture = av.VideoFrame.from_ndarray(demo_scene.render(t).image, format="bgr24")
        matched = {}
        for side in (demo_scene.WIDTH, camera.max_side):
            published = JpegEncoder(side, camera.jpeg_quality).encode(picture, 0, None)
            assert solved.scale_from(published.width, published.height) == pytest.approx(
                (demo_scene.WIDTH / published.width, demo_scene.HEIGHT / published.height))
            frame = decode_frame(published.jpeg)
            scaled = Camera(solved.camera.intrinsics.scaled(published.width, published.height), solved.camera.pose)
            matched[side] = check_lines(frame, scaled)[1]
        assert matched[camera.max_side] >= min(FLOOR + DROP, matched[demo_scene.WIDTH] - 0.05), (t, matched)


async def test_seeded_only_when_the_store_has_none(nc: NATS) -> None:
    store = await CalibrationStore.open(nc)
    operator = sa.clicks(sa.camera(), "court-2")
    operator_revision = await store.put(operator)
    seeds = {"court-1": "demo-scene", "court-2": "demo-scene"}
    assert await seed_calibrations(store, seeds, SET_NS) == {"court-1": operator_revision + 1, "court-2": None}
    found = await store.get("court-1")
    assert found is not None and found[0].to_json() == demo_scene_record("court-1", SET_NS).to_json()
    assert found[0].source == DEMO_SCENE_SOURCE
    kept = await store.get("court-2")
    assert kept is not None and (kept[0].to_json(), kept[1]) == (operator.to_json(), operator_revision), \
        "an operator's calibration is never replaced"
    # A restart: court-1's seed (or a calibration set since) stays; nothing is written again.
    edited = dataclasses.replace(operator, camera="court-1")
    edited_revision = await store.put(edited)
    assert await seed_calibrations(store, seeds, SET_NS + 1) == {"court-1": None, "court-2": None}
    again = await store.get("court-1")
    assert again is not None and (again[0].to_json(), again[1]) == (edited.to_json(), edited_revision)
