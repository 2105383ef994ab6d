"""``courtside up`` starts each model's consumer with its backend's own interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from courtside.cli import EMBEDDED_CONFIG
from courtside.config import ConfigError, load_config
from courtside.supervisor import service_commands
from inference.backends import ENVIRONMENTS, REPO_ROOT, backend_python
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
    assert list(commands) == ["ingest", "infer-yolo", "infer-people", "infer-pose", "fanout"]
    assert commands["ingest"][0] == commands["infer-yolo"][0] == commands["fanout"][0] == sys.executable
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
    monkeypatch.setitem(ENVIRONMENTS, "opencv", ("no-such-env", ENVIRONMENTS["opencv"][1]))
    with pytest.raises(ConfigError, match=r"model m: .*\.venvs/no-such-env.*opencv_hog/setup_env\.sh"):
        service_commands(config, path)
