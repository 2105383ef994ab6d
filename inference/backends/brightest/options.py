"""``models[].options`` of the ``brightest`` backend."""

from __future__ import annotations

from pydantic import Field

from inference.backends.options import BackendOptions


class BrightestOptions(BackendOptions):
    """Options of :class:`inference.backends.brightest.runner.BrightestRunner`."""

    level: float = Field(0.5, gt=0, lt=1, description="a pixel belongs to the region when it is at least this "
                         "far from the frame's median brightness towards its peak (0..1)")
    min_contrast: float = Field(40.0, ge=1, le=255, description="peak minus median brightness (0..255) under "
                                "which a frame has no bright region")
