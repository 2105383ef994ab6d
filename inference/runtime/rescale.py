"""Map a runner's results from the decoded image's pixels to the published frame's.

Pure geometry. Needed when the frame was decoded at a reduced scale
(:func:`inference.runtime.decode.decode_frame`): runners report pixels of the
image they were given, annotations carry pixels of the published frame.
"""

from __future__ import annotations

from dataclasses import replace

from courtside_contracts.annotations import DetectedObject

from inference.backends.base import FrameResult


def _object(obj: DetectedObject, sx: float, sy: float, w: int, h: int) -> DetectedObject:
    x1, y1, x2, y2 = obj.box
    box = (min(x1 * sx, w), min(y1 * sy, h), min(x2 * sx, w), min(y2 * sy, h))
    keypoints = None if obj.keypoints is None else tuple((x * sx, y * sy, s) for x, y, s in obj.keypoints)
    return replace(obj, box=box, keypoints=keypoints)


def rescale_result(result: FrameResult, decoded_w: int, decoded_h: int, width: int, height: int) -> FrameResult:
    """``result`` (pixels of a ``decoded_w`` x ``decoded_h`` image) in pixels of ``width`` x ``height``.

    Boxes are clipped to the frame: the decoded image's last row or column can stand
    for a little less than ``scale`` source pixels (libjpeg rounds sizes up).
    """
    if (decoded_w, decoded_h) == (width, height):
        return result
    sx, sy = width / decoded_w, height / decoded_h
    ball = result.ball
    if ball is not None:
        ball = replace(ball, x=ball.x * sx, y=ball.y * sy)
    return FrameResult(objects=tuple(_object(o, sx, sy, width, height) for o in result.objects), ball=ball)
