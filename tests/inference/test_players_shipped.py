"""The committed player detector: ``shipped:players-court`` resolves, loads as trained on the synthetic
court, and its records say how it was made and what it scored on held-out seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.backends.yolo import shipped
from inference.backends.yolo.weights import local_weights


def test_the_alias_resolves_to_the_committed_file_and_other_values_pass_through() -> None:
    path = Path(local_weights("shipped:players-court"))
    assert path == shipped.SHIPPED_DIR / "players-court.pt" and path.is_file()
    assert path.stat().st_size < 8_000_000  # small enough to commit
    assert local_weights("yolo11n.pt") == "yolo11n.pt" and local_weights("/x/y.pt") == "/x/y.pt"
    with pytest.raises(shipped.ShippedWeightsError, match="known: shipped:players-court"):
        local_weights("shipped:nope")


def test_the_shipped_detector_loads_trained_on_the_synthetic_court() -> None:
    from inference.backends.yolo.runner import load_yolo, trained_on

    model, state, version = load_yolo(local_weights("shipped:players-court"))
    assert state == "trained" and version.startswith("players-court-")
    assert trained_on(model.ckpt) == "synthetic court (courtside.sim v2)"
    assert model.names == {0: "player", 1: "ball"} and model.task == "detect"


def test_its_records_name_the_command_seed_data_and_held_out_scores() -> None:
    train = shipped.record("players-court", "train")
    metrics = shipped.record("players-court", "metrics")
    assert train["command"].startswith("courtside train players ") and isinstance(train["seed"], int)
    assert train["data"]["simulator"] == "courtside.sim v2"
    assert metrics["held_out_seeds"] == train["data"]["test_seeds"] and metrics["held_out_seeds"].startswith("950000..")
    assert 0.0 <= metrics["players"]["map50"] <= 1.0 and set(metrics["players"]["per_class"]) == {"player", "ball"}
    with pytest.raises(shipped.ShippedWeightsError):
        shipped.record("players-court", "other")


def test_a_model_configured_with_the_alias_serves_the_shipped_detector_as_trained() -> None:
    from courtside.config import ModelConfig
    from inference.backends import create_runner

    runner = create_runner(ModelConfig(name="players", backend="ultralytics", weights="shipped:players-court",
                                       imgsz=160, options={"runtime": "torch"}))
    try:
        info = runner.describe()
        assert (info.model, info.weights, info.trained_on) == (
            "players-court", "trained", "synthetic court (courtside.sim v2)")
        assert runner.version.startswith("players-court-")
    finally:
        runner.close()
