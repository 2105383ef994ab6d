"""The ``yolonas`` backend: YOLO-NAS detect and pose (super-gradients 3.7.1) in ``.venvs/yolonas``.

Three levels: the options and weights policy with plain data (this environment); the
runner in its own environment against the library's own ``predict()`` on the same
decoded frames; and the service (``.venvs/yolonas/bin/python -m courtside infer``) fed
the same JPEGs through a real nats-server. No weights can be downloaded here, so the
checkpoints are built from the architectures (seeded random weights), saved as
super-gradients checkpoints and loaded back through ``options.checkpoint_path``: they
are reported ``untrained``. The environment is built by
``inference/backends/yolonas/setup_env.sh`` (``scripts/bootstrap test``); if it cannot be
built the tests FAIL, they never skip.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from courtside_contracts.annotations import Annotation
from infer_support import built_env, collecting, jpeg, photos, publish_frame, run_probe, serving
from nats.aio.client import Client as NATS

from courtside.config import ModelConfig
from courtside.nats_server import EmbeddedNats
from inference.backends.options import parse_options
from inference.backends.yolonas.options import YoloNasOptions
from inference.backends.yolonas.weights import MARKER, checkpoint_file, checkpoint_state
from inference.errors import ModelLoadError

REPO = Path(__file__).resolve().parents[2]
ENV_PY = REPO / ".venvs" / "yolonas" / "bin" / "python"
SG = "super-gradients-3.7.1"
BOX_PX, KP_PX, SCORE = 1.0, 1.0, 1e-3


# --- (a) options and weights policy, plain data --------------------------------------------------------

def test_options_refuse_unknown_keys_and_wrong_types_naming_the_backend() -> None:
    bad = ModelConfig(name="det", backend="yolonas", weights="yolo_nas_s", options={"nope": 1, "nms_top_k": "9"})
    with pytest.raises(ModelLoadError) as err:
        parse_options(YoloNasOptions, bad)
    assert "model det: bad yolonas options" in str(err.value)
    assert "options.nope: unknown option" in str(err.value) and "options.nms_top_k" in str(err.value)
    ok = parse_options(YoloNasOptions, ModelConfig(name="det", backend="yolonas", weights="yolo_nas_s",
                                                   options={"checkpoint_path": "/w/x.pth", "pretrained": False}))
    assert ok.checkpoint_path == "/w/x.pth" and ok.pretrained is False and ok.nms_top_k is None


def test_checkpoint_state_comes_from_the_checkpoint() -> None:
    assert checkpoint_state({"net": {}}) == "untrained"  # a bare state dict: nothing says it was trained
    assert checkpoint_state({"net": {}, "epoch": 299, "acc": 0.47}) == "trained"  # super-gradients' Trainer
    assert checkpoint_state({"net": {}, "epoch": 1, "acc": 0.1, MARKER: "untrained"}) == "untrained"
    assert checkpoint_state({"net": {}, MARKER: "trained"}) == "trained"


def test_a_missing_checkpoint_names_the_backend_and_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=f"model det: yolonas checkpoint_path {tmp_path}/nope.pth does not exist"):
        checkpoint_file(str(tmp_path / "nope.pth"), "det")
    (tmp_path / "yes.pth").write_bytes(b"x")
    assert checkpoint_file(str(tmp_path / "yes.pth"), "det") == tmp_path / "yes.pth"


def test_the_example_configuration_loads_and_validates() -> None:
    from courtside.config import load_config
    from inference.backends.registry import validate_config

    path = REPO / "deploy" / "examples" / "yolonas.yaml"
    config = load_config(path, environ={})
    validate_config(config, str(path))
    models = {m.name: m for m in config.models}
    assert {m.backend for m in models.values()} == {"yolonas"}
    assert models["yn-people"].weights == "yolo_nas_s" and models["yn-pose"].task == "pose"
    bad = ModelConfig(**{**models["yn-pose"].model_dump(), "options": {"max_predictions": 0}})
    with pytest.raises(ModelLoadError, match=r"options\.max_predictions"):
        parse_options(YoloNasOptions, bad)


# --- (b) the runner in its environment, against the library's predict() ---------------------------------

PROBE = r"""
import json, logging, os, sys, time
from pathlib import Path
root = logging.getLogger()
mine = logging.StreamHandler(sys.stderr)
root.addHandler(mine); root.setLevel(logging.INFO)
stdout_before, stderr_before = sys.stdout, sys.stderr

