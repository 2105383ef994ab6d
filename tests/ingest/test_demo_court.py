from pathlib import Path

import av
import numpy as np
import pytest

from ingest import demo_clip, demo_scene
from ingest.errors import SourceNotFound


def test_scene_is_a_court_with_a_moving_ball_and_players() -> None:
    fa, fb = demo_scene.render(3.0), demo_scene.render(3.5)
    a = fa.image
    assert a.shape == (720, 1280, 3) and a.dtype == np.uint8
    # A blue court covers a good part of the picture.
    blue = (a[..., 0] > 120) & (a[..., 2] < 60)
    assert blue.mean() > 0.15

    # The ball is drawn where the simulator's ground truth says (yellow, or darkened where it is
    # seen through the net: nearer its colour than the empty court there), and it moves.
    empty = demo_scene.simulation().background.image

    def ball(frame: demo_scene.SimFrame) -> tuple[float, float]:
        (u, v), window = frame.truth.pixel, np.s_[round(frame.truth.pixel[1]) - 1:round(frame.truth.pixel[1]) + 2,
                                                  round(frame.truth.pixel[0]) - 1:round(frame.truth.pixel[0]) + 2]
        assert frame.truth.visibility == demo_scene.Visibility.VISIBLE
        colour = np.array(demo_scene.BALL)
        drawn = np.abs(frame.image[window].reshape(-1, 3).astype(int) - colour).sum(axis=1).min()
        before = np.abs(empty[window].reshape(-1, 3).astype(int) - colour).sum(axis=1).min()
        assert drawn < before - 60, "ball not drawn at its ground-truth pixel"
        return u, v
    assert ball(fa) != ball(fb)
    # In the server's hand at the start, it is the demo's yellow.
    first = demo_scene.render(0.0)
    u, v = first.truth.pixel
    patch = first.image[round(v) - 3:round(v) + 4, round(u) - 3:round(u) + 4]
    assert ((patch[..., 1] > 200) & (patch[..., 2] > 200) & (patch[..., 0] < 90)).sum() >= 3
    # Players move (running to the ball): a frame two seconds earlier differs outside the ball too.
    earlier = demo_scene.render(1.0).image
    assert (np.abs(a.astype(int) - earlier.astype(int)).sum(axis=2) > 30).mean() > 0.001


def test_scene_projection_puts_far_things_higher_and_smaller() -> None:
    cam = demo_scene.demo_camera(1280, 720)
    near, far = cam.project_point(0, 2, 0), cam.project_point(0, 18, 0)
    assert far[1] < near[1] and far[2] > near[2]
    near_w = cam.project_point(5, 2)[0] - cam.project_point(-5, 2)[0]
    far_w = cam.project_point(5, 18)[0] - cam.project_point(-5, 18)[0]
    assert far_w < near_w


def test_the_demo_is_a_rally_with_ground_truth() -> None:
    frames = list(demo_scene.frames(300, 320, 180))
    kinds = [e.kind for f in frames for e in f.truth.events]
    assert "rally_start" in kinds and kinds.count("hit") >= 3 and "bounce" in kinds


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
