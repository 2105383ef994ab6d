"""What the probes of the backend tests share: code that runs INSIDE a backend's own environment.

``test_infer_yolonas``, ``test_mmpose_native`` and ``test_infer_mediapipe_pose`` run a probe
with ``.venvs/<name>/bin/python -c PROBE``; the repository is on those environments' path
(``courtside-repo.pth``, written by each ``setup_env.sh``), so a probe imports this module as
``tests.inference.probe_kit``. It imports only the standard library and the repository
(``courtside``, ``inference``), which every environment has: no test dependency, no pytest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def refusals(base: Mapping[str, Any], cases: Mapping[str, Mapping[str, Any]]) -> dict[str, str | None]:
    """Per case, how ``create_runner`` refused ``ModelConfig(**{**base, **case})``: ``"<error type>:
    <message>"``, or None when it built a runner (which the caller then reports as not refused)."""
    from courtside.config import ModelConfig
    from inference.backends import create_runner

    refused: dict[str, str | None] = {}
    for key, case in cases.items():
        try:
            create_runner(ModelConfig(**{**base, **case}))
            refused[key] = None
        except Exception as exc:  # every refusal is reported, whatever its type: the test checks the type
            refused[key] = f"{type(exc).__name__}: {exc}"
    return refused
