"""Every backend as a consumer and as a direct loop doing the same work on the same frames.

For each backend: a worker process in that backend's own interpreter (``.venvs/<env>`` or
the main ``.venv``) loads the model once, then alternates, ``--runs`` times:

- **direct**: a plain loop over the JPEGs: decode (as the consumer does, same ``decode``
  scale) + ``runner.infer_frames`` (what the consumer calls), one frame at a time;
- **live consumer** (the ratio's figure): :class:`InferenceConsumer` hosting the same runner
  on a real nats-server (started here), fed by a camera faster than the model
  (:mod:`bench.paced_camera`: ``--offer`` times that run's direct fps); the consumer serves
  the newest frame whenever it is free, the frames it cannot take are dropped
  (newest-frame-wins), annotations per second counted after a warm-up;
- **closed loop** (reported beside it): one frame in flight, the next published when its
  annotation comes back, so each frame pays a full NATS/JSON round trip in series.

Top-down RTMPose (``mmpose-rtmpose`` native in ``.venvs/mmpose``; ``mmpose-onnx``: the same
model exported by ``python -m inference.backends.mmpose.export`` in ``.venvs/mmpose`` and
served by ONNX Runtime in the main ``.venv``, no mmcv) poses a detector's person boxes.
No detector runs: a zero-cost stand-in gives every frame the same :data:`PERSON_BOXES`
(four players, frame pixels). The consumer side gets them as the detector's annotation on
NATS (``annotations.<camera>.det``), published by the camera just before each frame and
joined by camera and seq by the runner itself; the direct loop hands the same annotation
to the runner's join (no NATS) before each frame.

Per backend: fps and per-frame latency (p50 / p95, ms: direct = decode + infer; consumer =
publish -> annotation received, for the frames that got one), the share of frames the live
consumer dropped, and objects per frame (a top-down row must show one person per stand-in
box in all three: one whose boxes did not join would pose nobody and look fast; the live
consumer serves other frames than the loops, so a data-dependent detector's count may
differ). ``ratio`` = the worst
backend's live consumer fps over its direct loop's; goal >= 0.95. Frames: 720p JPEGs of
the benchmark clip (quality 80, 4:2:0). No weights can be downloaded here: the models are
their untrained architectures (they cost the same time per frame); mediapipe and opencv
run their bundled pretrained models.

Run: ``.venv/bin/python -m bench.backends [--frames 40] [--runs 3] [--offer 1.5]
[--only mmpose-rtmpose,mmpose-onnx] [--threads 2]`` (a backend whose environment is not
built is reported as skipped, with the set-up command). Last line:
``RESULT consumer_fps=<worst live> anchor=<its direct> ratio=<quotient>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MMPOSE_ENV = "inference/backends/mmpose/setup_env.sh"
#: The detector the top-down rows join: a stand-in (see the module doc), never a running model.
DETECTOR = "det"
#: The stand-in detector's person boxes for every 1280x720 frame: (x1, y1, x2, y2, score), frame
#: pixels; two near players and two far ones (RTMPose's cost is per box, not per frame).
PERSON_BOXES: list[list[float]] = [[300, 380, 420, 680, 0.9], [860, 380, 980, 680, 0.9],
                                   [480, 150, 550, 300, 0.9], [730, 150, 800, 300, 0.9]]
_TOP_DOWN = {"task": "pose", "options": {"detector": DETECTOR}}

#: backend -> (interpreter relative to the repo, ModelConfig fields, how to build its environment).
BACKENDS: dict[str, tuple[str, dict[str, Any], str]] = {
    "ultralytics": (".venv/bin/python", {"weights": "yolo11n.yaml"}, "scripts/bootstrap"),
    "onnx": (".venv/bin/python", {"weights": "{onnx}"}, "scripts/bootstrap"),
    "yolonas": (".venvs/yolonas/bin/python", {"weights": "yolo_nas_s", "options": {"pretrained": False}},
                "inference/backends/yolonas/setup_env.sh"),
    "yolonas-pose": (".venvs/yolonas/bin/python", {"backend": "yolonas", "weights": "yolo_nas_pose_n",
                                                   "task": "pose", "options": {"pretrained": False}},
                     "inference/backends/yolonas/setup_env.sh"),
    "opencv": (".venvs/opencv-hog/bin/python", {"weights": "builtin"}, "inference/backends/opencv_hog/setup_env.sh"),
    "mediapipe": (".venvs/mediapipe/bin/python", {"weights": "builtin", "task": "pose"},
                  "inference/backends/mediapipe_pose/setup_env.sh"),
    # RTMO-t one-stage
    "mmpose": (".venvs/mmpose/bin/python", {"weights": "rtmo-t", "task": "pose"}, MMPOSE_ENV),
    # RTMPose-t top-down on the stand-in detector's boxes, natively and exported to ONNX
    "mmpose-rtmpose": (".venvs/mmpose/bin/python", {"backend": "mmpose", "weights": "rtmpose-t", **_TOP_DOWN},
                       MMPOSE_ENV),
    "mmpose-onnx": (".venv/bin/python", {"weights": "{rtmpose-onnx}", **_TOP_DOWN}, MMPOSE_ENV),
}


# ---- the worker: runs inside the backend's own environment ---------------------------------------------

def _pct(values: list[float] | tuple[float, ...], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def _detector_annotation(camera: str, seq: int, size: tuple[int, int], boxes: list[list[float]]) -> Any:
    """The stand-in detector's annotation of frame (camera, seq): ``boxes`` as people."""
    from courtside_contracts.annotations import Annotation, DetectedObject, Latency

    people = tuple(DetectedObject("person", 0, b[4], (b[0], b[1], b[2], b[3])) for b in boxes)
    return Annotation(camera=camera, seq=seq, ts=time.time_ns(), model=DETECTOR, model_version="fixed-boxes",
                      weights="untrained", frame_w=size[0], frame_h=size[1], latency=Latency(0, 0, 0), objects=people)


