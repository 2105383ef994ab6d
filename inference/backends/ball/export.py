"""Ball model -> ONNX, and ONNX Runtime as a :data:`~inference.backends.ball.pipeline.Forward`.

The ONNX file carries the architecture and the training record in its metadata
(``courtside_ball``: the JSON of the weights file's ``format``, ``config`` and
``meta``), so an ONNX-only environment can serve it without torch. The batch axis
is dynamic; opset 17, the TorchScript exporter (``dynamo=False``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from inference.backends.ball.model import BallNetConfig

log = logging.getLogger(__name__)

METADATA_KEY = "courtside_ball"


def cache_dir() -> Path:
    return Path.home() / ".cache" / "courtside" / "ball"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def export_onnx(weights_path: Path, out: Path) -> Path:
    """Write ``out`` (.onnx) from a ball weights file (needs torch and onnx)."""
    import onnx
    import torch

    from inference.backends.ball import weights

    net, meta = weights.load(weights_path)
    cfg = net.config
    dummy = torch.zeros(1, cfg.in_channels, cfg.height, cfg.width)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.{threading.get_ident()}.partial.onnx")  # one per writer
    torch.onnx.export(net, (dummy,), str(tmp), dynamo=False, opset_version=17, input_names=["frames"],
                      output_names=["heat"], dynamic_axes={"frames": {0: "batch"}, "heat": {0: "batch"}})
    model = onnx.load(str(tmp))
    entry = model.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = json.dumps({"format": weights.FORMAT, "config": cfg.to_dict(), "meta": meta,
                              "source": weights_path.name, "source_digest": file_digest(weights_path)})
    onnx.save(model, str(tmp))
    tmp.replace(out)
    return out


def cached_onnx(weights_path: Path) -> Path:
    """The ONNX export of ``weights_path``, made once per file content under :func:`cache_dir`.

    Writers never share a partial file (concurrent starts each export, the last rename wins with
    a whole file), and a cached file that ONNX Runtime cannot open (left by a crash, a full disk)
    is exported anew instead of failing every start after it."""
    out = cache_dir() / f"{weights_path.stem}-{file_digest(weights_path)}.onnx"
    if out.is_file():
        try:
            onnx_metadata(out)
            return out
        except Exception as exc:  # onnxruntime raises its own untyped errors
            log.warning("cached ball ONNX %s does not load (%s); exporting it again", out, exc)
            out.unlink(missing_ok=True)
    return export_onnx(weights_path, out)


def onnx_metadata(path: Path) -> dict[str, Any]:
    """The ``courtside_ball`` record of an exported file (config and meta)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if raw is None:
        raise ValueError(f"{path} is not a Courtside ball model (no {METADATA_KEY} metadata)")
    record: dict[str, Any] = json.loads(raw)
    return record


def onnx_forward(path: Path, threads: int | None = None, device: str = "cpu") -> Any:
    """A Forward running ``path`` (.onnx) with ONNX Runtime (``threads`` intra-op threads).

    The intra-op threads sleep between runs instead of spinning: on a shared 2-core machine a
    spinning worker takes the core that decodes and prepares the next frame (measured, issue 13:
    42 -> 90 frames/s for the small model with 2 threads on a loaded machine; the output is the same).
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if device.startswith("cuda") else [
        "CPUExecutionProvider"]
    session = ort.InferenceSession(str(path), opts, providers=providers)

    def forward(batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        out = session.run(["heat"], {"frames": np.ascontiguousarray(batch, np.float32)})[0]
        return np.asarray(out, np.float32)

    return forward


def config_of(record: dict[str, Any]) -> BallNetConfig:
    return BallNetConfig.from_dict(record["config"])
