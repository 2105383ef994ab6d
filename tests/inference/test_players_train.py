"""``courtside train players`` / ``eval players``: a short real training run learns; bad input is refused.

The run is the command's own :func:`train` at a tiny size (imgsz 160, a few
dozen simulated frames, a few epochs), bounded by CPU time; it is scored on
held-out simulator seeds against the untrained architecture on the same frames.
"""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

from courtside.app.cli import main as cli
from courtside.sim.detection import HELD_OUT_SEEDS, DatasetSpec, export
from inference.backends.yolo.players_eval import evaluate, untrained_checkpoint
from inference.backends.yolo.players_train import TRAINED_ON, WEIGHTS_NAME, PlayersTrainConfig, train

#: The test's budget, CPU seconds (user + system of this process and its children).
CPU_BUDGET_S = 120.0


def _cpu_s() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@pytest.mark.timeout(900)  # wall clock on a loaded 2-core machine; the bound that matters is CPU_BUDGET_S
def test_a_short_training_run_learns_to_find_players_on_held_out_courts(tmp_path: Path) -> None:
    tc = PlayersTrainConfig(out=tmp_path / "run", seed=3, clips=6, val_clips=1, test_clips=2, frames_per_clip=8,
                            imgsz=160, epochs=12, batch=4, lr0=0.005, close_mosaic=0, threads=1,
                            command="courtside train players (test)")
    start = _cpu_s()
    metrics = train(tc)
    used = _cpu_s() - start
    untrained = evaluate(untrained_checkpoint("yolo11n.yaml", tmp_path / "untrained.pt"),
                         tmp_path / "run" / "data" / "data.yaml", imgsz=160, threads=1)
    learned, chance = metrics["players"]["per_class"]["player"]["map50"], untrained["per_class"]["player"]["map50"]
    print(f"player mAP50 {learned} (untrained {chance}), {used:.0f} CPU seconds")
    assert chance < 0.001, untrained
    assert learned > 0.03 and learned > 10 * chance, (metrics, untrained)  # 0.11 seen
    assert used < CPU_BUDGET_S, f"{used:.0f} CPU seconds"
    record = json.loads((tmp_path / "run" / "train.json").read_text())
    assert record["command"] == "courtside train players (test)" and record["seed"] == 3
    assert record["data"]["simulator"] == "courtside.sim v2"
    assert record["data"]["test_seeds"] == f"{HELD_OUT_SEEDS[0]}..{HELD_OUT_SEEDS[1]}"
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["players"] == metrics["players"]
    # The weights load as trained in the serving runner's policy, naming the synthetic court as their data.
    from inference.backends.yolo.runner import load_yolo, trained_on

    model, state, _version = load_yolo(str(tmp_path / "run" / WEIGHTS_NAME))
    assert state == "trained" and trained_on(model.ckpt) == "synthetic court (courtside.sim v2)"
    assert TRAINED_ON == "synthetic court (courtside.sim)" and model.names == {0: "player", 1: "ball"}


def test_the_commands_refuse_bad_input_and_touch_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["train", "nothing"]) == 2
    assert "known: ball, players" in capsys.readouterr().err
    assert cli(["eval", "players", "--weights", str(tmp_path / "missing.pt")]) == 2
    assert "not found" in capsys.readouterr().err
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert cli(["train", "players", "--out", str(tmp_path / "out"), "--data", str(mine)]) == 2
    assert "not a detection dataset export" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    weights = tmp_path / "w.pt"
    weights.write_text("not a checkpoint")
    assert cli(["eval", "players", "--weights", str(weights), "--data", str(mine)]) == 2
    assert "not a detection dataset export" in capsys.readouterr().err
    export(DatasetSpec(splits={"test": (HELD_OUT_SEEDS[0],)}, frames_per_clip=1), tmp_path / "data")
    assert cli(["eval", "players", "--weights", str(weights), "--data", str(tmp_path / "data")]) == 2
    assert "not an Ultralytics detector checkpoint" in capsys.readouterr().err
