"""What the torch backends (``yolo``, ``yolonas``, ``mmpose``) do alike with a checkpoint file.

Each backend's ``weights`` module keeps its own policy (which download, which training
record counts as "trained"); the pieces here are the ones they share: the marker an
exporter or trainer writes into a checkpoint, the check that a configured checkpoint
exists, and the short digest that names a file in the model version.

Standard library only (and :mod:`inference.backends.base` for the type), so it imports in
every backend's own environment; no torch import here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inference.backends.base import Weights

#: The key a checkpoint's own "trained"/"untrained" is stored under (it wins over any other sign).
MARKER = "courtside_weights"


def marked_state(ckpt: Mapping[str, Any]) -> Weights | None:
    """The state recorded under :data:`MARKER`, or None when the checkpoint has none (or a bad value)."""
    marker = ckpt.get(MARKER)
    if marker in ("trained", "untrained"):
        return marker  # type: ignore[no-any-return]
    return None


def checkpoint_file(path: str, model: str, backend: str, hint: str) -> Path:
    """``options.checkpoint_path`` as a path, or a ModelLoadError naming the model, backend and file;
    ``hint`` (what the file is, what omitting it does) ends the message."""
    from inference.errors import ModelLoadError

    file = Path(path).expanduser()
    if not file.is_file():
        raise ModelLoadError(f"model {model}: {backend} checkpoint_path {file} does not exist ({hint})")
    return file


def file_digest(path: Path) -> str:
    """The first 10 hex digits of the file's SHA-256, read in 1 MiB chunks (checkpoints are large)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:10]
