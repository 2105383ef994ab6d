"""The ``ultralytics`` backend served through ONNX Runtime by default (``options.runtime``).

Same tolerance as tests/inference/test_infer_onnx.py (same random-weight model,
same frames): identical object count and classes, boxes and keypoints within
0.01 px, scores within 1e-5; tracks: identical ids.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
from courtside_contracts.annotations import DetectedObject
from infer_support import court_image, random_yolo_checkpoint
from test_infer_onnx import matched

from courtside.config import ConfigError, ModelConfig
from inference.backends import create_runner, validate_options
from inference.backends.yolo.onnx_cache import cache_path
from inference.backends.yolo.runner import UltralyticsRunner
from inference.errors import ModelLoadError
from inference.runtime.worker import call_in_fresh_thread

LOW_BYTETRACK = """tracker_type: bytetrack
track_high_thresh: 0.0001
track_low_thresh: 0.00001
new_track_thresh: 0.0001
track_buffer: 30
match_thresh: 0.8
fuse_score: True
"""


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("weights")
    return {"detect": random_yolo_checkpoint(folder / "detect.pt", "yolo11n.yaml", seed=5),
            "pose": random_yolo_checkpoint(folder / "pose.pt", "yolo11n-pose.yaml", seed=5)}


def load(weights: Path | str, cache: Path, **kw: object) -> UltralyticsRunner:
    options = dict(kw.pop("options", {}))  # type: ignore[call-overload]
    if options.get("runtime") != "torch":
        options.setdefault("onnx_cache_dir", str(cache))
    base: dict[str, object] = dict(name="m", weights=str(weights), imgsz=320, conf=0.25, threads=2, options=options)
    base.update(kw)
    runner = call_in_fresh_thread("load", create_runner, ModelConfig(**base))  # type: ignore[arg-type]
    assert isinstance(runner, UltralyticsRunner)
    return runner


def assert_same(ours: list[list[DetectedObject]], ref: list[list[DetectedObject]], pose: bool = False) -> None:
    for a, b in zip(ours, ref, strict=True):
        assert len(a) == len(b) > 10
        b = matched(a, b)
        assert [o.class_id for o in a] == [o.class_id for o in b]
        assert [o.label for o in a] == [o.label for o in b]
        assert np.abs(np.array([o.box for o in a]) - np.array([o.box for o in b])).max() < 0.01
        assert np.abs(np.array([o.score for o in a]) - np.array([o.score for o in b])).max() < 1e-5
        if pose:
            ka, kb = np.array([o.keypoints for o in a]), np.array([o.keypoints for o in b])
            assert ka.shape == kb.shape == (len(a), 17, 3)
            assert np.abs(ka - kb).max() < 0.01


@pytest.mark.parametrize("task", ["detect", "pose"])
def test_default_runtime_is_onnx_and_equals_torch(checkpoints: dict[str, Path], tmp_path: Path, task: str) -> None:
    ours = load(checkpoints[task], tmp_path, task=task)
    ref = load(checkpoints[task], tmp_path, task=task, options={"runtime": "torch"})
    assert (ours.runtime, ref.runtime) == ("onnxruntime", "torch")
    assert "+onnxruntime-" in ours.version and ours.version.startswith(ref.version)
    assert ours.weights == ref.weights == "untrained"  # from the checkpoint, not from the export
    images = [court_image(1), court_image(2, 640, 360), court_image(3, 300, 500), court_image(4)]
    assert_same(call_in_fresh_thread("infer", ours.infer, images),
                call_in_fresh_thread("infer", ref.infer, images), pose=task == "pose")


def test_export_is_cached_by_the_weights_hash(checkpoints: dict[str, Path], tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="inference.backends.yolo.runner")
    load(checkpoints["detect"], tmp_path)
    (digest_dir,) = tmp_path.iterdir()
    (cached,) = digest_dir.iterdir()
    import hashlib

    assert digest_dir.name == hashlib.sha256(checkpoints["detect"].read_bytes()).hexdigest()
    assert cached.name.startswith("imgsz320-ultralytics") and cached.suffix == ".onnx"
    meta = {p.key: p.value for p in onnx.load(str(cached)).metadata_props}
    assert meta["courtside_weights"] == "untrained"
    mtime = cached.stat().st_mtime_ns
    caplog.clear()
    runner = load(checkpoints["detect"], tmp_path)
    assert runner.runtime == "onnxruntime" and cached.stat().st_mtime_ns == mtime
    assert any("(cached)" in r.getMessage() for r in caplog.records)
    # another input size is another file beside it
    load(checkpoints["detect"], tmp_path, imgsz=256)
    assert sorted(p.name.split("-")[0] for p in digest_dir.iterdir()) == ["imgsz256", "imgsz320"]


def test_a_corrupt_cached_file_is_exported_again(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    load(checkpoints["detect"], tmp_path)
    (cached,) = next(tmp_path.iterdir()).iterdir()
    cached.write_bytes(b"not an onnx model")
    runner = load(checkpoints["detect"], tmp_path)
    assert runner.runtime == "onnxruntime" and cached.stat().st_size > 1_000_000
    assert len(call_in_fresh_thread("infer", runner.infer, [court_image(5)])[0]) > 0


def test_export_failure_falls_back_to_torch_with_one_warning(checkpoints: dict[str, Path], tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    caplog.set_level(logging.INFO)
    runner = load(checkpoints["detect"], blocker)
    assert runner.runtime == "torch" and "+onnxruntime" not in runner.version
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "serving with torch" in r.getMessage()]
    assert len(warnings) == 1 and "not usable" in warnings[0].getMessage()
    ref = load(checkpoints["detect"], tmp_path, options={"runtime": "torch"})
    images = [court_image(6)]
    assert call_in_fresh_thread("infer", runner.infer, images) == call_in_fresh_thread("infer", ref.infer, images)
    with pytest.raises(ModelLoadError, match="runtime onnx unavailable: ONNX cache"):
        load(checkpoints["detect"], blocker, options={"runtime": "onnx"})


def test_untrained_fallback_stays_untrained_and_is_not_cached(tmp_path: Path) -> None:
    runner = load("yolo11n.pt", tmp_path, conf=1e-4)  # not on disk, no network: the yaml fallback
    assert runner.runtime == "onnxruntime" and runner.weights == "untrained" and "untrained" in runner.version
    assert not any(tmp_path.iterdir()), "random weights have no stable hash: nothing may be cached"
    images = [court_image(7)]
    from inference.backends.yolo.convert import objects_from_result

    ours = call_in_fresh_thread("infer", runner.infer, images)[0]
    (raw,) = call_in_fresh_thread("predict", runner.predict, images)
    ref = objects_from_result(raw)
    assert len(ours) == len(ref) > 0  # the very weights torch holds in memory, exported
    assert np.abs(np.array([o.score for o in ours]) - np.array([o.score for o in ref])).max() < 1e-6


def test_tracking_on_onnx_detections_equals_torch(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    tracker = tmp_path / "low-bytetrack.yaml"
    tracker.write_text(LOW_BYTETRACK)
    ours = load(checkpoints["detect"], tmp_path / "cache", task="track",
                options={"tracker": str(tracker), "max_det": 20})
    ref = load(checkpoints["detect"], tmp_path, task="track",
               options={"tracker": str(tracker), "max_det": 20, "runtime": "torch"})
    assert ours.runtime == "onnxruntime" and ours.stateful
    frames = []
    for step in range(6):
        img = court_image(8)
        img[100:160, 20 + 15 * step:60 + 15 * step] = (250, 250, 250)  # something that moves
        frames.append(img)
    seen = 0
    for step, img in enumerate(frames):
        cams = ["cam-a", "cam-b"]
        a = call_in_fresh_thread("infer", ours.infer, [img, frames[0]], cams)
        b = call_in_fresh_thread("infer", ref.infer, [img, frames[0]], cams)
        for oa, ob in zip(a, b, strict=True):
            assert sorted(o.track_id or 0 for o in oa) == sorted(o.track_id or 0 for o in ob), f"frame {step}"
            by_id = {o.track_id: o for o in ob}
            for o in oa:
                assert max(abs(x - y) for x, y in zip(o.box, by_id[o.track_id].box, strict=True)) < 0.01
            seen += len(oa)
    assert seen > 20, "confirmed tracks must exist for the comparison to mean something"
    ours.reset("cam-a")
    assert ours._trackers is not None and ours._trackers.cameras() == ["cam-b"]


def test_runtime_options_are_checked(tmp_path: Path) -> None:
    bad = ModelConfig(name="m", options={"runtime": "torch", "onnx_cache_dir": str(tmp_path)})
    with pytest.raises(ConfigError, match="onnx_cache_dir is used only by the ONNX Runtime path"):
        validate_options(bad, "courtside.yaml")
    with pytest.raises(ConfigError, match="runtime"):
        validate_options(ModelConfig(name="m", options={"runtime": "tensorrt"}), "courtside.yaml")
    # auto on a GPU device keeps torch (the ONNX path is the CPU default): nothing exported
    runner = UltralyticsRunner(ModelConfig(name="m", weights="yolo11n.yaml", device="cuda:0",
                                           options={"onnx_cache_dir": str(tmp_path)}))
    assert runner.runtime == "torch" and not any(tmp_path.iterdir())


def test_cache_path_is_keyed_by_digest_size_and_exporter(tmp_path: Path) -> None:
    digest = "ab" * 32
    assert cache_path(tmp_path, digest, 640, "ultralytics8.4.190-torch2.14.1+cpu") == (
        tmp_path / digest / "imgsz640-ultralytics8.4.190-torch2.14.1_cpu.onnx")
    with pytest.raises(ValueError, match="SHA-256"):
        cache_path(tmp_path, "../../etc", 640, "x")


def test_int8_precision_is_quantized_cached_and_close_to_fp32(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    fp32 = load(checkpoints["detect"], tmp_path, conf=0.25, options={"runtime": "onnx"})
    int8 = load(checkpoints["detect"], tmp_path, conf=0.25, options={"runtime": "onnx", "precision": "int8"})
    assert int8.version.endswith("-int8") and int8.weights == "untrained" and int8.runtime == "onnxruntime"
    files = sorted(p.name for p in next(tmp_path.iterdir()).iterdir())
    assert len(files) == 2 and sum(f.endswith("-int8-cal1.onnx") for f in files) == 1, files
    assert int8._onnx is not None and fp32._onnx is not None
    images = [court_image(1), court_image(2, 640, 360)]
    raw8, _ = call_in_fresh_thread("raw", int8._onnx.raw, images)
    raw32, _ = call_in_fresh_thread("raw", fp32._onnx.raw, images)
    for a, b in zip(raw8, raw32, strict=True):
        assert a.shape == b.shape
        assert not np.array_equal(a, b), "a quantized model computes differently"
        # measured on this random-weight model: scores within ~0.05, boxes strongly correlated
        assert np.abs(a[4:] - b[4:]).max() < 0.2
        assert np.corrcoef(a[:4].ravel(), b[:4].ravel())[0, 1] > 0.95
    with pytest.raises(ConfigError, match="precision int8 is an ONNX Runtime setting"):
        validate_options(ModelConfig(name="m", options={"precision": "int8"}), "courtside.yaml")
