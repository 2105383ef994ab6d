from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnx


def test_courtside_export_writes_an_onnx_model_marked_untrained(tmp_path: Path) -> None:
    out = tmp_path / "m.onnx"
    result = subprocess.run([sys.executable, "-m", "courtside", "export", "--weights", "yolo11n.yaml",
                             "--out", str(out), "--imgsz", "320"], capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "YOLO_CONFIG_DIR": str(tmp_path / "y"),
                                 "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["courtside_weights"] == "untrained"


def test_courtside_export_reports_a_missing_checkpoint(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "courtside", "export", "--weights", str(tmp_path / "no.pt"),
                             "--out", str(tmp_path / "m.onnx")], capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "YOLO_CONFIG_DIR": str(tmp_path / "y"),
                                 "HOME": str(tmp_path), "YOLO_OFFLINE": "1"})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "no.pt" in result.stderr
