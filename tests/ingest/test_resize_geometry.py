import pytest

from ingest.geometry import target_size


@pytest.mark.parametrize(("size", "max_side", "expected"), [
    ((1920, 1080), 1280, (1280, 720)),
    ((1280, 720), 1280, (1280, 720)),     # already small enough: unchanged
    ((640, 360), 1280, (640, 360)),       # never upscaled
    ((1080, 1920), 1280, (720, 1280)),    # portrait: the long side is the height
    ((641, 361), 1280, (640, 360)),       # odd sizes rounded down to even
    ((3840, 2160), 640, (640, 360)),
    ((1000, 3), 100, (100, 2)),           # at least 2 pixels
])
def test_target_size(size: tuple[int, int], max_side: int, expected: tuple[int, int]) -> None:
    assert target_size(*size, max_side) == expected


def test_target_size_keeps_long_side_within_limit_and_even() -> None:
    for w in range(64, 4000, 97):
        for h in range(64, 3000, 131):
            tw, th = target_size(w, h, 1000)
            assert max(tw, th) <= 1000
            assert tw % 2 == 0 and th % 2 == 0
            scale = min(1.0, 1000 / max(w, h))
            assert abs(tw - w * scale) <= 2 and abs(th - h * scale) <= 2  # aspect kept


def test_target_size_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        target_size(0, 10, 100)
