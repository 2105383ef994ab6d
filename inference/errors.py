"""The inference service's exceptions; third-party errors are translated into these.

Each message says what failed and what to do, so one log line is enough.
"""

from __future__ import annotations


class InferenceError(Exception):
    """Base class of every error raised by the inference service."""


class BackendUnavailable(InferenceError):
    """The backend named in the configuration is unknown or its packages are missing."""


class ModelLoadError(InferenceError):
    """The model could not be built at all (not even the untrained fallback)."""


class FrameDecodeError(InferenceError):
    """A frame's payload is not a decodable JPEG (the frame is skipped and counted)."""


class InferenceFailed(InferenceError):
    """The model raised while running a batch (the batch is skipped and counted)."""


class ExportError(InferenceError):
    """Exporting a model to ONNX failed."""