def _direct(runner: Any, jpegs: list[bytes], min_long_side: int | None, camera: str, size: tuple[int, int],
            boxes: list[list[float]] | None) -> dict[str, float]:
    """Decode + ``infer_frames`` per frame; a top-down runner's join is handed the boxes first.

    Both top-down mmpose runners keep their join (a DetectorBoxes) as ``boxes``; ``offer`` is
    what its NATS callback calls, so the model thread's work equals the consumer's."""
    from inference.backends.base import FrameRef, as_frame_result
    from inference.runtime.decode import decode_frame

    lat, objects = [], 0
    start = time.perf_counter()
    for seq, data in enumerate(jpegs):
        t = time.perf_counter()
        if boxes is not None:
            runner.boxes.offer(_detector_annotation(camera, seq, size, boxes))
        ref = FrameRef(camera, seq, time.time_ns(), size[0], size[1])
        out = runner.infer_frames([decode_frame(data, min_long_side).image], [ref])
        lat.append(time.perf_counter() - t)
        objects += len(as_frame_result(out[0]).objects)
    return {"fps": len(jpegs) / (time.perf_counter() - start), "p50_ms": 1e3 * _pct(lat, 50),
            "p95_ms": 1e3 * _pct(lat, 95), "objects": objects / len(jpegs)}


