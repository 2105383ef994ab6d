"""Calibrations stored at start for cameras whose geometry is known without measuring (``analytics.seed_calibrations``).

The demo court (``demo://padel``) is rendered from :func:`courtside.sim.demo_view.demo_camera`, so its
calibration is known exactly: the court points that camera sees, at their projections
(:func:`demo_scene_record`), solved like clicked points. The record says so in its ``source``
(:data:`DEMO_SCENE_SOURCE`): it was not measured, and a real camera never gets it (the
configuration refuses ``demo-scene`` for a camera that is not ``demo://padel``).

A seed is stored only when the camera has no calibration in the store (:meth:`CalibrationStore.create`,
atomic): an operator's calibration, or a seed stored by an earlier start, stays as it is.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

from courtside_contracts.analytics_calibration import CalibrationRecord

from analytics.calibrate_auto import record_of
from analytics.calibration_store import CalibrationStore
from courtside.sim.demo_view import demo_camera

log = logging.getLogger(__name__)

#: ``source`` of a demo-scene record.
DEMO_SCENE_SOURCE = "demo scene: projections of the known camera demo://padel is rendered from (not measured)"


def demo_scene_record(camera_id: str, set_ns: int) -> CalibrationRecord:
    """``camera_id``'s record from the demo camera at the demo clip's size (pixels), labelled as such."""
    return dataclasses.replace(record_of(camera_id, demo_camera(), set_ns), source=DEMO_SCENE_SOURCE)


def seed_record(camera_id: str, seed: str, set_ns: int) -> CalibrationRecord:
    """The record of one ``analytics.seed_calibrations`` entry (``seed``: ``demo-scene``)."""
    if seed != "demo-scene":
        raise ValueError(f"unknown calibration seed {seed!r}")
    return demo_scene_record(camera_id, set_ns)


async def seed_calibrations(store: CalibrationStore, seeds: Mapping[str, str], set_ns: int) -> dict[str, int | None]:
    """Store each camera's seed unless it has a calibration; camera -> new revision (None: kept the stored one)."""
    out: dict[str, int | None] = {}
    for camera, seed in seeds.items():
        revision = out[camera] = await store.create(seed_record(camera, seed, set_ns))
        if revision is None:
            log.info("analytics: %s: a calibration is stored already; the %s seed is not used", camera, seed)
        else:
            log.info("analytics: %s: no calibration stored; stored the %s one (revision %d, %s)", camera, seed,
                     revision, DEMO_SCENE_SOURCE)
    return out
