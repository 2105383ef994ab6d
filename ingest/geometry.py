"""Output frame geometry: the size a frame is resized to before JPEG encoding."""

from __future__ import annotations


def target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) in pixels with the long side <= ``max_side``, aspect kept, both even.

    Never upscales. Dimensions are rounded down to even numbers (at least 2) because
    the JPEG is encoded straight from 4:2:0 planes, whose chroma is half-size.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    if max_side < 2:
        raise ValueError(f"max_side must be >= 2, got {max_side}")
    scale = min(1.0, max_side / max(width, height))
    out_w = max(2, round(width * scale) // 2 * 2)
    out_h = max(2, round(height * scale) // 2 * 2)
    return min(out_w, max_side // 2 * 2), min(out_h, max_side // 2 * 2)