async def _consumer(url: str, config: Any, runner: Any, jpegs: list[bytes], camera: str, size: tuple[int, int],
                    boxes: list[list[float]] | None, offered_fps: float | None) -> dict[str, float]:
    """One feed (:func:`bench.paced_camera.feed`) of a fresh consumer hosting ``runner``."""
    import nats
    from courtside_contracts.subjects import annotations_subject

    from bench.paced_camera import feed
    from inference.runtime.consumer import InferenceConsumer

    nc = await nats.connect(url)
    consumer = InferenceConsumer(config, runner, nc, cameras=[camera], instance="bench")
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    while consumer.state.value != "ready":  # noqa: ASYNC110 - polls plain state
        await asyncio.sleep(0.01)

    async def detector(seq: int) -> None:
        assert boxes is not None
        await nc.publish(annotations_subject(camera, DETECTOR), _detector_annotation(camera, seq, size, boxes).to_json())

    try:
        got = await feed(nc, camera, config.name, jpegs, size, measure=len(jpegs), offered_fps=offered_fps, warmup=3,
                         before_publish=detector if boxes is not None else None, timeout_s=1800)
    finally:
        stop.set()
        await task
        await nc.close()
    return {"fps": got.fps, "p50_ms": 1e3 * _pct(got.latencies_s, 50), "p95_ms": 1e3 * _pct(got.latencies_s, 95),
            "skipped": got.skipped / max(1, got.published), "objects": got.objects, "offered_fps": offered_fps or 0.0}


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Load the model, measure direct, live and closed loop (alternating ``runs`` times); one JSON result."""
    from courtside.config import ModelConfig
    from inference.backends import create_runner

    config = ModelConfig(**spec["model"])
    runner = create_runner(config)
    jpegs = [p.read_bytes() for p in sorted(Path(spec["frames"]).glob("*.jpg"))]
    size, boxes = (spec["width"], spec["height"]), spec["boxes"]
    min_long_side = runner.input_size if config.decode == "auto" else None
    _direct(runner, jpegs[:3], min_long_side, "warmup", size, boxes)
    runs: dict[str, list[dict[str, float]]] = {"direct": [], "live": [], "closed": []}
    for run in range(spec["runs"]):
        runs["direct"].append(_direct(runner, jpegs, min_long_side, f"direct-{run}", size, boxes))
        offered = spec["offer"] * runs["direct"][-1]["fps"]
        runs["live"].append(asyncio.run(_consumer(spec["url"], config, runner, jpegs, f"live-{run}", size, boxes,
                                                  offered)))
        runs["closed"].append(asyncio.run(_consumer(spec["url"], config, runner, jpegs, f"closed-{run}", size, boxes,
                                                    None)))
    runner.close()
    median = {kind: sorted(rs, key=lambda r: r["fps"])[len(rs) // 2] for kind, rs in runs.items()}
    return {"model": runner.describe().summary(), **median}


# ---- the driver: main environment ----------------------------------------------------------------------

def _frames(folder: Path, count: int) -> tuple[int, int]:
    import av
    import simplejpeg

    from bench.common import court_clip

    with av.open(str(court_clip(seconds=2))) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == count:
                break
            img = frame.to_ndarray(format="bgr24")
            (folder / f"{i:04d}.jpg").write_bytes(
                bytes(simplejpeg.encode_jpeg(img, quality=80, colorspace="BGR", colorsubsampling="420")))
    return img.shape[1], img.shape[0]


def _onnx_model(folder: Path) -> str:
    """yolo11n (untrained architecture) exported to ONNX with the repo's own export path."""
    from inference.export import export_onnx

    return str(export_onnx("yolo11n.yaml", folder / "yolo11n.onnx", imgsz=640))


