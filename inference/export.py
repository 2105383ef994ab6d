"""Export a YOLO checkpoint to ONNX for the ``onnx`` backend.

``python -m inference.export --weights yolo11n.pt --out models/yolo11n.onnx --imgsz 640``

The file gets a dynamic batch and input size (so the runtime can letterbox to the
minimum rectangle, exactly like Ultralytics' PyTorch path) and, besides
Ultralytics' own metadata (names, stride, task, kpt_shape, imgsz), the keys
``courtside_weights`` ("trained"/"untrained", per
:mod:`inference.backends.yolo.weights`: a fallback architecture is always
"untrained") and ``courtside_version`` (the source model's version string).
"""

from __future__ import annotations

import argparse
import copy
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from inference.errors import ExportError, ModelLoadError

log = logging.getLogger(__name__)


def export_onnx(weights: str, out: Path, imgsz: int = 640, opset: int | None = None,
                dynamic: bool = True) -> Path:
    """Export ``weights`` (path, name or architecture yaml) to ``out``; returns ``out``.

    Blocking (1-5 s on CPU). Raises :class:`ExportError` with the reason on failure.
    """
    from inference.backends.yolo.runner import load_yolo  # imports torch/Ultralytics offline

    try:
        model, state, version = load_yolo(weights)
    except ModelLoadError as exc:
        raise ExportError(str(exc)) from None
    return export_model(model, state, version, out, imgsz, opset, dynamic)


def export_model(model: Any, state: str, version: str, out: Path, imgsz: int = 640, opset: int | None = None,
                 dynamic: bool = True) -> Path:
    """Export an Ultralytics ``YOLO`` already loaded (``state``: trained/untrained, ``version``:
    its version string, both recorded in the file) to ``out``; returns ``out``.

    The model in memory is what is exported: a randomly initialised fallback exports
    the very weights the torch path would run. Raises :class:`ExportError`.
    """
    import onnx

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="courtside-export-") as tmp:
        # Ultralytics writes next to the checkpoint: export from a private copy.
        src = Path(tmp) / "model.pt"
        import torch
        from ultralytics import YOLO  # type: ignore[attr-defined]

        # fp32, as in memory (YOLO.save would round a yaml-built model's weights to fp16)
        torch.save({**(getattr(model, "ckpt", None) or {}), "model": copy.deepcopy(model.model).float(),
                    "ema": None}, src)

        ul_log = logging.getLogger("ultralytics")
        level = ul_log.level
        ul_log.setLevel(max(level, logging.WARNING))  # its export banner is ~10 INFO lines per model
        try:
            produced = YOLO(str(src)).export(format="onnx", imgsz=imgsz, dynamic=dynamic, simplify=False,
                                             opset=opset, verbose=False)
        except Exception as exc:  # Ultralytics/torch.onnx raise many types; one boundary
            raise ExportError(f"ONNX export of {version} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            ul_log.setLevel(level)
        proto = onnx.load(str(produced))
        meta = {p.key: p for p in proto.metadata_props}
        for key, value in (("courtside_weights", state), ("courtside_version", version)):
            if key in meta:
                meta[key].value = value
            else:
                entry = proto.metadata_props.add()
                entry.key, entry.value = key, value
        onnx.save(proto, str(src.with_suffix(".onnx")))
        shutil.move(str(src.with_suffix(".onnx")), out)
    log.info("exported %s (%s) to %s, imgsz %d, dynamic %s", version, state, out, imgsz, dynamic)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inference.export", description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="checkpoint path, Ultralytics name or architecture yaml")
    parser.add_argument("--out", required=True, type=Path, help="ONNX file to write")
    parser.add_argument("--imgsz", type=int, default=640, help="nominal input size (pixels)")
    parser.add_argument("--opset", type=int, default=None)
    parser.add_argument("--static", action="store_true", help="fixed batch 1 and imgsz x imgsz input")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        path = export_onnx(args.weights, args.out, args.imgsz, args.opset, dynamic=not args.static)
    except ExportError as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
