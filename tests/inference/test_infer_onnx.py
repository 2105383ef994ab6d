"""ONNX export and the ONNX Runtime backend against the PyTorch (Ultralytics) path.

Tolerance, same untrained random-weight model, same frames: identical object count
and classes, boxes and keypoints within 0.01 px, scores within 1e-5. (Measured:
1.2e-4 px and 1.2e-7.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from courtside_contracts.annotations import DetectedObject
from infer_support import collecting, court_image, jpeg, publish_frame, random_yolo_checkpoint, running
from nats.aio.client import Client as NATS

from courtside.config import ModelConfig
from inference.backends import create_runner
from inference.errors import ModelLoadError
from inference.export import export_onnx
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.worker import run_in_fresh_thread

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    out = {}
    for task, arch in (("detect", "yolo11n.yaml"), ("pose", "yolo11n-pose.yaml")):
        folder = tmp_path_factory.mktemp(task)
        pt = random_yolo_checkpoint(folder / f"{task}.pt", arch, seed=3)
        out[task] = (pt, export_onnx(str(pt), folder / f"{task}.onnx", imgsz=320))
    return out


def matched(ours: list[DetectedObject], ref: list[DetectedObject]) -> list[DetectedObject]:
    """``ref`` reordered to pair with ``ours`` (same class, nearest box).

    Scores of this random model tie to 1e-7, so the two runtimes may list equal-score
    objects in either order; the sets must agree, not the order of ties.
    """
    left = list(ref)
    out = []
    for obj in ours:
        best = min(left, key=lambda r: (r.class_id != obj.class_id,
                                        max(abs(x - y) for x, y in zip(r.box, obj.box, strict=True))))
        left.remove(best)
        out.append(best)
    return out


@pytest.mark.parametrize("task", ["detect", "pose"])
def test_onnx_runtime_matches_torch(models: dict[str, tuple[Path, Path]], task: str) -> None:
    pt, onnx_path = models[task]
    common = dict(name="m", imgsz=320, conf=0.25, threads=2, task=task)
    ort_runner = create_runner(ModelConfig(backend="onnx", weights=str(onnx_path), **common))  # type: ignore[arg-type]
    torch_runner = create_runner(ModelConfig(backend="ultralytics", weights=str(pt), **common))  # type: ignore[arg-type]
    images = [court_image(1), court_image(2, 640, 360), court_image(3, 300, 500), court_image(4)]
    ours, ref = ort_runner.infer(images), torch_runner.infer(images)
    for a, b in zip(ours, ref, strict=True):
        assert len(a) == len(b) > 10
        b = matched(a, b)
        assert [o.class_id for o in a] == [o.class_id for o in b]
        assert np.abs(np.array([o.box for o in a]) - np.array([o.box for o in b])).max() < 0.01
        assert np.abs(np.array([o.score for o in a]) - np.array([o.score for o in b])).max() < 1e-5
        if task == "pose":
            ka, kb = np.array([o.keypoints for o in a]), np.array([o.keypoints for o in b])
            assert ka.shape == kb.shape == (len(a), 17, 3)
            assert np.abs(ka - kb).max() < 0.01
    assert ort_runner.weights == torch_runner.weights == "untrained"


def test_export_records_weights_state_and_override(models: dict[str, tuple[Path, Path]]) -> None:
    _, onnx_path = models["detect"]
    meta = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    assert meta["courtside_weights"] == "untrained" and meta["task"] == "detect"
    runner = create_runner(ModelConfig(name="m", backend="onnx", weights=str(onnx_path), imgsz=320,
                                       options={"weights_state": "trained", "warmup": False}))
    assert runner.weights == "trained"


def test_onnx_backend_refuses_what_it_cannot_do(models: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    _, onnx_path = models["detect"]
    with pytest.raises(ModelLoadError, match="does not track"):
        create_runner(ModelConfig(name="m", backend="onnx", weights=str(onnx_path), task="track"))
    with pytest.raises(ModelLoadError, match=r"existing \.onnx"):
        create_runner(ModelConfig(name="m", backend="onnx", weights=str(tmp_path / "none.onnx")))
    with pytest.raises(ModelLoadError, match="pose model"):
        create_runner(ModelConfig(name="m", backend="onnx", weights=str(models["pose"][1])))
    with pytest.raises(ModelLoadError, match="lacks"):
        create_runner(ModelConfig(name="m", backend="onnx", weights=str(onnx_path),
                                  options={"providers": ["NoSuchExecutionProvider"]}))


async def test_consumer_serves_the_onnx_backend(nc: NATS, models: dict[str, tuple[Path, Path]]) -> None:
    config = ModelConfig(name="onnx", backend="onnx", weights=str(models["detect"][1]), imgsz=320, conf=0.25,
                         threads=2, max_age_ms=60_000)
    runner = await run_in_fresh_thread("load", create_runner, config)
    async with collecting(nc, "onnx") as got, running(InferenceConsumer(config, runner, nc, instance="o-1")):
        await publish_frame(nc, "court-1", 1, jpeg(court_image(8)), 320, 240)
        (ann,) = await got.wait_for(1)
    assert ann.weights == "untrained" and ann.model_version.endswith(runner.version.split("@")[1])
    assert len(ann.objects) > 0 and (ann.frame_w, ann.frame_h) == (320, 240)


def test_export_command_line(tmp_path: Path) -> None:
    out = tmp_path / "cli.onnx"
    proc = subprocess.run([sys.executable, "-m", "inference.export", "--weights", "yolo11n.yaml",
                           "--out", str(out), "--imgsz", "320"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**_env(), "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.is_file() and proc.stdout.strip().endswith("cli.onnx")
    assert not list(tmp_path.glob("*.pt")), "export must not leave files beside the caller"


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