from inference.backends.yolonas import runner as yn   # imports super-gradients, contained

out = {"stdout_intact": sys.stdout is stdout_before, "stderr_intact": sys.stderr is stderr_before,
       "root_handlers": [type(h).__name__ for h in root.handlers], "root_is_mine": root.handlers == [mine],
       "root_level": root.level, "sg_logs": os.path.exists(os.path.expanduser("~/sg_logs")),
       "sg_log_dir": os.environ.get("SUPER_GRADIENTS_LOG_DIR")}
import numpy as np, torch
from courtside.config import ModelConfig
from inference.backends import create_runner
from inference.runtime.decode import decode_frame
from tests.inference.probe_kit import refusals
from super_gradients.training.processing.processing import (
    default_yolo_nas_coco_processing_params, default_yolo_nas_pose_coco_processing_params)

work = Path(sys.argv[1]); conf = {}
frames = [decode_frame((work / f"{i}.jpg").read_bytes(), None).image for i in range(int(sys.argv[3]))]

def objects(objs):
    return [o.to_dict() for o in objs]

def redraw(model, seed):  # seeded random class logits with a real spread (the library's init: all ~0.0101)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, mod in model.named_modules():
            if name.endswith("cls_pred"):
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=gen) * 30.0)
                mod.bias.fill_(-2.0)

def pick_conf(model, images, processing, rank=10):  # between the rank-th and next score, the lowest over frames
    model.set_dataset_processing_params(**processing)
    picks = []
    for image in images:  # every frame keeps at least `rank` objects
        pred = model.predict(np.ascontiguousarray(image[:, :, ::-1]), conf=1e-4, iou=0.7).prediction
        scores = sorted((pred.scores if hasattr(pred, "poses") else pred.confidence).tolist(), reverse=True)
        scores = [v for v in scores if v < 0.999] or scores  # above: saturated ties
        picks.append(float((scores[rank - 1] + scores[rank]) / 2) if len(scores) > rank else float(scores[-1] / 2))
    return min(picks)

for arch, task in (("yolo_nas_s", "detect"), ("yolo_nas_pose_n", "pose")):
    classes = 17 if task == "pose" else 80
    processing = (default_yolo_nas_pose_coco_processing_params() if task == "pose"
                  else default_yolo_nas_coco_processing_params())
    torch.manual_seed(0)  # the library's own init of everything but the class logits: the same every run
    built = yn.sg_models.get(arch, num_classes=classes)
    redraw(built, seed=0)
    ckpt = work / f"{arch}.pth"
    torch.save({"net": built.state_dict()}, ckpt)
    conf[arch] = pick_conf(built, frames, processing)
    cfg = ModelConfig(name="m", backend="yolonas", weights=arch, task=task, conf=conf[arch],
                      options={"checkpoint_path": str(ckpt)})
    runner = create_runner(cfg)  # warmup included
    ours, ours_ms = [], []
    for image in frames:
        start = time.perf_counter(); ours.append(objects(runner.infer([image])[0])); ours_ms.append(time.perf_counter() - start)
    batched = [objects(o) for o in runner.infer(frames)]
    lib = yn.sg_models.get(arch, num_classes=classes, checkpoint_path=str(ckpt))
    lib.set_dataset_processing_params(**processing)
    theirs, lib_ms = [], []
    for image in frames:
        start = time.perf_counter()
        pred = lib.predict(np.ascontiguousarray(image[:, :, ::-1]), conf=conf[arch], iou=0.7).prediction  # RGB, as shipped
        lib_ms.append(time.perf_counter() - start)
        if task == "pose":
            theirs.append({"boxes": pred.bboxes_xyxy.tolist(), "scores": pred.scores.tolist(), "poses": pred.poses.tolist()})
        else:
            theirs.append({"boxes": pred.bboxes_xyxy.tolist(), "scores": pred.confidence.tolist(),
                           "labels": pred.labels.tolist()})
    out[arch] = {"conf": conf[arch], "version": runner.version, "weights": runner.weights, "input_size": runner.input_size,
                 "ours": ours, "batched": batched, "theirs": theirs, "ckpt": str(ckpt),
                 "ours_ms": 1e3 * float(np.median(ours_ms)), "predict_ms": 1e3 * float(np.median(lib_ms))}
    runner.close()

