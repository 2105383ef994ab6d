"""mmengine / mmcv / mmdet / mmpose's process-wide side effects, contained: import them only through here.

Seen with mmpose 1.3.2 / mmengine 0.10.7 on this machine:

- mmengine logs through ``MMLogger``, a ``logging.Logger`` built outside the logging
  manager (no parent): its first use (``print_log(..., logger="current")``, which the
  registries and checkpoint loader call) creates an instance with its own coloured
  handler on ``sys.stdout`` at INFO. The service's handlers never see those records.
- ``print_log(msg)`` without a logger, and a few modules, ``print`` to stdout.
- Pretrained backbones are named by ``init_cfg`` URLs (download.openmmlab.com) in the
  shipped configs; mmengine fetches them only when ``init_weights()`` runs, which
  :mod:`inference.backends.mmpose.runner` never calls (and it clears ``init_cfg``).
- ``import mmpose.apis`` runs the package's ``__init__``, which imports the inferencers
  and visualisers, and those import torchvision, which cannot be imported beside the CPU
  torch 2.13 wheel (``operator torchvision::nms does not exist``; the environment has no
  torchvision). The functions we use (``init_model``, ``inference_topdown``,
  ``inference_bottomup``) live in ``mmpose/apis/inference.py``, whose imports need none of
  that: it is loaded alone, unchanged, as the module ``mmpose_apis_inference``.

:func:`import_mmpose` creates mmengine's logger instance first and points it at the
standard ``logging.getLogger("mmengine")`` (WARNING, propagating to the service's
handlers), and imports the packages with stdout captured; :func:`quiet` does the same
around model building. What was printed is logged once at DEBUG.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

LIBRARY_LOGGERS = ("mmengine", "mmcv", "mmdet", "mmpose")
log = logging.getLogger(__name__)


class _ToStandardLogging(logging.Handler):
    """Hands MMLogger's records to the standard ``mmengine`` logger (so to the service's handlers)."""

    def emit(self, record: logging.LogRecord) -> None:
        target = logging.getLogger("mmengine")
        if record.levelno >= target.getEffectiveLevel():
            target.handle(record)


@contextlib.contextmanager
def quiet(what: str) -> Iterator[None]:
    """Capture what the libraries print to stdout/stderr while ``what`` runs; log it at DEBUG."""
    captured = io.StringIO()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = captured
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr
        if captured.getvalue().strip():
            log.debug("mmpose printed during %s: %s", what, captured.getvalue().strip()[:2000])


def _route_mmengine_logger() -> None:
    from mmengine.logging import MMLogger

    logger = MMLogger.get_instance("mmengine", log_level="WARNING")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.addHandler(_ToStandardLogging())
    logger.setLevel(logging.WARNING)
    logger.propagate = False


#: The name ``mmpose/apis/inference.py`` is loaded under (see the module doc).
INFERENCE_MODULE = "mmpose_apis_inference"


def import_mmpose() -> ModuleType:
    """mmpose's ``apis/inference.py`` (init_model, inference_*), imported with the side effects
    above contained (idempotent)."""
    if INFERENCE_MODULE in sys.modules:
        return sys.modules[INFERENCE_MODULE]
    for name in LIBRARY_LOGGERS:
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)
    with quiet("import"):
        importlib.import_module("mmengine.logging")
        _route_mmengine_logger()
        mmpose = importlib.import_module("mmpose")
        source = Path(str(mmpose.__file__)).parent / "apis" / "inference.py"
        spec = importlib.util.spec_from_file_location(INFERENCE_MODULE, source)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[INFERENCE_MODULE] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[INFERENCE_MODULE]
            raise
    return module
