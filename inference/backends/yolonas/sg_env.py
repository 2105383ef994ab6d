"""super-gradients' process-wide side effects, contained: import it only through here.

``import super_gradients`` (3.7.1), seen on this machine:

- replaces ``sys.stdout`` / ``sys.stderr`` with tees copying everything into
  ``$SUPER_GRADIENTS_LOG_DIR/console.log`` (default ``~/sg_logs``, never rotated);
- calls ``logging.basicConfig(force=True)``: the root logger's handlers are closed and
  replaced by a DEBUG file handler in that folder and its own stderr handler;
- installs crash handlers that upload to Deci's platform at exit unless
  ``CRASH_HANDLER=FALSE`` / ``UPLOAD_LOGS=FALSE``;
- runs a requirements sanity check that logs a warning per missing training extra.

:func:`import_super_gradients` sets the variables that switch the uploads off, points
the log folder at a private temporary folder (removed at exit), imports the library,
with the streams pointed at a buffer (what it prints there is logged once at DEBUG),
then puts back the streams and the root logger exactly as they were. The library's
own loggers (``super_gradients.*``) then propagate to the service's handlers, at
WARNING. The only network access left is an explicit ``pretrained_weights=`` download.
"""

from __future__ import annotations

import atexit
import importlib
import io
import logging
import os
import shutil
import sys
import tempfile
from types import ModuleType

#: Set before the import; an operator's own SUPER_GRADIENTS_LOG_DIR is kept (and not removed).
QUIET_ENV = {"CRASH_HANDLER": "FALSE", "UPLOAD_LOGS": "FALSE", "FILE_LOG_LEVEL": "WARNING",
             "CONSOLE_LOG_LEVEL": "ERROR"}
LIBRARY_LOGGERS = ("super_gradients", "data_gradients")
log = logging.getLogger(__name__)


def import_super_gradients() -> ModuleType:
    """``super_gradients.training.models`` imported with the side effects above undone (idempotent)."""
    if "super_gradients" in sys.modules:
        return importlib.import_module("super_gradients.training.models")
    os.environ.update(QUIET_ENV)
    if "SUPER_GRADIENTS_LOG_DIR" not in os.environ:
        scratch = tempfile.mkdtemp(prefix="courtside-sg-")
        os.environ["SUPER_GRADIENTS_LOG_DIR"] = scratch
        # registered before the library's own atexit flush, so it runs after it (LIFO)
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stdout, stderr = sys.stdout, sys.stderr
    captured = io.StringIO()  # what the import prints ("console stream is logged into ...", warnings)
    sys.stdout = sys.stderr = captured
    try:
        models = importlib.import_module("super_gradients.training.models")
    finally:
        sys.stdout, sys.stderr = stdout, stderr
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    if captured.getvalue().strip():
        log.debug("super-gradients printed at import: %s", captured.getvalue().strip()[:2000])
    return models
