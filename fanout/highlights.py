"""Highlights: saved rally clips of a camera ranked by a rally statistic (pure).

A rally clip is a saved clip (:mod:`fanout.archive.replay`) whose manifest carries the
rally's stats under ``rally`` (``start_ts``/``end_ts`` Unix ns, ``duration_s`` seconds,
``shots``, ``fastest_mps`` m/s, ``reason``: the analytics contract's ``finished_rally``).
Ranking is stable: ties keep the earlier rally first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: What highlights can be ranked by, and the rally stat each reads (largest first).
RANKINGS: dict[str, str] = {"longest": "duration_s", "fastest": "fastest_mps", "shots": "shots"}
#: Whether a saved clip is a rally clip: the manifest key holding its stats.
RALLY_KEY = "rally"


def rank(clips: Iterable[Mapping[str, Any]], by: str, start_ns: int, end_ns: int,
         limit: int) -> list[Mapping[str, Any]]:
    """The rally clips whose rally started in ``start_ns`` .. ``end_ns`` (Unix ns, end exclusive),
    largest ``by`` first (a key of :data:`RANKINGS`; ValueError otherwise), at most ``limit``."""
    if by not in RANKINGS:
        raise ValueError(f"rank must be one of {', '.join(RANKINGS)}, got {by!r:.40}")
    stat = RANKINGS[by]
    rallies = [c for c in clips if isinstance(c.get(RALLY_KEY), Mapping)
               and start_ns <= int(c[RALLY_KEY].get("start_ts", -1)) < end_ns]
    rallies.sort(key=lambda c: int(c[RALLY_KEY]["start_ts"]))
    rallies.sort(key=lambda c: -float(c[RALLY_KEY].get(stat, 0.0)))
    return rallies[:limit]
