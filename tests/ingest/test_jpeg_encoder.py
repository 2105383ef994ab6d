import av
import numpy as np
import pytest
import simplejpeg

from ingest.jpeg_encoder import JpegEncoder, yuv420_planes


def frame(width: int, height: int, fmt: str = "yuv420p") -> av.VideoFrame:
    img = np.zeros((height, width, 3), np.uint8)
    img[:, : width // 2] = (0, 0, 255)  # left half red (BGR)
    img[:, width // 2:] = (255, 0, 0)   # right half blue
    return av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format=fmt)


@pytest.mark.parametrize(("size", "max_side", "expected"), [
    ((1920, 1080), 1280, (1280, 720)),
    ((640, 360), 1280, (640, 360)),
    ((641, 361), 1280, (640, 360)),
])
def test_encode_resizes_and_reports_the_jpeg_size(size: tuple[int, int], max_side: int,
                                                 expected: tuple[int, int]) -> None:
    out = JpegEncoder(max_side, 80).encode(frame(*size), ts_ns=123, pts=0.5)
    assert (out.width, out.height) == expected
    decoded = simplejpeg.decode_jpeg(out.jpeg)
    assert decoded.shape == (expected[1], expected[0], 3)
    assert simplejpeg.decode_jpeg_header(out.jpeg)[3] == "420"
    assert (out.ts_ns, out.pts) == (123, 0.5)
    # Colours survive the plane-wise resize: left is red, right is blue (RGB output).
    left, right = decoded[expected[1] // 2, 5], decoded[expected[1] // 2, -5]
    assert left[0] > 200 and left[2] < 60
    assert right[2] > 200 and right[0] < 60


@pytest.mark.parametrize("fmt", ["yuvj420p", "yuv422p", "nv12", "rgb24"])
def test_other_pixel_formats_are_converted(fmt: str) -> None:
    out = JpegEncoder(1280, 80).encode(frame(320, 240, fmt), ts_ns=1, pts=None)
    assert simplejpeg.decode_jpeg(out.jpeg).shape == (240, 320, 3)


def test_planes_are_views_without_stride_padding() -> None:
    y, u, v = yuv420_planes(frame(100, 50))
    assert y.shape == (50, 100) and u.shape == (25, 50) and v.shape == (25, 50)
