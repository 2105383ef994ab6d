"""How many CPU threads a torch backend (``yolo``, ``yolonas``, ``mmpose``) runs with.

Standard library only: it imports in every backend's own environment.
"""

from __future__ import annotations

import os


def cpu_threads(requested: int | None) -> int:
    """Threads for torch: ``models[].threads`` when set, else the CPUs this process may use
    (its affinity mask, which a container's cpuset narrows; all CPUs where there is none)."""
    if requested:
        return requested
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1