def _rtmpose_onnx(folder: Path) -> str:
    """RTMPose-t (untrained architecture) exported by the mmpose exporter, run in ``.venvs/mmpose``."""
    out = folder / "rtmpose-t.onnx"
    proc = subprocess.run([str(REPO / ".venvs/mmpose/bin/python"), "-m", "inference.backends.mmpose.export",
                           "--weights", "rtmpose-t", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the RTMPose export failed: {proc.stderr.strip()[-600:]}")
    return str(out)


def _measure(name: str, args: argparse.Namespace, folder: Path, url: str, size: tuple[int, int]) -> dict[str, Any]:
    """Run one backend's worker; its result, or a ``skipped`` / ``failed`` reason."""
    python, fields, setup = BACKENDS[name]
    needs = [python] + ([".venvs/mmpose/bin/python"] if fields["weights"] == "{rtmpose-onnx}" else [])
    missing = [p for p in needs if not (REPO / p).exists()]
    if missing:
        return {"skipped": f"{missing[0]} is not built (run {setup})"}
    model = {"name": "bench", "backend": fields.get("backend", name), "threads": args.threads, "batch": 1,
             "max_wait_ms": 0, "max_age_ms": 600_000, **{k: v for k, v in fields.items() if k != "backend"}}
    try:
        if model["weights"] == "{onnx}":
            model["weights"] = _onnx_model(folder)
        elif model["weights"] == "{rtmpose-onnx}":
            model["weights"] = _rtmpose_onnx(folder)
    except RuntimeError as exc:
        return {"failed": str(exc)}
    top_down = "detector" in model.get("options", {})
    spec = {"model": model, "frames": str(folder), "url": url, "runs": args.runs, "offer": args.offer,
            "width": size[0], "height": size[1], "boxes": PERSON_BOXES if top_down else None}
    proc = subprocess.run([str(REPO / python), "-m", "bench.backends", "--worker", json.dumps(spec)],
                          cwd=REPO, capture_output=True, text=True, timeout=3600, check=False)
    if proc.returncode != 0:
        return {"failed": proc.stderr.strip()[-600:]}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "top_down": top_down}


def _row(name: str, res: dict[str, Any]) -> str:
    """One backend's line: direct, live (the ratio's figure) and closed loop; objects per frame of each."""
    d, live, closed = res["direct"], res["live"], res["closed"]
    boxes = f", {len(PERSON_BOXES)} fixed boxes/frame" if res["top_down"] else ""
    return (f"{name:14s} direct {d['fps']:6.2f} fps (p50 {d['p50_ms']:.0f} ms, p95 {d['p95_ms']:.0f}; "
            f"{d['objects']:.1f} obj)  live {live['fps']:6.2f} fps (camera {live['offered_fps']:.1f} fps, "
            f"{100 * live['skipped']:.0f}% dropped; p50 {live['p50_ms']:.0f} ms, p95 {live['p95_ms']:.0f}; "
            f"{live['objects']:.1f} obj)  ratio {live['fps'] / d['fps']:.3f}  closed-loop {closed['fps']:6.2f} fps "
            f"(p50 {closed['p50_ms']:.0f} ms; {closed['objects']:.1f} obj) ratio {closed['fps'] / d['fps']:.3f}  "
            f"[{res['model']}{boxes}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--offer", type=float, default=1.5,
                        help="the live camera publishes at this multiple of the direct loop's fps")
    parser.add_argument("--only", default="", help="comma-separated backends (default: all)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    from courtside.nats_server import EmbeddedNats

    chosen = [b for b in (args.only.split(",") if args.only else BACKENDS) if b]
    unknown = [b for b in chosen if b not in BACKENDS]
    if unknown:
        sys.exit(f"unknown backend {unknown[0]!r}; choose from {', '.join(BACKENDS)}")
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedNats() as server:
        folder = Path(tmp)
        size = _frames(folder, args.frames)
        for name in chosen:
            res = _measure(name, args, folder, server.url, size)
            if "skipped" in res or "failed" in res:
                kind = "skipped" if "skipped" in res else "failed"
                print(f"{name}: {kind.upper() if kind == 'failed' else kind}: {res[kind]}", flush=True)
                continue
            results[name] = res
            print(_row(name, res), flush=True)
    if not results:
        sys.exit("no backend measured")
    worst = min(results, key=lambda n: results[n]["live"]["fps"] / results[n]["direct"]["fps"])
    c, d = results[worst]["live"]["fps"], results[worst]["direct"]["fps"]
    if any(r["top_down"] for r in results.values()):
        print(f"top-down rows: a zero-cost detector stand-in (no detector runs), {len(PERSON_BOXES)} fixed person "
              f"boxes per frame, published on annotations.<camera>.{DETECTOR} before each frame")
    print(f"frames {size[0]}x{size[1]}, {args.frames} frames x {args.runs} runs, threads {args.threads}, live camera at "
          f"{args.offer} x direct fps; worst (live consumer / direct): {worst}")
    print(f"RESULT consumer_fps={c:.4g} anchor={d:.4g} ratio={c / d:.4g}")


if __name__ == "__main__":
    main()
