"""Export an RTMPose model to ONNX for the ``mmpose-onnx`` backend (run in ``.venvs/mmpose``).

``.venvs/mmpose/bin/python -m inference.backends.mmpose.export --weights rtmpose-t [--checkpoint X.pth] --out models/rtmpose-t.onnx``
(it needs mmpose: run it with the backend environment's interpreter).

The network is exported from normalised crops (N x 3 x H x W, RGB, ImageNet mean/std) to
its two SimCC outputs (``simcc_x`` N x 17 x W*k, ``simcc_y`` N x 17 x H*k), batch dynamic,
with the legacy TorchScript exporter at opset 17. Everything around it (box padding,
affine crop, normalisation, decoding, mapping back) is :mod:`inference.backends.mmpose.topdown`,
in numpy and OpenCV, so the served path never imports mmcv or torch. The file carries
``courtside_weights`` (trained/untrained, per :mod:`inference.backends.mmpose.weights`),
``courtside_version`` (the native backend's version string), ``courtside_model``,
``input_size`` ("W,H"), ``simcc_split_ratio`` and ``keypoints`` ("coco-17").
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from courtside.config import ModelConfig
from inference.errors import ExportError, ModelLoadError

log = logging.getLogger(__name__)
OPSET = 17


def export_rtmpose(weights: str, out: Path, checkpoint: str | None = None,
                   weights_state: str | None = None) -> Path:
    """Export RTMPose ``weights`` (rtmpose-t|s|m) with ``checkpoint`` (or untrained) to ``out``.

    Blocking (a few seconds on CPU). Raises :class:`ExportError` naming what failed.
    """
    from inference.backends.mmpose.options import TOP_DOWN, MMPoseOptions

    if weights not in TOP_DOWN:
        raise ExportError(f"the mmpose export takes the top-down RTMPose models ({', '.join(sorted(TOP_DOWN))}), "
                          f"got {weights!r}")
    import onnx
    import torch

    from inference.backends.mmpose.runner import load_model
    options = {k: v for k, v in (("checkpoint_path", checkpoint), ("weights_state", weights_state)) if v}
    config = ModelConfig(name="export", backend="mmpose", weights=weights, task="pose", options=options)
    try:
        model, state, version = load_model(config, MMPoseOptions.model_validate(options))
    except ModelLoadError as exc:
        raise ExportError(str(exc)) from None
    width, height = (int(v) for v in model.cfg.codec["input_size"])
    ratio = float(model.cfg.codec["simcc_split_ratio"])

    class SimCC(torch.nn.Module):
        """Backbone and head only: normalised crops -> (simcc_x, simcc_y)."""

        def __init__(self) -> None:
            super().__init__()
            self.pose = model

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            pred_x, pred_y = self.pose.head.forward(self.pose.extract_feat(x))
            return pred_x, pred_y

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="courtside-export-") as tmp:
        raw = Path(tmp) / "model.onnx"
        try:
            torch.onnx.export(SimCC().eval(), (torch.zeros(1, 3, height, width),), str(raw), dynamo=False,
                              opset_version=OPSET, input_names=["input"], output_names=["simcc_x", "simcc_y"],
                              dynamic_axes={"input": {0: "batch"}, "simcc_x": {0: "batch"}, "simcc_y": {0: "batch"}})
        except Exception as exc:  # torch.onnx raises many types; one boundary
            raise ExportError(f"ONNX export of {version} failed: {type(exc).__name__}: {exc}") from exc
        proto = onnx.load(str(raw))
        for key, value in (("courtside_weights", state), ("courtside_version", version), ("courtside_model", weights),
                           ("input_size", f"{width},{height}"), ("simcc_split_ratio", repr(ratio)),
                           ("keypoints", "coco-17")):
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, str(out))
    log.info("exported %s (%s) to %s, input %dx%d", version, state, out, width, height)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inference.backends.mmpose.export", description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="rtmpose-t, rtmpose-s or rtmpose-m")
    parser.add_argument("--checkpoint", help="local mmpose checkpoint (.pth); omitted = untrained architecture")
    parser.add_argument("--weights-state", choices=("trained", "untrained"), help="override the checkpoint's state")
    parser.add_argument("--out", required=True, type=Path, help="the .onnx file to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        export_rtmpose(args.weights, args.out, args.checkpoint, args.weights_state)
    except ImportError as exc:
        print(f"mmpose export: needs .venvs/mmpose (inference/backends/mmpose/setup_env.sh): {exc}",
              file=sys.stderr)
        return 2
    except ExportError as exc:
        print(f"mmpose export: {exc}", file=sys.stderr)
        return 1
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
