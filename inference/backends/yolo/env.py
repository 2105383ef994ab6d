"""Ultralytics' process environment: set once, before ``import ultralytics``.

Ultralytics reads these at import time: ``YOLO_OFFLINE=1`` stops the online check,
analytics and update checks; ``YOLO_AUTOINSTALL=false`` stops runtime pip
installs; ``YOLO_CONFIG_DIR`` must be writable (its settings file lives there).
Values already set by the operator are kept.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_CONFIG_DIR = Path.home() / ".cache" / "courtside" / "ultralytics"


def configure_offline(config_dir: Path | None = None) -> None:
    """Set the variables (idempotent); warn on stderr if Ultralytics was imported first."""
    if "ultralytics" in sys.modules and not os.environ.get("YOLO_OFFLINE"):
        print("courtside: ultralytics was imported before its offline settings were applied",
              file=sys.stderr)
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    target = Path(os.environ.get("YOLO_CONFIG_DIR") or config_dir or DEFAULT_CONFIG_DIR)
    target.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_CONFIG_DIR"] = str(target)
