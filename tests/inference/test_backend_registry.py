"""The backend registry: one table; every backend's options model is strict, described and light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from courtside.config import ConfigError, CourtsideConfig, ModelConfig
from inference.backends.base import ModelInfo, Runner
from inference.backends.registry import (
    BACKENDS,
    ENVIRONMENTS,
    create_runner,
    validate_config,
    validate_options,
)
from inference.errors import BackendUnavailable, ModelLoadError

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "ultralytics", "cv2", "mediapipe", "onnxruntime", "super_gradients", "mmpose", "mmcv")


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_options_models_refuse_unknown_keys_and_describe_every_field(name: str) -> None:
    options = BACKENDS[name].options
    assert options.model_config.get("extra") == "forbid" and options.model_config.get("strict") is True
    for field, info in options.model_fields.items():
        assert info.description, f"{name}: option {field} has no description"
    options.model_validate({})  # every option has a default


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_options_modules_import_nothing_heavy(name: str) -> None:
    module = BACKENDS[name].options.__module__
    code = (f"import sys, json; import {module}; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout) == [], f"{module} imports a heavy backend"


def test_environments_are_a_view_of_the_one_table() -> None:
    assert dict(ENVIRONMENTS) == {n: b.environment for n, b in BACKENDS.items() if b.environment is not None}
    for env in ENVIRONMENTS.values():
        assert (REPO / env.setup).is_file()
    for entry in BACKENDS.values():
        module, _, cls = entry.runner.partition(":")
        assert (REPO / (module.replace(".", "/") + ".py")).is_file() and cls


def test_config_problems_name_the_file_the_field_and_the_backend() -> None:
    config = CourtsideConfig(models=[
        ModelConfig(name="a", backend="ultralytics", options={"max_det": "300"}),
        ModelConfig(name="b", backend="onnx", options={"provider": ["CPUExecutionProvider"]}),
        ModelConfig(name="c", backend="nope"),
        ModelConfig(name="d", backend="opencv", options={"win_stride": 8, "faces": False}),
    ])
    with pytest.raises(ConfigError) as info:
        validate_config(config, "court.yaml")
    lines = str(info.value).splitlines()
    assert lines[0] == "invalid configuration in court.yaml:"
    assert lines[1] == "  models.0.options.max_det: Input should be a valid integer (backend ultralytics)"
    assert lines[2].startswith("  models.1.options.provider: unknown option (known: max_det, providers, ")
    assert lines[2].endswith("(backend onnx)")
    assert lines[3].startswith("  models.2.backend: unknown backend 'nope' (available: ")
    assert len(lines) == 4, "a valid model adds no line"
    parsed = validate_options(config.models[3], "court.yaml", 3)
    assert parsed.model_dump()["faces"] is False


def test_create_runner_refuses_unknown_backends_and_bad_options_and_loads_a_runner() -> None:
    with pytest.raises(BackendUnavailable, match="model m: unknown backend 'nope'"):
        create_runner(ModelConfig(name="m", backend="nope"))
    with pytest.raises(ModelLoadError, match=r"model m: bad ultralytics options: options\.max_det"):
        create_runner(ModelConfig(name="m", backend="ultralytics", options={"max_det": 0}))
    runner = create_runner(ModelConfig(name="m", backend="brightest"))
    assert isinstance(runner, Runner) and not runner.stateful and runner.input_size is None
    assert runner.describe() == ModelInfo(backend="brightest", model="brightest-region", version="brightest-1",
                                          weights="untrained", device="cpu", trained_on=None)
    runner.reset("court-1")  # the defaults: no state to forget, nothing to release
    runner.close()


def test_a_runner_must_implement_infer() -> None:
    class Incomplete(Runner):
        name = "incomplete"

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]
