"""Seeded calibrations (analytics/seed_calibration.py): the demo court's is its renderer's camera, exactly, and
says so; it goes into a real JetStream key-value store only when the camera has none there."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from nats.aio.client import Client as NATS

from analytics.calibrated import solve
from analytics.calibration_store import CalibrationStore
from analytics.seed_calibration import DEMO_SCENE_SOURCE, demo_scene_record, seed_calibrations
from courtside.court.calibration import COURT_POINTS
from ingest import demo_scene
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
