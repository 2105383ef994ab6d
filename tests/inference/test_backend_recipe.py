"""docs/backends.md's recipe works: its code is the ``brightest`` backend, which serves end to end.

The doc's code blocks are compared with the backend's files byte for byte (so the doc
cannot drift from the code that runs), then ``courtside infer`` serves a model of that
backend against a real nats-server: JPEG frames with a bright square painted at a known
place go in, and the annotations' boxes must cover that square within a few pixels.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from infer_support import collecting, jpeg, publish_frame, spawn_ready_infer
from nats.aio.client import Client as NATS

from courtside import process
from courtside.app.cli import main as cli_main
from courtside.config import ModelConfig
from courtside.nats_server import EmbeddedNats
from inference.backends.brightest.runner import BrightestRunner, bright_region
from inference.backends.registry import BACKENDS
from inference.errors import ModelLoadError

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "backends.md"
#: (x, y, w, h) of the square painted into each frame, in pixels of a 320x240 frame.
SQUARES = [(40, 30, 24, 24), (200, 150, 40, 20), (0, 0, 16, 16), (281, 201, 39, 39), (150, 100, 8, 60)]
TOLERANCE_PX = 3.0


def doc_blocks() -> dict[str, str]:
    """Each ``<!-- file: PATH -->`` / ``<!-- registry line -->`` marker -> the code block under it."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- (file: \S+|registry line) -->\n```python\n(.*?)```\n", text, flags=re.S)
    return dict(blocks)


def painted(square: tuple[int, int, int, int], seed: int) -> np.ndarray:
    """A dim, noisy 320x240 frame (values ~40-90) with a white square at ``square``."""
    rng = np.random.default_rng(seed)
    image = rng.integers(40, 90, (240, 320, 3), dtype=np.uint8)
    x, y, w, h = square
    image[y:y + h, x:x + w] = 255
    return image


def test_the_docs_code_is_the_backends_code() -> None:
    blocks = doc_blocks()
    files = {k.removeprefix("file: "): v for k, v in blocks.items() if k.startswith("file: ")}
    assert set(files) == {"inference/backends/brightest/options.py", "inference/backends/brightest/runner.py"}
    for path, code in files.items():
        assert code == (REPO / path).read_text(encoding="utf-8"), f"docs/backends.md's copy of {path} drifted"
    registry = (REPO / "inference/backends/registry.py").read_text(encoding="utf-8")
    assert blocks["registry line"] in registry, "the doc's registry line is not the registry's"
    assert BACKENDS["brightest"].options.__name__ == "BrightestOptions"


def test_bright_region_boxes_the_painted_square() -> None:
    for i, (x, y, w, h) in enumerate(SQUARES):
        region = bright_region(painted((x, y, w, h), i).mean(axis=2), level=0.5, min_contrast=40)
        assert region is not None and region.box == (x, y, x + w, y + h)
    flat = np.full((240, 320), 80.0)
    assert bright_region(flat, 0.5, 40) is None, "no region stands out of a flat frame"


def test_bad_options_and_tasks_are_refused_with_the_field_named() -> None:
    with pytest.raises(ModelLoadError, match=r"model b: bad brightest options: options\.levle: unknown option"):
        BrightestRunner(ModelConfig(name="b", backend="brightest", options={"levle": 0.5}))
    with pytest.raises(ModelLoadError, match=r"options\.level: Input should be less than 1"):
        BrightestRunner(ModelConfig(name="b", backend="brightest", options={"level": 2}))
    with pytest.raises(ModelLoadError, match="only detects"):
        BrightestRunner(ModelConfig(name="b", backend="brightest", task="pose"))


def test_check_config_refuses_a_bad_option_naming_file_field_and_backend(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "court.yaml"
    config.write_text("models:\n  - {name: ok, backend: brightest}\n"
                      "  - {name: bad, backend: brightest, options: {level: 0.5, min_contrats: 10}}\n")
    assert cli_main(["--config", str(config), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"invalid configuration in {config}" in err
    assert "models.1.options.min_contrats: unknown option (known: level, min_contrast) (backend brightest)" in err
    config.write_text("models:\n  - {name: ok, backend: brightest, options: {level: 0.6}}\n")
    assert cli_main(["--config", str(config), "check-config"]) == 0


async def test_courtside_infer_serves_the_brightest_backend_end_to_end(nats_server: EmbeddedNats, nc: NATS,
                                                                      tmp_path: Path) -> None:
    config = tmp_path / "bright.yaml"
    config.write_text(json.dumps({"models": [{"name": "bright", "backend": "brightest", "batch": 2,
                                              "max_wait_ms": 0, "max_age_ms": 60_000}]}))
    child = await spawn_ready_infer(nc, nats_server.url, config, "bright", stderr=subprocess.PIPE)
    try:
        async with collecting(nc, "bright") as got:
            for seq, square in enumerate(SQUARES, start=1):  # closed loop: nothing is superseded
                await publish_frame(nc, "court-1", seq, jpeg(painted(square, seq)), 320, 240)
                await got.wait_for(seq, timeout_s=30)
    finally:
        process.stop(child, "brightest consumer")
        if child.stderr:
            sys.stderr.write(child.stderr.read().decode(errors="replace")[-3000:])
            child.stderr.close()

    assert [a.seq for a in got.items] == list(range(1, len(SQUARES) + 1))
    for ann, (x, y, w, h) in zip(got.items, SQUARES, strict=True):
        assert ann.model == "bright" and ann.weights == "untrained" and ann.model_version == "brightest-1"
        assert (ann.frame_w, ann.frame_h) == (320, 240)
        (obj,) = ann.objects
        assert obj.label == "bright region" and obj.score > 0.5
        assert np.allclose(obj.box, (x, y, x + w, y + h), atol=TOLERANCE_PX), (obj.box, (x, y, x + w, y + h))
