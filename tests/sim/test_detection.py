"""The detection dataset: boxes from the renderer's label map, the YOLO files, the held-out split."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from courtside.sim import render
from courtside.sim.boxes import BALL, PLAYER, Box, boxes_from_labels, parse_yolo_text, yolo_text
from courtside.sim.clip import Simulation
from courtside.sim.detection import (
    DATA_VERSION,
    HELD_OUT_SEEDS,
    INKS,
    DatasetError,
    DatasetSpec,
    export,
    read_record,
    training_seeds,
)
from courtside.sim.render import BALL_INK, PlayerPose, Visibility


# -- pure box logic ---------------------------------------------------------------------------------
def test_a_box_is_the_tight_extent_of_its_ink() -> None:
    labels = np.zeros((10, 20), np.uint8)
    labels[2:5, 3:7] = 1  # a player, 12 pixels
    labels[4, 6] = 2  # a nearer player covers one of them
    labels[8, 15:17] = BALL_INK
    boxes = boxes_from_labels(labels, {1: PLAYER, 2: PLAYER, BALL_INK: BALL}, {PLAYER: 1, BALL: 1})
    assert boxes == [Box(PLAYER, 3, 2, 7, 5, 11), Box(PLAYER, 6, 4, 7, 5, 1), Box(BALL, 15, 8, 17, 9, 2)]


def test_hidden_and_too_small_objects_get_no_box() -> None:
    labels = np.zeros((10, 10), np.uint8)
    labels[0:2, 0:2] = 1  # 4 pixels of player 1; player 2 fully hidden (no ink left); no ball
    inks = {1: PLAYER, 2: PLAYER, BALL_INK: BALL}
    assert [b.pixels for b in boxes_from_labels(labels, inks, {PLAYER: 4})] == [4]
    assert boxes_from_labels(labels, inks, {PLAYER: 5}) == []
    assert boxes_from_labels(labels, inks, {PLAYER: 0}) != []  # a minimum under 1 still needs a pixel
    with pytest.raises(ValueError, match="H x W"):
        boxes_from_labels(np.zeros((4, 4, 3), np.uint8), inks, {})


def test_yolo_lines_are_normalised_and_read_back() -> None:
    box = Box(PLAYER, 64, 36, 128, 108, 100)
    assert box.yolo_line(640, 360) == "0 0.150000 0.200000 0.100000 0.200000"
    text = yolo_text([box, Box(BALL, 10, 20, 13, 23, 9)], 640, 360)
    rows = parse_yolo_text(text, 640, 360)
    assert rows[0] == pytest.approx((0, 64, 36, 128, 108)) and rows[1] == pytest.approx((1, 10, 20, 13, 23), abs=1e-3)
    assert yolo_text([], 640, 360) == ""
    with pytest.raises(ValueError, match="line 2"):
        parse_yolo_text("0 0.5 0.5 0.1 0.1\n0 0.5 0.5\n", 640, 360)
    with pytest.raises(ValueError, match="line 1: not numbers"):
        parse_yolo_text("0 a b c d\n", 640, 360)


# -- boxes against what the renderer draws ------------------------------------------------------------
def _alone(sim: Simulation, pose: PlayerPose) -> np.ndarray:
    """The pixels one player covers when drawn alone (ball far behind: every player goes into the mask)."""
    mask = np.zeros((sim.style.camera.height, sim.style.camera.width), np.uint8)
    far_ball = np.array([0.0, 40.0, 1.0])
    render.render_frame(sim.background, sim.style, far_ball, np.zeros(3), [pose], mask)
    return mask > 0


@pytest.mark.parametrize("seed", [5, 950_001])
def test_player_boxes_contain_every_visible_rendered_player_pixel(seed: int) -> None:
    sim = Simulation(seed, 640, 360)
    h, w = 360, 640
    labels = np.zeros((h, w), np.uint8)
    checked = hidden = 0
    for n in range(30):
        sim.rally.advance(0.3)
        frame = sim.next_frame(labels)
        poses = sim._poses()
        alone = [_alone(sim, p) for p in poses]
        by_ink = {b.cls: b for b in boxes_from_labels(labels, {k: k for k in range(1, 5)}, {})}  # class = ink
        for i, pose in enumerate(poses):
            nearer = [alone[j] for j in range(4) if poses[j].y < pose.y]
            visible = alone[i] & ~np.logical_or.reduce(nearer) if nearer else alone[i]
            if not visible.any():
                assert i + 1 not in by_ink
                hidden += 1
                continue
            box = by_ink[i + 1]
            ys, xs = np.nonzero(visible)
            assert box.x0 <= xs.min() and xs.max() < box.x1 and box.y0 <= ys.min() and ys.max() < box.y1, (n, i)
            # ... and the box is no bigger than the player's drawn pixels (no shadow, no guess).
            ys, xs = np.nonzero(alone[i])
            assert xs.min() <= box.x0 and box.x1 <= xs.max() + 1 and ys.min() <= box.y0 and box.y1 <= ys.max() + 1
            # The frame really shows the player there: it differs from the empty court inside the box.
            diff = np.abs(frame.image.astype(int) - sim.background.image.astype(int)).sum(axis=2) > 0
            assert diff[box.y0:box.y1, box.x0:box.x1].mean() > 0.3
            checked += 1
    assert checked > 70 and hidden < checked


def test_the_ball_box_covers_the_ball_and_an_absent_ball_has_none() -> None:
    sim = Simulation(21, 640, 360)
    labels = np.zeros((360, 640), np.uint8)
    seen = {v: 0 for v in Visibility}
    for _ in range(240):
        f = sim.next_frame(labels)
        t = f.truth
        balls = [b for b in boxes_from_labels(labels, INKS, {BALL: 1}) if b.cls == BALL]
        seen[t.visibility] += 1
        if t.visibility is Visibility.VISIBLE:
            assert len(balls) == 1 and balls[0].contains(round(t.pixel[0]), round(t.pixel[1])), t
        if t.visibility is Visibility.OUT_OF_FRAME:
            assert balls == []
    assert seen[Visibility.VISIBLE] > 100


def test_a_label_map_leaves_the_frame_and_its_truth_unchanged() -> None:
    a = [f for f in Simulation(11, 320, 180).frames(20)]
    sim = Simulation(11, 320, 180)
    labels = np.zeros((180, 320), np.uint8)
    b = [sim.next_frame(labels) for _ in range(20)]
    assert all(np.array_equal(x.image, y.image) and x.truth == y.truth for x, y in zip(a, b, strict=True))


# -- the export ----------------------------------------------------------------------------------------
def _spec(**kw: object) -> DatasetSpec:
    base = DatasetSpec(splits={"train": training_seeds(0, 2), "test": tuple(HELD_OUT_SEEDS)[:1]}, frames_per_clip=3)
    return replace(base, **kw)  # type: ignore[arg-type]


def test_export_writes_the_yolo_layout_and_its_record(tmp_path: Path) -> None:
    record = export(_spec(), tmp_path / "d")
    root = tmp_path / "d"
    assert record == read_record(root) and record["data"] == DATA_VERSION == "courtside.sim v2"
    assert record["spec"]["splits"] == {"train": "10..11", "test": "950000..950000"}
    yaml = (root / "data.yaml").read_text()
    assert "train: images/train" in yaml and "val: images/test" in yaml and "0: player" in yaml and "1: ball" in yaml
    for split, clips in (("train", 2), ("test", 1)):
        images = sorted((root / "images" / split).glob("*.jpg"))
        labels = sorted((root / "labels" / split).glob("*.txt"))
        assert len(images) == len(labels) == clips * 3 == record["counts"][split]["images"]
        rows = [r for p in labels for r in parse_yolo_text(p.read_text(), 640, 360)]
        assert sum(r[0] == PLAYER for r in rows) == record["counts"][split]["players"] > 0
        assert sum(r[0] == BALL for r in rows) == record["counts"][split]["balls"]
        assert all(0 <= r[1] < r[3] <= 640 and 0 <= r[2] < r[4] <= 360 for r in rows)
    again = export(_spec(), tmp_path / "e")
    assert again == {**record} and all(
        p.read_text() == (tmp_path / "e" / p.relative_to(root)).read_text() for p in root.glob("labels/*/*.txt"))


def test_export_refuses_held_out_seeds_shared_seeds_and_a_used_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="held-out"):
        export(_spec(splits={"train": (HELD_OUT_SEEDS[0],), "test": (HELD_OUT_SEEDS[1],)}), tmp_path / "a")
    with pytest.raises(DatasetError, match="share seeds"):
        export(_spec(splits={"train": (1, 2), "val": (2,)}), tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "keep.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not empty"):
        export(_spec(), tmp_path / "c")
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["keep.txt"]
    with pytest.raises(DatasetError, match="not a detection dataset"):
        read_record(tmp_path / "c")
    (tmp_path / "c" / "dataset.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(DatasetError, match="not a detection dataset"):
        read_record(tmp_path / "c")
