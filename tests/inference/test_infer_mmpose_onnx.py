"""The ``mmpose-onnx`` runner in the main environment (no mmcv, no torch), on a small real ONNX graph.

A real RTMPose export needs ``.venvs/mmpose`` (not built yet: ``planned_mmpose_env.py``
compares the two). Here the graph is built with ``onnx.helper`` and has RTMPose's
interface (normalised 192x256 crops in; ``simcc_x`` N x 17 x 384 and ``simcc_y`` N x 17 x 512
out, a seeded linear map of the crop's column and row means) and the exporter's metadata,
so the runner's own work is checked against an independent numpy computation: metadata and
labels, refusals, crops of several boxes over several images in one run, SimCC decoding
and the map back to frame pixels, boxes scaled from annotation to image pixels, and the
join with detector annotations through a real nats-server (joined, late, missing).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from courtside_contracts.annotations import Annotation, DetectedObject, Latency
from courtside_contracts.subjects import annotations_subject
from infer_support import court_image
from nats.aio.client import Client as NATS
from onnx import TensorProto, helper, numpy_helper

from courtside.config import ModelConfig
from inference.backends import create_runner
from inference.backends.base import FrameRef
from inference.backends.mmpose import topdown
from inference.backends.mmpose.onnx_runner import MMPoseOnnxRunner
from inference.errors import ModelLoadError

W, H, K, RATIO = 192, 256, 17, 2.0
META = {"courtside_weights": "untrained", "courtside_version": "rtmpose-t-test@mmpose-1.3.2",
        "courtside_model": "rtmpose-t", "input_size": f"{W},{H}", "simcc_split_ratio": "2.0", "keypoints": "coco-17"}


def weights(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((W, K * int(W * RATIO))).astype(np.float32),
            rng.standard_normal((H, K * int(H * RATIO))).astype(np.float32))


def simcc_graph(path: Path, meta: dict[str, str] | None = None, seed: int = 0) -> Path:
    """RTMPose's interface: crops -> (column means @ Wx, row means @ Wy) reshaped to N x 17 x bins."""
    wx, wy = weights(seed)
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["gray"], axes=[1], keepdims=0),
        helper.make_node("ReduceMean", ["gray"], ["cols"], axes=[1], keepdims=0),
        helper.make_node("ReduceMean", ["gray"], ["rows"], axes=[2], keepdims=0),
        helper.make_node("MatMul", ["cols", "wx"], ["fx"]),
        helper.make_node("MatMul", ["rows", "wy"], ["fy"]),
        helper.make_node("Reshape", ["fx", "shape_x"], ["simcc_x"]),
        helper.make_node("Reshape", ["fy", "shape_y"], ["simcc_y"]),
    ]
    inits = [numpy_helper.from_array(wx, "wx"), numpy_helper.from_array(wy, "wy"),
             numpy_helper.from_array(np.array([-1, K, int(W * RATIO)], np.int64), "shape_x"),
             numpy_helper.from_array(np.array([-1, K, int(H * RATIO)], np.int64), "shape_y")]
    graph = helper.make_graph(
        nodes, "simcc", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, H, W])],
        [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, ["batch", K, int(W * RATIO)]),
         helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, ["batch", K, int(H * RATIO)])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (META if meta is None else meta).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


def expected(image: np.ndarray, box: tuple[float, float, float, float, float]) -> list[list[float]]:
    """The graph and mmpose's SimCC decoding in plain numpy, on the runner's crop (tested in test_infer_mmpose_topdown)."""
    wx, wy = weights()
    center, scale = topdown.center_scale(box[:4], W / H)
    crop = topdown.crop(image, center, scale, (W, H))
    x = ((crop[..., ::-1].astype(np.float64) - topdown.MEAN) / topdown.STD).mean(axis=2)  # H x W gray
    sx = (x.mean(axis=0) @ wx).reshape(K, -1)
    sy = (x.mean(axis=1) @ wy).reshape(K, -1)
    out = []
    for k in range(K):
        val = min(sx[k].max(), sy[k].max())
        loc = np.array([-1.0, -1.0]) if val <= 0 else np.array([sx[k].argmax(), sy[k].argmax()], np.float64)
        kx, ky = loc / RATIO / (W, H) * scale + center - 0.5 * scale
        out.append([min(max(kx, 0.0), image.shape[1]), min(max(ky, 0.0), image.shape[0]), float(val)])
    return out


def runner(path: Path, **options: Any) -> MMPoseOnnxRunner:
    r = create_runner(ModelConfig(name="pose", backend="mmpose-onnx", weights=str(path), task="pose",
                                  options={"detector": "det", **options}))
    assert isinstance(r, MMPoseOnnxRunner)
    return r


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simcc_graph(tmp_path_factory.mktemp("mmpose-onnx") / "rtmpose-t.onnx")


IMAGES = [court_image(1, 640, 480), court_image(2, 320, 240)]
BOXES = [[(100.0, 50.0, 220.0, 400.0, 0.9), (300.0, 120.0, 420.0, 470.0, 0.7)], [(10.0, 20.0, 90.0, 200.0, 0.8)]]


def close_to(ours: list[Any], theirs: list[list[float]]) -> None:
    assert len(ours) == len(theirs) == K
    for (x, y, s), (ex, ey, es) in zip(ours, theirs, strict=True):
        assert abs(x - ex) < 1e-3 and abs(y - ey) < 1e-3 and abs(s - es) < 1e-3 * max(1.0, abs(es))


