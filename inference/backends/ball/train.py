"""``courtside train ball``: train a ball model from the simulator (and TrackNet-CSV footage).

Deterministic for a seed: the simulator clips come from seeds ``seed*1000 ..``
(never the held-out ones of :mod:`evaluate`), batches from a seeded generator, torch
seeded. Writes into ``--out``: ``checkpoint.pt`` every ``--checkpoint-every`` steps
(model, optimiser, step, generator states: ``--resume`` continues from it),
``ball-<size>.pt`` (the weights file the runner loads), ``metrics.json`` (the
held-out evaluation) and ``train.json`` (the command, seed, data version, losses,
time). Progress goes to stderr as a bar.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from courtside.sim.clip import SIM_VERSION
from inference.backends.ball import weights
from inference.backends.ball.data import Clip, Sample, Windows, simulated_clip, tracknet_clips
from inference.backends.ball.evaluate import HELD_OUT_SEEDS, evaluate, evaluate_opencv, held_out_clips
from inference.backends.ball.model import SIZES, BallNet, BallNetConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    out: Path
    size: str = "small"
    steps: int = 2000
    batch: int = 16
    lr: float = 3e-3
    seed: int = 0
    clips: int = 64
    clip_frames: int = 90
    crop: tuple[int, int] = (96, 160)
    eval_seeds: tuple[int, ...] = tuple(HELD_OUT_SEEDS)
    eval_frames: int = 150
    tracknet: tuple[Path, ...] = ()
    checkpoint_every: int = 200
    resume: bool = False
    stop_after: int | None = None
    init: Path | None = None
    threads: int | None = None
    workers: int = 2
    hidden_positive: bool = False
    occluded_share: float = 0.0
    progress: bool = True
    command: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.occluded_share < 1.0:
            raise ValueError(f"occluded_share must be in [0, 1), got {self.occluded_share}")

    def train_seeds(self) -> list[int]:
        seeds = [self.seed * 1000 + i for i in range(self.clips)]
        clash = set(seeds) & set(self.eval_seeds)
        if clash:
            raise ValueError(f"training seeds {sorted(clash)} are held-out evaluation seeds")
        return seeds


def focal_loss(logits: torch.Tensor, heat: torch.Tensor, ignore: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss on the heat plane, over the number of balls."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = heat.eq(1.0).float()
    pos_loss = torch.log(p) * (1 - p) ** 2 * pos
    neg_loss = torch.log(1 - p) * p ** 2 * (1 - heat) ** 4 * (1 - pos) * (1 - ignore)
    return -(pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp(min=1.0)


def batch_loss(net: BallNet, samples: list[Sample]) -> torch.Tensor:
    x = torch.from_numpy(np.stack([s.x for s in samples]))
    heat = torch.from_numpy(np.stack([s.heat for s in samples]))
    ignore = torch.from_numpy(np.stack([s.ignore for s in samples]))
    out = net(x)
    loss = focal_loss(out[:, 0], heat, ignore)
    rows = [(b, s.cell[0], s.cell[1]) for b, s in enumerate(samples) if s.cell[0] >= 0]
    if rows:
        b, i, j = (torch.tensor(v) for v in zip(*rows, strict=True))
        pred = torch.sigmoid(out[b, 1:3, i, j])
        tgt = torch.from_numpy(np.stack([samples[int(k)].offset for k in b]))
        loss = loss + torch.nn.functional.l1_loss(pred, tgt)
    return loss


def draw_batch(windows: Windows, rng: np.random.Generator, size: int, occluded_share: float) -> list[int]:
    """Window numbers of one batch: uniform over every window, except that with ``occluded_share`` > 0
    each draw is, with that probability, a window whose ball is partly hidden or hidden (the frames
    the tracker misses most; ~10 % of simulator frames). ``occluded_share`` 0 draws exactly as
    before the option existed (same generator calls), so older runs resume and repeat."""
    if occluded_share <= 0 or not windows.occluded:
        return [int(n) for n in rng.integers(0, len(windows), size)]
    out = []
    for _ in range(size):
        if rng.random() < occluded_share:
            out.append(windows.occluded[int(rng.integers(0, len(windows.occluded)))])
        else:
            out.append(int(rng.integers(0, len(windows))))
    return out


def _clip_job(args: tuple[int, int, dict[str, Any]]) -> Clip:
    seed, frames, cfg = args
    return simulated_clip(seed, frames, BallNetConfig.from_dict(cfg))


def make_clips(seeds: Sequence[int], frames: int, cfg: BallNetConfig, workers: int) -> list[Clip]:
    jobs = [(s, frames, cfg.to_dict()) for s in seeds]
    if workers <= 1:
        return [_clip_job(j) for j in jobs]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return list(pool.map(_clip_job, jobs, chunksize=2))


class Progress:
    """A one-line bar on stderr: step, loss, rate, time left."""

    def __init__(self, total: int, start: int, enabled: bool) -> None:
        self.total, self.start, self.enabled = total, start, enabled
        self.t0 = time.monotonic()

    def show(self, step: int, loss: float) -> None:
        if not self.enabled:
            return
        done = step - self.start
        rate = done / max(1e-6, time.monotonic() - self.t0)
        left = (self.total - step) / rate if rate > 0 else 0.0
        filled = int(30 * step / self.total)
        sys.stderr.write(f"\rtrain ball [{'#' * filled}{'.' * (30 - filled)}] {step}/{self.total} "
                         f"loss {loss:.4f} {rate:.2f} steps/s {left / 60:.1f} min left ")
        sys.stderr.flush()
        if step == self.total:
            sys.stderr.write("\n")


def held_out_metrics(net: BallNet, name: str, seeds: Sequence[int] = HELD_OUT_SEEDS, frames: int = 150
                     ) -> dict[str, Any]:
    """``metrics.json``'s content: ``net`` (the weights file ``name``) on the held-out simulator
    seeds through the served path (torch forward, default tracker), its best peak alone, and the
    OpenCV candidates on the same frames. Also how the shipped metrics are refreshed when only the
    tracker changed (the weights stay)."""
    cfg = net.config
    held = held_out_clips(cfg, seeds, frames)
    reports = evaluate(weights.torch_forward(net), cfg, held)
    return {"weights": name, "held_out_seeds": list(seeds), "frames_per_clip": frames,
            "tracked": reports["tracked"].summary(), "model": reports["model"].summary(),
            "opencv_candidates": evaluate_opencv(cfg, held).summary()}


def train(tc: TrainConfig) -> dict[str, Any]:
    """Train, checkpoint, write the weights and the metrics; returns the metrics."""
    if tc.size not in SIZES:
        raise ValueError(f"unknown model size {tc.size!r} (known: {', '.join(SIZES)})")
    cfg = SIZES[tc.size]
    if tc.threads:
        torch.set_num_threads(tc.threads)
    torch.manual_seed(tc.seed)
    started = time.monotonic()
    clips = make_clips(tc.train_seeds(), tc.clip_frames, cfg, tc.workers)
    for root in tc.tracknet:
        clips += tracknet_clips(root, cfg)
    windows = Windows(clips, cfg, train=True, seed=tc.seed, crop=tc.crop, hidden_positive=tc.hidden_positive)
    rng = np.random.default_rng([tc.seed, 3])
    net = BallNet(cfg)
    init_meta: dict[str, Any] = {}
    if tc.init is not None:  # fine-tune: start from trained weights of the same architecture
        start, init_meta = weights.load(tc.init)
        if start.config != cfg:
            raise ValueError(f"--init {tc.init} is a {start.config.name} model, not {cfg.name}")
        net.load_state_dict(start.state_dict())
    opt = torch.optim.AdamW(net.parameters(), lr=tc.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=tc.lr, total_steps=tc.steps, pct_start=0.1)
    step, losses, resumed_from = 0, [], None
    ckpt = tc.out / "checkpoint.pt"
    if tc.resume and ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, losses = int(state["step"]), list(state["losses"])
        resumed_from = step
        rng.bit_generator.state = state["rng"]
        windows.rng.bit_generator.state = state["windows_rng"]
        torch.set_rng_state(state["torch_rng"])
        log.info("resumed from %s at step %d", ckpt, step)
    tc.out.mkdir(parents=True, exist_ok=True)
    bar = Progress(tc.steps, step, tc.progress)
    net.train()
    running = 0.0
    while step < tc.steps:
        samples = [windows.sample(n) for n in draw_batch(windows, rng, tc.batch, tc.occluded_share)]
        loss = batch_loss(net, samples)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        sched.step()
        step += 1
        value = float(loss.detach())
        running = 0.95 * running + 0.05 * value if step > 1 else value
        if step % 10 == 0 or step == tc.steps:
            losses.append(round(running, 5))
            bar.show(step, running)
        if step % tc.checkpoint_every == 0 or step in (tc.steps, tc.stop_after):
            torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                        "step": step, "losses": losses, "rng": rng.bit_generator.state,
                        "windows_rng": windows.rng.bit_generator.state, "torch_rng": torch.get_rng_state()}, ckpt)
        if step == tc.stop_after:  # an interruption on purpose: the checkpoint is there to resume from
            return {"stopped_at": step}
    net.eval()
    train_s = time.monotonic() - started
    data = {"simulator": f"courtside.sim v{SIM_VERSION}", "train_seeds": f"{tc.seed * 1000}..{tc.seed * 1000 + tc.clips - 1}",
            "clip_frames": tc.clip_frames, "tracknet": [str(p) for p in tc.tracknet],
            "hidden_positive": tc.hidden_positive, "occluded_share": tc.occluded_share,
            "init": None if tc.init is None else {"file": tc.init.name, "data": init_meta.get("data"),
                                                  "command": init_meta.get("command")}}
    meta = {"trained_on": "synthetic court (courtside.sim)" + (" + TrackNet CSV footage" if tc.tracknet else ""),
            "command": tc.command, "seed": tc.seed, "data": data, "steps": tc.steps, "size": tc.size}
    path = tc.out / f"ball-{tc.size}.pt"
    weights.save(path, net, meta)
    metrics = held_out_metrics(net, path.name, tc.eval_seeds, tc.eval_frames)
    (tc.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    record = {**{k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(tc).items() if k != "tracknet"},
              "tracknet": [str(p) for p in tc.tracknet], "data": data, "resumed_from": resumed_from,
              "train_seconds": round(train_s, 1),
              "total_seconds": round(time.monotonic() - started, 1), "losses": losses,
              "torch": torch.__version__}
    (tc.out / "train.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    return metrics


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="courtside train ball", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for checkpoints, weights and metrics")
    p.add_argument("--size", choices=sorted(SIZES), default="small")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clips", type=int, default=64, help="simulated clips to train on")
    p.add_argument("--clip-frames", type=int, default=90)
    p.add_argument("--eval-frames", type=int, default=150)
    p.add_argument("--eval-seeds", default=f"{HELD_OUT_SEEDS.start}-{HELD_OUT_SEEDS.stop - 1}")
    p.add_argument("--tracknet", type=Path, action="append", default=[],
                   help="a folder of TrackNet-layout CSV + video pairs to train on as well (repeatable)")
    p.add_argument("--crop", type=int, nargs=2, default=(96, 160), metavar=("H", "W"),
                   help="training crop, pixels of the model input (multiples of 16)")
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt")
    p.add_argument("--init", type=Path, help="start from these weights (fine-tuning) instead of at random")
    p.add_argument("--stop-after", type=int, help="stop (checkpointed) at this step; --resume continues")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (1: at these layer sizes more threads mostly spin, worse on a busy machine)")
    p.add_argument("--workers", type=int, default=2, help="processes rendering the simulator clips")
    p.add_argument("--hidden-positive", action="store_true",
                   help="train a ball hidden behind a player (class 3) as a target, not an ignored region")
    p.add_argument("--occluded-share", type=float, default=0.0,
                   help="share 0..1 of each batch drawn from frames whose ball is partly hidden or hidden")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from inference.backends.ball.evaluate import parse_seeds

    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    tc = TrainConfig(out=args.out, size=args.size, steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed,
                     clips=args.clips, clip_frames=args.clip_frames, crop=(args.crop[0], args.crop[1]), eval_frames=args.eval_frames,
                     eval_seeds=tuple(parse_seeds(args.eval_seeds)), tracknet=tuple(args.tracknet),
                     checkpoint_every=args.checkpoint_every, resume=args.resume, stop_after=args.stop_after, init=args.init,
                     threads=args.threads,
                     workers=args.workers, hidden_positive=args.hidden_positive,
                     occluded_share=args.occluded_share, progress=not args.no_progress,
                     command="courtside train ball " + " ".join(argv))
    try:
        metrics = train(tc)
    except (ValueError, OSError) as exc:
        print(f"courtside train ball: {exc}", file=sys.stderr)
        return 2
    if "stopped_at" in metrics:
        print(f"stopped at step {metrics['stopped_at']}: continue with --resume", file=sys.stderr)
        return 0
    print(json.dumps({"weights": str(tc.out / f"ball-{tc.size}.pt"), "tracked": metrics["tracked"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
