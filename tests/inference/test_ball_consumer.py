"""The ball consumer (shipped weights, ONNX Runtime) against a real nats-server equals direct calls.

Frames of the demo court are published one at a time; each annotation's ball must equal
what a second runner, loaded the same way and given the same frames directly, returns.
Both runners get the same injected arrival clock (a 30 fps counter), since the runner
stamps frames on arrival and the tracker's gate depends on elapsed time.
"""

from __future__ import annotations

import pytest
from infer_support import collecting, jpeg, publish_frame, running
from nats.aio.client import Client as NATS

from courtside.config import ModelConfig
from inference.backends import create_runner
from inference.backends.ball.runner import BallRunner
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.decode import decode_frame
from inference.runtime.rescale import rescale_result
from inference.runtime.worker import run_in_fresh_thread
from ingest import demo_scene

FRAMES = 24


def _config() -> ModelConfig:
    return ModelConfig(name="ball", backend="ball", weights="shipped:small", task="track", batch=1, max_wait_ms=0,
                       max_age_ms=60_000, threads=1, options={"runtime": "onnx"})


def _counter() -> object:
    ticks = iter(range(10_000))
    return lambda: next(ticks) / 30.0


@pytest.mark.timeout(300)
async def test_consumer_ball_equals_direct_calls(nc: NATS) -> None:
    frames = [jpeg(f.image) for f in demo_scene.frames(FRAMES, 640, 360)]
    runner = await run_in_fresh_thread("load", create_runner, _config())
    direct = await run_in_fresh_thread("load", create_runner, _config())
    assert isinstance(runner, BallRunner) and isinstance(direct, BallRunner)
    runner.clock, direct.clock = _counter(), _counter()  # type: ignore[assignment]
    assert runner.weights == "trained" and "synthetic court" in (runner.trained_on or "")
    async with collecting(nc, "ball") as got, running(InferenceConsumer(_config(), runner, nc, instance="b-1")):
        for seq, data in enumerate(frames, start=1):
            await publish_frame(nc, "court-1", seq, data, 640, 360)
            await got.wait_for(seq, timeout_s=60)
    annotations = got.items
    assert [a.seq for a in annotations] == list(range(1, FRAMES + 1))
    visible = 0
    for ann, data in zip(annotations, frames, strict=True):
        # Decoded as the consumer decodes for a 512-px model (in full here: 7/8 is no cheaper), mapped back.
        image = decode_frame(data, direct.input_size).image
        out = direct.infer([image], cameras=["court-1"])[0]
        expected = rescale_result(out, image.shape[1], image.shape[0], 640, 360).ball
        assert ann.weights == "trained" and ann.model_version == direct.version
        if expected is None:
            assert ann.ball is None
            continue
        assert ann.ball is not None
        assert (ann.ball.x, ann.ball.y, ann.ball.visible) == (pytest.approx(expected.x, abs=0.01),
                                                              pytest.approx(expected.y, abs=0.01), expected.visible)
        assert ann.ball.score == pytest.approx(expected.score, abs=1e-3)
        visible += expected.visible
    assert visible >= FRAMES // 2, "the trained model must see the demo ball for the comparison to mean something"