labels = {}
for key, options in {"no_pretrained": {"pretrained": False}, "offline_pretrained": {}}.items():
    r = create_runner(ModelConfig(name="m", backend="yolonas", weights="yolo_nas_s", options=options))
    labels[key] = [r.version, r.weights]
out["labels"] = labels
out["refused"] = refusals({"name": "m", "backend": "yolonas", "weights": "yolo_nas_s"}, {
    "missing": {"options": {"checkpoint_path": str(work / "missing.pth")}},
    "unknown": {"options": {"nope": 1}}, "task": {"task": "pose"}, "track": {"task": "track"},
    "arch": {"weights": "yolo11n.pt"}, "imgsz": {"imgsz": 320},
    "broken": {"options": {"checkpoint_path": str(work / "0.jpg")}}})
out["stdout_still_intact"] = sys.stdout is stdout_before
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def yolonas_env() -> Path:
    return built_env("yolonas", ENV_PY, timeout_s=1800)


@pytest.fixture(scope="module")
def probe(yolonas_env: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("yolonas")
    images = photos()
    for i, image in enumerate(images):
        (work / f"{i}.jpg").write_bytes(jpeg(image))
    home = work / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SUPER_GRADIENTS_LOG_DIR"} | {"HOME": str(home)}
    out, stderr = run_probe(yolonas_env, PROBE, [str(work), "-", str(len(images))], work, 900, env)
    out["work"], out["stderr"] = str(work), stderr
    return out


def clip(box: list[float], width: int, height: int) -> list[float]:
    return [min(max(box[0], 0), width), min(max(box[1], 0), height),
            min(max(box[2], 0), width), min(max(box[3], 0), height)]


def near(a: list[float], b: list[float], tol: float) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def match(ours: list[dict[str, Any]], theirs: list[dict[str, Any]], same: Any) -> None:
    """One-to-one: every object of ours has its own equal in theirs (order may differ on near-ties)."""
    assert len(ours) == len(theirs) > 0, (len(ours), len(theirs))
    left = list(theirs)
    for obj in ours:
        found = next((t for t in left if same(obj, t)), None)
        assert found is not None, f"no match for {obj}"
        left.remove(found)


def library_objects(theirs: dict[str, Any], width: int, height: int) -> list[dict[str, Any]]:
    """The library's predict() output as our objects would say it (boxes and keypoints clipped to the frame)."""
    out = []
    for i, box in enumerate(theirs["boxes"]):
        obj: dict[str, Any] = {"box": clip(box, width, height), "score": theirs["scores"][i]}
        if "poses" in theirs:
            obj["keypoints"] = [[min(max(x, 0), width), min(max(y, 0), height), s] for x, y, s in theirs["poses"][i]]
        else:
            obj["class_id"] = theirs["labels"][i]
        out.append(obj)
    return out


def same_object(ours: dict[str, Any], theirs: dict[str, Any]) -> bool:
    if not (near(ours["box"], theirs["box"], BOX_PX) and abs(ours["score"] - theirs["score"]) <= SCORE):
        return False
    if "keypoints" in theirs:
        return ours["label"] == "person" and len(ours["keypoints"]) == 17 and all(
            near(a[:2], b[:2], KP_PX) and abs(a[2] - b[2]) <= SCORE
            for a, b in zip(ours["keypoints"], theirs["keypoints"], strict=True))
    return bool(ours["class_id"] == theirs["class_id"])


def same_as_library(ours: list[dict[str, Any]], theirs: dict[str, Any], width: int, height: int) -> None:
    match(ours, library_objects(theirs, width, height), same_object)


@pytest.mark.timeout(1200)
def test_import_leaves_streams_root_logger_and_home_alone(probe: dict[str, Any]) -> None:
    assert probe["stdout_intact"] and probe["stderr_intact"] and probe["stdout_still_intact"]
    assert probe["root_is_mine"] and probe["root_level"] == 20  # INFO, as the probe set it
    assert probe["sg_logs"] is False  # nothing written under ~/sg_logs
    assert probe["sg_log_dir"] and "courtside-sg-" in probe["sg_log_dir"]
    assert not Path(probe["sg_log_dir"]).exists()  # the private log folder is removed at exit
    assert "The console stream is logged into" not in probe["stderr"]


@pytest.mark.timeout(1200)
def test_runner_equals_the_library_predict_on_the_same_frames(probe: dict[str, Any]) -> None:
    sizes = [(im.shape[1], im.shape[0]) for im in photos()]
    for arch in ("yolo_nas_s", "yolo_nas_pose_n"):
        got = probe[arch]
        assert got["weights"] == "untrained" and got["input_size"] == 640
        assert got["version"].startswith(f"{arch}-") and got["version"].endswith(f"@{SG}")
        for ours, batched, theirs, (w, h) in zip(got["ours"], got["batched"], got["theirs"], sizes, strict=True):
            same_as_library(ours, theirs, w, h)
            same_as_library(batched, theirs, w, h)  # a batch of different sizes: each frame its own result
        print(f"{arch}: {[len(o) for o in got['ours']]} objects; infer {got['ours_ms']:.0f} ms per frame, "
              f"library predict() {got['predict_ms']:.0f} ms")


@pytest.mark.timeout(1200)
def test_fallback_labels_and_refusals(probe: dict[str, Any], tmp_path: Path) -> None:
    assert probe["labels"]["no_pretrained"] == [f"yolo_nas_s-untrained@{SG}", "untrained"]
    assert probe["labels"]["offline_pretrained"] == [f"yolo_nas_s-untrained@{SG}", "untrained"]  # download failed
    refused = probe["refused"]
    bad = {k: v for k, v in refused.items() if v is None or not v.startswith("ModelLoadError: model m:")}
    assert not bad, json.dumps(bad)
    assert "yolonas checkpoint_path" in refused["missing"] and "missing.pth" in refused["missing"]
    assert "nope" in refused["unknown"] and "yolonas" in refused["unknown"]
    assert "is a detect model but task is pose" in refused["task"] and "no tracker" in refused["track"]
    assert "yolo11n.pt" in refused["arch"] and "imgsz 320" in refused["imgsz"]
    assert "cannot load yolo_nas_s from" in refused["broken"] and "0.jpg" in refused["broken"]


# --- (c) the service end to end ----------------------------------------------------------------------------

@pytest.mark.timeout(1200)
async def test_service_annotations_equal_a_direct_call(probe: dict[str, Any], nats_server: EmbeddedNats,
                                                      nc: NATS, tmp_path: Path) -> None:
    work = Path(probe["work"])
    images = photos()
    for arch, task in (("yolo_nas_s", "detect"), ("yolo_nas_pose_n", "pose")):
        model = f"yn-{task}"
        config = tmp_path / f"{model}.yaml"
        config.write_text(json.dumps({"models": [{
            "name": model, "backend": "yolonas", "weights": arch, "task": task, "conf": probe[arch]["conf"], "decode": "full",
            "batch": 1, "max_wait_ms": 0, "max_age_ms": 600000, "threads": 2,
            "options": {"checkpoint_path": probe[arch]["ckpt"]}}]}))
        env = {**os.environ, "COURTSIDE_NATS__URL": nats_server.url, "HOME": str(work / "home")}
        async with serving(nc, ENV_PY, ["infer", model, "--config", str(config)], env, f"yolonas consumer {model}",
                           ready_s=600), collecting(nc, model) as got:
            for i, image in enumerate(images):  # closed loop: nothing is dropped
                await publish_frame(nc, "court-1", i, (work / f"{i}.jpg").read_bytes(), image.shape[1],
                                    image.shape[0])
                await got.wait_for(i + 1, timeout_s=300)
        anns: list[Annotation] = got.items
        assert [a.seq for a in anns] == list(range(len(images)))
        for ann, theirs, image in zip(anns, probe[arch]["theirs"], images, strict=True):
            assert ann.weights == "untrained" and ann.model_version == probe[arch]["version"]
            same_as_library([o.to_dict() for o in ann.objects], theirs, image.shape[1], image.shape[0])
