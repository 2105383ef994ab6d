"""Annotation age per model when the embedded default runs whole on this machine.

Runs what ``courtside up`` runs for ``courtside/app/embedded.yaml`` (ingest, one consumer
per model, fanout; the supervisor's own commands) against a fresh nats-server, on free
ports, and observes ``annotations.*.*``. For each model it reports the annotation age
(capture ``ts`` -> the observer's receipt, wall clock, one machine) against that model's
own inference time in the same run (``latency.infer`` of the same annotations): every
process competes for the same cores, so the model time is itself the contended one.
Goal per model: age p50 <= 2.0x and p99 <= 3.0x its inference p50.

Prints per model, then
``RESULT contended_age_p50_ms=<worst model's age p50> anchor=<its inference p50> ratio=<their quotient>``
(worst = the highest p50 ratio).

``--config`` runs another configuration the same way (a variant of the default, to measure one
setting against it in alternating runs).

Run: ``.venv/bin/python -m bench.contended [--seconds 45] [--warmup-timeout 100] [--config FILE]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import nats
import yaml
from nats.aio.msg import Msg

from bench.common import CpuSample, percentile, result_line
from courtside import process
from courtside.app.cli import EMBEDDED_CONFIG
from courtside.app.supervisor import INGEST_NICE, service_commands
from courtside.config import load_config
from courtside.nats_server import EmbeddedNats

#: Annotations each model must have published before measuring starts (models loaded, warm).
WARM_ANNOTATIONS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bench_config(tmp: Path, source: Path) -> Path:
    """``source`` (the embedded default unless told), unchanged but for fanout's, ingest's and analytics' ports (free ones)."""
    data = yaml.safe_load(source.read_text())
    data.setdefault("fanout", {})["port"] = _free_port()
    data.setdefault("ingest", {})["port"] = _free_port()
    if data.get("analytics") is not None:
        data["analytics"]["port"] = port = _free_port()
        data["fanout"]["analytics_url"] = f"http://127.0.0.1:{port}"
    path = tmp / "contended.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


class Observer:
    """Per model: (age ms, inference ms) of every annotation, once measuring has started."""

    def __init__(self, models: list[str]) -> None:
        self.models = models
        self.seen: dict[str, int] = defaultdict(int)
        self.samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
        #: Per model: (capture -> consumer callback, callback -> model start (slot, decode), model,
        #: model end -> observer) in ms, from the annotation's own latency fields.
        self.stages: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
        self.measuring = False

    async def on_annotation(self, msg: Msg) -> None:
        now = time.time_ns()
        data = json.loads(msg.data)
        model = data["model"]
        self.seen[model] += 1
        if self.measuring:
            lat = data["latency_ms"]
            age = (now - data["ts"]) / 1e6
            self.samples[model].append((age, float(lat["infer"])))
            upstream = lat["total"] - lat["queue"] - lat["infer"]
            self.stages[model].append((upstream, lat["queue"], lat["infer"], age - lat["total"]))

    def warm(self) -> bool:
        return all(self.seen[m] >= WARM_ANNOTATIONS for m in self.models)


async def _run(seconds: float, warmup_timeout_s: float, ingest_nice: int = INGEST_NICE,
               source: Path = EMBEDDED_CONFIG) -> Observer:
    with tempfile.TemporaryDirectory() as tmp_dir, EmbeddedNats() as server:
        path = _bench_config(Path(tmp_dir), source)
        config = load_config(path)
        models = [m.name for m in config.models]
        env = {**os.environ, "COURTSIDE_NATS__URL": server.url, "COURTSIDE_LOG_LEVEL": "warning",
               "PYTHONUNBUFFERED": "1"}
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        nc = await nats.connect(server.url)
        observer = Observer(models)
        await nc.subscribe("annotations.*.*", cb=observer.on_annotation)
        try:
            for name, argv in service_commands(config, path):
                if name == "ingest" and ingest_nice:
                    argv = ["nice", "-n", str(ingest_nice), *argv]
                children.append((name, process.spawn(argv, env=env, stdout=subprocess.DEVNULL)))
            cpu = CpuSample()
            deadline = time.monotonic() + warmup_timeout_s
            while not observer.warm():
                for name, child in children:
                    if child.poll() is not None:
                        raise SystemExit(f"{name} exited with code {child.returncode} during warm-up")
                if time.monotonic() > deadline:
                    raise SystemExit(f"not every model published {WARM_ANNOTATIONS} annotations within "
                                     f"{warmup_timeout_s:.0f} s: {dict(observer.seen)}")
                await asyncio.sleep(0.2)
            print(f"  warm after {warmup_timeout_s - (deadline - time.monotonic()):.0f} s; measuring {seconds:.0f} s",
                  flush=True)
            observer.measuring = True
            cpu.start()
            await asyncio.sleep(seconds)
            cpu.stop()
            observer.measuring = False
            print(cpu.report(), flush=True)
        finally:
            await nc.close()
            process.stop_all(list(reversed(children)), timeout_s=5)
        return observer


def _report_stages(stages: dict[str, list[tuple[float, float, float, float]]]) -> None:
    print("\nwhere the age goes, p50 per stage (ms): capture -> consumer callback (ingest's JPEG encode and "
          "publish, NATS, the socket) | slot + JPEG decode | model | publish -> observer")
    for model in sorted(stages):
        columns = list(zip(*stages[model], strict=True))
        print(f"  {model:<10}" + "".join(f" {percentile(list(c), 50):9.2f}" for c in columns))


def _report(samples: dict[str, list[tuple[float, float]]], seconds: float) -> None:
    print("\nmodel        annotations   fps   age p50   age p99  infer p50   p50 ratio  p99 ratio  (ms)")
    worst: tuple[float, str, float, float] | None = None
    for model in sorted(samples):
        ages = [a for a, _ in samples[model]]
        infers = [i for _, i in samples[model]]
        age50, age99, infer50 = percentile(ages, 50), percentile(ages, 99), percentile(infers, 50)
        r50, r99 = age50 / infer50, age99 / infer50
        print(f"{model:<12} {len(ages):>11} {len(ages) / seconds:5.1f} {age50:9.1f} {age99:9.1f} {infer50:10.1f} "
              f"{r50:11.2f} {r99:10.2f}")
        if worst is None or r50 > worst[0]:
            worst = (r50, model, age50, infer50)
    print("goal per model: p50 ratio <= 2.0, p99 ratio <= 3.0 (loaded, shared machine: see docs/benchmarks.md)")
    if worst is None:
        raise SystemExit("no annotations measured")
    ratio, model, age50, infer50 = worst
    print(f"worst: {model}")
    print(result_line("contended_age_p50_ms", age50, infer50, ratio))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=45.0, help="measured seconds after warm-up")
    parser.add_argument("--warmup-timeout", type=float, default=100.0,
                        help="seconds to wait for every model's first annotations")
    parser.add_argument("--ingest-nice", type=int, default=INGEST_NICE,
                        help="ingest's nice increment (default: as courtside up runs it, supervisor.INGEST_NICE)")
    parser.add_argument("--config", type=Path, default=EMBEDDED_CONFIG,
                        help="the configuration to run (default: the embedded default of courtside up)")
    args = parser.parse_args()
    print(f"configuration: {args.config}", flush=True)
    observer = asyncio.run(_run(args.seconds, args.warmup_timeout, args.ingest_nice, args.config))
    _report_stages(observer.stages)
    _report(observer.samples, args.seconds)


if __name__ == "__main__":
    main()
