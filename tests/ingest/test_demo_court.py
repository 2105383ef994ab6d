from pathlib import Path

import av
import numpy as np
import pytest

from ingest import demo_clip, demo_scene
from ingest.errors import SourceNotFound


def test_scene_is_a_court_with_a_moving_ball_and_players() -> None:
    a, b = demo_scene.render(1.0), demo_scene.render(1.5)
    assert a.shape == (720, 1280, 3) and a.dtype == np.uint8
    # A blue court covers a good part of the picture.
    blue = (a[..., 0] > 120) & (a[..., 2] < 60)
    assert blue.mean() > 0.15
    # The yellow ball is visible somewhere and moves between frames.
    def ball(img: np.ndarray) -> tuple[float, float]:
        mask = (img[..., 1] > 200) & (img[..., 2] > 200) & (img[..., 0] < 90)
        ys, xs = np.nonzero(mask)
        assert len(xs) > 5, "ball not visible"
        return float(xs.mean()), float(ys.mean())
    assert ball(a) != ball(b)
    # Players move: the frames differ outside the ball too.
    assert (np.abs(a.astype(int) - b.astype(int)).sum(axis=2) > 30).mean() > 0.001


def test_scene_projection_puts_far_things_higher_and_smaller() -> None:
    cam = demo_scene.Camera(1280, 720)
    near, far = cam.project(0, 2, 0), cam.project(0, 18, 0)
    assert far[1] < near[1] and far[2] > near[2]
    near_w = cam.project(5, 2)[0] - cam.project(-5, 2)[0]
    far_w = cam.project(5, 18)[0] - cam.project(-5, 18)[0]
    assert far_w < near_w


def test_generated_clip_decodes(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    assert demo_clip.render_clip(path, width=320, height=180, fps=10, seconds=1.0) == 10
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        assert stream.codec_context.name == "h264"
    assert len(frames) == 10
    assert (frames[0].width, frames[0].height) == (320, 180)
    assert frames[0].key_frame


def test_ensure_clip_caches_by_version(tmp_path: Path) -> None:
    first = demo_clip.ensure_clip(tmp_path, width=160, height=90, fps=10, seconds=0.5)
    mtime = first.stat().st_mtime_ns
    again = demo_clip.ensure_clip(tmp_path, width=160, height=90, fps=10, seconds=0.5)
    assert again == first and again.stat().st_mtime_ns == mtime
    assert f"v{demo_clip.GENERATOR_VERSION}" in first.name
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temp files left


def test_unknown_demo_name_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound, match="unknown demo source 'tennis'"):
        demo_clip.resolve_demo_url("demo://tennis", tmp_path)


@pytest.mark.parametrize(("name", "size"), [("bikes", (640, 272)), ("carphone", (176, 144))])
def test_real_clips_resolve_to_packaged_footage(tmp_path: Path, name: str, size: tuple[int, int]) -> None:
    path = demo_clip.resolve_demo_url(f"demo://{name}", tmp_path)
    with av.open(path) as container:
        stream = container.streams.video[0]
        first = next(container.decode(stream))
        assert stream.codec_context.name == "h264"
    assert (first.width, first.height) == size
    assert list(tmp_path.iterdir()) == []  # played in place, nothing rendered or copied
