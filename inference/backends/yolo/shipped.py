"""Detector weights committed with the repository: ``models[].weights: shipped:<name>``.

``shipped:players-court`` is the demo court's player/ball detector (yolo11n, two
classes: player, ball), trained by ``courtside train players`` on the synthetic
court only (:mod:`courtside.sim`); how it was made sits beside it in
``<name>.train.json`` and its held-out scores in ``<name>.metrics.json``. Its
checkpoint is marked trained and names that data as ``train_args.data``, which the
runner reports as ``trained_on``. Any value without the prefix passes through.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inference.errors import ModelLoadError

PREFIX = "shipped:"
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
#: Alias -> file name in :data:`SHIPPED_DIR`.
SHIPPED = {"players-court": "players-court.pt"}


class ShippedWeightsError(ModelLoadError):
    """An unknown ``shipped:`` name, or its file is missing from the checkout."""


def is_shipped(weights: str) -> bool:
    return weights.startswith(PREFIX)


def resolve(weights: str) -> str:
    """``shipped:<name>`` -> the committed file's absolute path; any other value unchanged."""
    if not is_shipped(weights):
        return weights
    name = weights.removeprefix(PREFIX)
    if name not in SHIPPED:
        raise ShippedWeightsError(f"unknown shipped weights {weights!r} (known: "
                                  f"{', '.join(PREFIX + n for n in sorted(SHIPPED))})")
    path = SHIPPED_DIR / SHIPPED[name]
    if not path.is_file():
        raise ShippedWeightsError(f"{weights} should be {path}, which is missing from this checkout")
    return str(path)


def record(name: str, kind: str) -> dict[str, Any]:
    """The ``metrics`` or ``train`` record committed beside shipped weights ``name``."""
    if name not in SHIPPED or kind not in ("metrics", "train"):
        raise ShippedWeightsError(f"no {kind} record for shipped weights {name!r}")
    path = SHIPPED_DIR / f"{Path(SHIPPED[name]).stem}.{kind}.json"
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise ShippedWeightsError(f"{path} cannot be read: {exc}") from None