def test_metadata_labels_and_refusals(graph: Path, tmp_path: Path) -> None:
    r = runner(graph)
    assert r.weights == "untrained" and r.model_name == "rtmpose-t" and r.input_size is None
    assert r.version.startswith("rtmpose-t-test@mmpose-1.3.2+onnx-") and "@onnxruntime-" in r.version
    assert runner(graph, weights_state="trained").weights == "trained"
    with pytest.raises(ModelLoadError, match=r"mmpose-onnx weights must be an existing \.onnx file"):
        runner(tmp_path / "missing.onnx")
    bare = simcc_graph(tmp_path / "bare.onnx", meta={})
    with pytest.raises(ModelLoadError, match=r"bare\.onnx is not an RTMPose export"):
        runner(bare)
    no_size = simcc_graph(tmp_path / "nosize.onnx", meta={k: v for k, v in META.items() if k != "input_size"})
    with pytest.raises(ModelLoadError, match="lacks input_size"):
        runner(no_size)
    with pytest.raises(ModelLoadError, match=r"options\.detector must name the model"):
        create_runner(ModelConfig(name="pose", backend="mmpose-onnx", weights=str(graph), task="pose"))
    with pytest.raises(ModelLoadError, match="imgsz does not apply"):
        create_runner(ModelConfig(name="pose", backend="mmpose-onnx", weights=str(graph), task="pose", imgsz=640,
                                  options={"detector": "det"}))
    with pytest.raises(RuntimeError, match="call infer_frames"):
        r.infer(IMAGES)


def test_every_box_of_every_image_in_one_run_equals_numpy(graph: Path) -> None:
    r = runner(graph, max_people=2)
    got = r.pose_boxes(IMAGES, BOXES)
    assert [len(g) for g in got] == [2, 1]
    for objs, image, boxes in zip(got, IMAGES, BOXES, strict=True):
        for obj, box in zip(objs, boxes, strict=True):
            assert obj.label == "person" and obj.score == box[4] and obj.box == box[:4]
            assert obj.keypoints is not None
            assert len({(round(x), round(y)) for x, y, _ in obj.keypoints}) >= 10  # not a degenerate answer
            close_to(list(obj.keypoints), expected(image, box))
    assert [len(g) for g in runner(graph, max_people=1).pose_boxes(IMAGES, BOXES)] == [1, 1]  # best boxes first
    assert r.pose_boxes(IMAGES, [(), ()]) == [[], []]  # nobody: no run


def detector(camera: str, seq: int, boxes: list[tuple[float, ...]], width: int, height: int) -> bytes:
    objects = tuple(DetectedObject("person", 0, b[4], (b[0], b[1], b[2], b[3])) for b in boxes)
    return Annotation(camera=camera, seq=seq, ts=0, model="det", model_version="x", weights="untrained",
                      frame_w=width, frame_h=height, latency=Latency(0, 0, 0),
                      objects=(*objects, DetectedObject("sports ball", 32, 0.99, (1.0, 1.0, 5.0, 5.0)))).to_json()


@pytest.mark.timeout(60)
async def test_infer_frames_joins_detector_boxes_through_nats(graph: Path, nc: NATS) -> None:
    r = runner(graph, detector_timeout_ms=500.0)
    await r.attach(nc)
    try:
        image, boxes = IMAGES[0], BOXES[0]
        direct = [o.to_dict() for o in r.pose_boxes([image], [boxes])[0]]

        def frame(seq: int, scale: int = 1) -> FrameRef:
            return FrameRef("court-1", seq, 0, image.shape[1] * scale, image.shape[0] * scale)

        async def infer(img: np.ndarray, ref: FrameRef) -> tuple[list[Any], float]:
            start = time.monotonic()
            out = await asyncio.to_thread(r.infer_frames, [img], [ref])
            return [o.to_dict() for o in out[0]], time.monotonic() - start

        await nc.publish(annotations_subject("court-1", "det"), detector("court-1", 1, boxes, 640, 480))
        await nc.flush()
        await asyncio.sleep(0.1)
        got, _ = await infer(image, frame(1))
        assert got == direct  # the detector first: joined (the ball is not a person)

        late = asyncio.create_task(infer(image, frame(2)))
        await asyncio.sleep(0.25)
        assert not late.done()
        await nc.publish(annotations_subject("court-1", "det"), detector("court-1", 2, boxes, 640, 480))
        got, took = await asyncio.wait_for(late, 10)
        assert got == direct and took > 0.2  # the frame first: waited, then joined

        got, took = await infer(image, frame(3))
        assert got == [] and 0.45 < took < 5.0  # never came: nobody after the timeout, no hang

        doubled = [(x1 * 2, y1 * 2, x2 * 2, y2 * 2, s) for x1, y1, x2, y2, s in boxes]  # published at 2x the image
        await nc.publish(annotations_subject("court-1", "det"), detector("court-1", 4, doubled, 1280, 960))
        await nc.flush()
        await asyncio.sleep(0.1)
        got, _ = await infer(image, frame(4, scale=2))
        assert got == direct  # boxes mapped from the annotation's pixels to the image's
        assert r.boxes.counts.joined == 3 and r.boxes.counts.missing == 1
    finally:
        await r.detach()
        await r.detach()  # idempotent
