"""``courtside up`` starts each model's consumer with its backend's own interpreter."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from courtside.app.cli import EMBEDDED_CONFIG
from courtside.app.supervisor import service_commands
from courtside.config import ConfigError, load_config
from inference.backends import BACKENDS, REPO_ROOT, backend_python
from inference.errors import BackendUnavailable


def test_backends_with_their_own_environment_get_its_interpreter(tmp_path: Path) -> None:
    assert backend_python("ultralytics", tmp_path) is None
    assert backend_python("onnx", tmp_path) is None
    with pytest.raises(BackendUnavailable, match=r"\.venvs/mediapipe.*setup_env\.sh"):
        backend_python("mediapipe", tmp_path)
    python = tmp_path / ".venvs" / "opencv-hog" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    assert backend_python("opencv", tmp_path) == python


def test_embedded_default_runs_each_consumer_in_its_environment() -> None:
    commands = dict(service_commands(load_config(EMBEDDED_CONFIG), EMBEDDED_CONFIG))
    assert list(commands) == ["ingest", "infer-yolo", "infer-ball", "infer-people", "infer-pose", "analytics",
                              "fanout"]
    assert (commands["ingest"][0] == commands["infer-yolo"][0] == commands["infer-ball"][0]
            == commands["analytics"][0] == commands["fanout"][0] == sys.executable)
    assert commands["infer-people"][:4] == [str(REPO_ROOT / ".venvs/opencv-hog/bin/python"), "-m", "courtside",
                                            "infer"]
    assert commands["infer-pose"][0] == str(REPO_ROOT / ".venvs/mediapipe/bin/python")
    for name, argv in commands.items():
        assert Path(argv[0]).exists(), f"{name}: {argv[0]} is missing (scripts/bootstrap builds it)"


def test_a_missing_environment_is_refused_before_anything_starts(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "court.yaml"
    path.write_text("cameras: [{id: c1, url: 'demo://padel'}]\n"
                    "models: [{name: m, backend: opencv}]\n")
    config = load_config(path)
    opencv = BACKENDS["opencv"]
    assert opencv.environment is not None
    monkeypatch.setitem(BACKENDS, "opencv", replace(opencv, environment=opencv.environment._replace(venv="no-such-env")))
    with pytest.raises(ConfigError, match=r"model m: .*\.venvs/no-such-env.*opencv_hog/setup_env\.sh"):
        service_commands(config, path)


def test_configured_analytics_runs_between_the_models_and_fanout(tmp_path: Path) -> None:
    path = tmp_path / "court.yaml"
    path.write_text("cameras: [{id: c1, url: 'demo://padel'}]\n"
                    "models: [{name: players, backend: ultralytics, weights: yolo11n.pt},\n"
                    "         {name: ball, backend: ball, weights: 'shipped:small', task: track}]\n"
                    "analytics: {player_model: players, ball_model: ball}\n")
    commands = service_commands(load_config(path), path)
    assert [name for name, _ in commands] == ["ingest", "infer-players", "infer-ball", "analytics", "fanout"]
    assert dict(commands)["analytics"] == [sys.executable, "-m", "courtside", "analytics", "--config", str(path)]
    without = tmp_path / "plain.yaml"
    without.write_text("cameras: [{id: c1, url: 'demo://padel'}]\nmodels: [{name: m, backend: ultralytics}]\n")
    assert "analytics" not in dict(service_commands(load_config(without), without))

