"""``courtside eval ball``: the TrackNet protocol on held-out simulator seeds or TrackNet-CSV footage.

Clips are played through :class:`~inference.backends.ball.pipeline.BallPipeline`
frame by frame in order, as the consumer plays them, and scored twice: ``tracked``
(what is served) and ``model`` (the network's best peak alone). The
baseline ``opencv`` scores OpenCV's background-subtraction ball candidates
(:mod:`inference.backends.opencv_hog.ball_candidates`) on the same prepared frames.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import simplejpeg

from inference.backends.ball.data import Clip, simulated_clips, tracknet_clips
from inference.backends.ball.metrics import Report
from inference.backends.ball.model import BallNetConfig
from inference.backends.ball.pipeline import BallPipeline, Forward
from inference.backends.ball.tracker import TrackerParams

log = logging.getLogger(__name__)
#: Simulator seeds never used for training (training uses 0 .. 99_999).
HELD_OUT_SEEDS = range(900_000, 900_008)
TOLERANCE_PX = 4.0


def evaluate(forward: Forward, cfg: BallNetConfig, clips: Sequence[Clip], *, tolerance: float = TOLERANCE_PX,
             params: TrackerParams | None = None) -> dict[str, Report]:
    """Score ``forward`` on every frame of ``clips`` (each clip a fresh camera), in one pass:
    ``tracked`` (the served output) and ``model`` (the network's best peak over the score threshold)."""
    reports = {"tracked": Report(tolerance), "model": Report(tolerance)}
    threshold = (params or TrackerParams()).score
    for n, clip in enumerate(clips):
        pipe = BallPipeline(forward, cfg, params)
        camera = f"eval-{n}"
        for i in range(len(clip)):
            image = simplejpeg.decode_jpeg(clip.jpegs[i], colorspace="BGR")
            est = pipe.step([(camera, image, float(clip.ts[i]))])[0]
            raw = pipe.state(camera).raw
            best = raw[0] if raw and raw[0].score >= threshold else None
            label = (float(clip.xy[i, 0]), float(clip.xy[i, 1]))
            vis = int(clip.visibility[i])
            reports["model"].add(vis, label, (best.x, best.y) if best else None)
            reports["tracked"].add(vis, label, (est.x, est.y) if est.visible and math.isfinite(est.x) else None)
    return reports


def evaluate_opencv(cfg: BallNetConfig, clips: Sequence[Clip], tolerance: float = TOLERANCE_PX) -> Report:
    """The anchor: the best MOG2 ball candidate per frame (its box centre), on the same prepared frames."""
    from inference.backends.opencv_hog.ball_candidates import BallCandidateFinder

    report = Report(tolerance)
    for n, clip in enumerate(clips):
        finder = BallCandidateFinder(max_candidates=1)
        for i in range(len(clip)):
            rgb = clip.frame(i, cfg)
            found = finder.find(f"eval-{n}", rgb[..., ::-1].copy())
            pred = None
            if found:
                x1, y1, x2, y2 = found[0].box
                pred = ((x1 + x2) / 2 - 0.5, (y1 + y2) / 2 - 0.5)
            report.add(int(clip.visibility[i]), (float(clip.xy[i, 0]), float(clip.xy[i, 1])), pred)
    return report


def held_out_clips(cfg: BallNetConfig, seeds: Sequence[int] = HELD_OUT_SEEDS, frames: int = 150) -> list[Clip]:
    return simulated_clips(seeds, frames, cfg)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="courtside eval ball", description=__doc__.split("\n")[0])
    p.add_argument("--weights", type=Path, required=True, help="a ball-model file written by courtside train ball")
    p.add_argument("--tracknet", type=Path, help="a folder of TrackNet-layout CSV + video pairs (default: simulator)")
    p.add_argument("--seeds", default=f"{HELD_OUT_SEEDS.start}-{HELD_OUT_SEEDS.stop - 1}",
                   help="simulator seeds, 'a-b' inclusive (default: the held-out set)")
    p.add_argument("--frames", type=int, default=150, help="frames per simulated clip")
    p.add_argument("--tolerance", type=float, default=TOLERANCE_PX, help="pixels at the model's input scale")
    p.add_argument("--baseline", action="store_true", help="also score the OpenCV ball candidates")
    p.add_argument("--runtime", choices=("torch", "onnx"), default="torch")
    p.add_argument("--json", type=Path, help="write the report here as well")
    return p


def parse_seeds(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b) + 1)) if b else [int(a)]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from inference.backends.ball import weights

    try:
        net, meta = weights.load(args.weights)
    except weights.WeightsError as exc:
        print(f"courtside eval ball: {exc}", file=sys.stderr)
        return 2
    cfg = net.config
    if args.runtime == "onnx":
        from inference.backends.ball.export import cached_onnx, onnx_forward

        forward = onnx_forward(cached_onnx(args.weights))
    else:
        forward = weights.torch_forward(net)
    clips = tracknet_clips(args.tracknet, cfg) if args.tracknet else simulated_clips(
        parse_seeds(args.seeds), args.frames, cfg)
    reports = evaluate(forward, cfg, clips, tolerance=args.tolerance)
    out: dict[str, Any] = {"weights": str(args.weights), "trained_on": meta.get("trained_on"),
                           "data": [c.name for c in clips], "ball": reports["tracked"].summary(),
                           "model_only": reports["model"].summary()}
    if args.baseline:
        out["opencv_candidates"] = evaluate_opencv(cfg, clips, args.tolerance).summary()
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


__all__ = ["evaluate", "evaluate_opencv", "held_out_clips", "main"]
