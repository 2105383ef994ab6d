"""The ONNX copy of an Ultralytics model: exported once, cached by the weights' hash.

Layout: ``<cache_dir>/<sha256 of the weights file>/imgsz<N>-ultralytics<V>-torch<V>.onnx``
(default ``cache_dir``: ``~/.cache/courtside/onnx``, outside the checkout). The
exporter's versions are part of the name, so upgrading Ultralytics or torch exports
afresh instead of serving a file another exporter wrote. A file is written under a
private name and renamed into place, so two replicas starting at once never read a
half-written model.

A model with no file (an architecture yaml, the untrained fallback: random weights
drawn at start) has nothing stable to key on: it is exported into a temporary
directory, loaded, and the file removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inference.errors import ExportError

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "courtside" / "onnx"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_path(cache_dir: Path, sha256: str, imgsz: int, exporter: str) -> Path:
    """Where the export of the weights with digest ``sha256`` at ``imgsz`` lives (pure).

    ``exporter`` names the exporting packages' versions (``ultralytics8.4.190-torch2.14.1``).
    """
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a hex SHA-256: {sha256!r}")
    safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in exporter)
    return cache_dir / sha256 / f"imgsz{imgsz}-{safe}.onnx"


@contextlib.contextmanager
def onnx_file(model: Any, state: str, version: str, source: Path | None, imgsz: int, cache_dir: Path,
              exporter: str) -> Iterator[tuple[Path, bool]]:
    """Yield ``(path, cached)``: the ONNX export of ``model`` (an Ultralytics ``YOLO``).

    ``source`` is the weights file ``model`` was loaded from (None: no file, exported to a
    temporary directory that is removed on exit). ``cached`` says the file was already
    there. Raises :class:`ExportError` when exporting fails or the cache cannot be written.
    """
    from inference.export import export_model

    if source is None:
        with tempfile.TemporaryDirectory(prefix="courtside-onnx-") as tmp:
            yield export_model(model, state, version, Path(tmp) / "model.onnx", imgsz), False
        return
    try:
        target = cache_path(cache_dir, file_sha256(source), imgsz, exporter)
        hit = target.is_file()
        if not hit:
            target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"ONNX cache {cache_dir} is not usable: {exc}") from None
    if not hit:
        partial = target.with_name(f".{target.stem}.{os.getpid()}.partial.onnx")
        try:
            export_model(model, state, version, partial, imgsz)
            os.replace(partial, target)
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {exc}") from None
        finally:
            partial.unlink(missing_ok=True)
    yield target, hit


def discard(path: Path) -> None:
    """Remove a cached file that did not load (the next start exports it again)."""
    path.unlink(missing_ok=True)
