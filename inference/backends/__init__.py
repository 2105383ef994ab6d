"""Model backends: one package per model family behind :class:`inference.backends.base.Runner`.

The registry (which backend is which runner, options model and environment) is
:mod:`inference.backends.registry`; its entry points are re-exported here.
"""

from inference.backends.registry import (
    BACKENDS,
    ENVIRONMENTS,
    REPO_ROOT,
    backend_python,
    create_runner,
    validate_config,
    validate_options,
)

__all__ = ["BACKENDS", "ENVIRONMENTS", "REPO_ROOT", "backend_python", "create_runner", "validate_config",
           "validate_options"]
