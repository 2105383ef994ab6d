"""The ``mmpose`` and ``mmpose-onnx`` backends: options, refusals and the weights policy, with plain data.

These run in the main environment. The runner itself needs ``.venvs/mmpose``, whose mmcv
wheel has not been compiled on this machine yet: its tests (the runner against the
library's ``inference_bottomup`` / ``inference_topdown`` on a checkpoint saved and loaded
back, the top-down join through a real nats-server, the ONNX export served by
``mmpose-onnx``, RTMO through ``courtside infer``) are written, PLANNED, in
``tests/inference/planned_mmpose_env.py`` (not collected until renamed ``test_*.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from courtside.config import ModelConfig
from inference.backends.base import FrameRef, Runner
from inference.backends.mmpose.options import (
    MMPoseOnnxOptions,
    MMPoseOptions,
    check_model_config,
    check_topdown,
)
from inference.backends.mmpose.weights import MARKER, checkpoint_file, checkpoint_state, state_dict_of
from inference.backends.options import parse_options
from inference.errors import ModelLoadError

REPO = Path(__file__).resolve().parents[2]


# --- (a) options, refusals and weights policy, plain data ------------------------------------------------

def model(weights: str, **kwargs: Any) -> ModelConfig:
    return ModelConfig(**{"name": "pose", "backend": "mmpose", "weights": weights, "task": "pose", **kwargs})


def refusal(config: ModelConfig) -> str:
    with pytest.raises(ModelLoadError) as err:
        check_model_config(config, parse_options(MMPoseOptions, config))
    return str(err.value)


def test_options_refuse_unknown_keys_and_wrong_types_naming_the_backend() -> None:
    with pytest.raises(ModelLoadError) as err:
        parse_options(MMPoseOptions, model("rtmo-t", options={"nope": 1, "max_candidates": "9"}))
    assert "model pose: bad mmpose options" in str(err.value)
    assert "options.nope: unknown option" in str(err.value) and "options.max_candidates" in str(err.value)
    with pytest.raises(ModelLoadError, match=r"options\.detector"):
        parse_options(MMPoseOptions, model("rtmpose-t", options={"detector": "annotations.*.det"}))
    ok = parse_options(MMPoseOptions, model("rtmpose-t", options={"detector": "people", "checkpoint_path": "/w.pth"}))
    assert ok.detector == "people" and ok.detector_timeout_ms == 200.0 and ok.max_candidates is None


def test_settings_a_model_would_ignore_are_refused() -> None:
    assert "must name a shipped config (rtmo-t, rtmo-s, rtmpose-t" in refusal(model("rtmpose-x.pth"))
    assert "task must be pose, got detect" in refusal(model("rtmo-t", task="detect"))
    assert "classes does not apply" in refusal(model("rtmo-s", classes=[0, 32]))
    assert "options.detector must name the model" in refusal(model("rtmpose-t"))
    assert "cannot be the model itself" in refusal(model("rtmpose-t", options={"detector": "pose"}))
    assert "max_candidates applies to RTMO only" in refusal(
        model("rtmpose-s", options={"detector": "det", "max_candidates": 10}))
    assert "imgsz does not apply" in refusal(model("rtmpose-m", imgsz=640, options={"detector": "det"}))
    assert "one-stage (no detector): options.detector" in refusal(model("rtmo-t", options={"detector": "det"}))
    assert "runs at its input size 416, got imgsz 640" in refusal(model("rtmo-t", imgsz=640))
    for fine in (model("rtmo-t"), model("rtmo-s", imgsz=640, classes=[0]),
                 model("rtmpose-t", options={"detector": "det"})):
        check_model_config(fine, parse_options(MMPoseOptions, fine))
    onnx = ModelConfig(name="p", backend="mmpose-onnx", weights="x.onnx", task="pose")
    with pytest.raises(ModelLoadError, match=r"options\.detector must name"):
        check_topdown(onnx, parse_options(MMPoseOnnxOptions, onnx), "model p: mmpose-onnx x.onnx")


def test_checkpoint_state_comes_from_the_checkpoint() -> None:
    assert checkpoint_state({"state_dict": {}}) == "untrained"  # saved from a freshly built model
    assert checkpoint_state({"state_dict": {}, "meta": {"epoch": 420, "iter": 1000}}) == "trained"  # mmengine Runner
    assert checkpoint_state({"state_dict": {}, "meta": {"epoch": 0, "iter": 0}}) == "untrained"
    assert checkpoint_state({"state_dict": {}, "meta": {"epoch": 9}, MARKER: "untrained"}) == "untrained"
    assert checkpoint_state({"state_dict": {}, MARKER: "trained"}) == "trained"


def test_a_missing_or_empty_checkpoint_names_the_backend_and_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=f"model pose: mmpose checkpoint_path {tmp_path}/nope.pth does not exist"):
        checkpoint_file(str(tmp_path / "nope.pth"), "pose")
    (tmp_path / "yes.pth").write_bytes(b"x")
    assert checkpoint_file(str(tmp_path / "yes.pth"), "pose") == tmp_path / "yes.pth"
    with pytest.raises(ModelLoadError, match=r"yes\.pth holds no state_dict"):
        state_dict_of({"meta": {}, "state_dict": {}}, tmp_path / "yes.pth", "pose")
    assert state_dict_of({"state_dict": {"module.a": 1, "b": 2}}, tmp_path, "pose") == {"a": 1, "b": 2}


class _Recorder(Runner):
    name = "recorder"
    model_name = version = "r"
    weights = "untrained"

    def __init__(self, stateful: bool) -> None:
        self.stateful = stateful
        self.calls: list[list[str] | None] = []

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[Any]]:
        self.calls.append(cameras)
        return [[] for _ in images]


def test_infer_frames_defaults_to_infer_with_cameras_for_stateful_runners() -> None:
    frames = [FrameRef("c1", 4, 10, 64, 48), FrameRef("c2", 9, 11, 64, 48)]
    images = [np.zeros((48, 64, 3), np.uint8)] * 2
    for stateful, cameras in ((False, None), (True, ["c1", "c2"])):
        runner = _Recorder(stateful)
        assert runner.infer_frames(images, frames) == [[], []] and runner.calls == [cameras]


def test_the_example_configuration_loads_and_validates() -> None:
    from courtside.config import load_config
    from inference.backends.registry import validate_config

    path = REPO / "deploy" / "examples" / "mmpose.yaml"
    config = load_config(path, environ={})
    validate_config(config, str(path))
    models = {m.name: m for m in config.models}
    assert {m.backend for m in models.values()} >= {"mmpose", "mmpose-onnx"}
    for m in models.values():
        if m.backend == "mmpose":
            check_model_config(m, parse_options(MMPoseOptions, m))


def test_the_export_command_refuses_rtmo_and_names_the_environment_it_needs(tmp_path: Path) -> None:
    import subprocess
    import sys

    def export(weights: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "inference.backends.mmpose.export", "--weights", weights,
                               "--out", str(tmp_path / "x.onnx")], capture_output=True, text=True, cwd=REPO, timeout=120)

    rtmo = export("rtmo-t")
    assert rtmo.returncode == 1 and "takes the top-down RTMPose models" in rtmo.stderr and "'rtmo-t'" in rtmo.stderr
    here = export("rtmpose-t")  # the main environment has no mmpose
    assert here.returncode == 2 and "needs .venvs/mmpose (inference/backends/mmpose/setup_env.sh)" in here.stderr
    assert not (tmp_path / "x.onnx").exists()
