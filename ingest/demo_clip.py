"""The demo source: render :mod:`ingest.demo_scene` once into a cached H.264 MP4.

``demo://padel`` plays ``~/.cache/courtside/demo/padel-v<version>-1280x720-30fps-10s.mp4``
as a looping file. The file name carries :data:`GENERATOR_VERSION`, so changing
the scene (bump the version) regenerates it; writes are atomic (temp file, then
rename) so concurrent processes never read half a clip.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import av
import av.error
import numpy as np

from ingest import demo_scene
from ingest.errors import SourceError, SourceNotFound

log = logging.getLogger(__name__)

#: Bump when demo_scene changes so cached clips are regenerated.
GENERATOR_VERSION = 1
DEMO_NAMES = frozenset({"padel"})


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "courtside" / "demo"


def write_h264(path: Path, frames: Iterable[np.ndarray], fps: int, *, keyint: int = 30,
               container_format: str | None = None, crf: int = 23) -> int:
    """Encode BGR frames with libx264 (one slice per frame, a keyframe every ``keyint`` frames).

    ``container_format`` "h264" writes a raw Annex-B stream (for RTSP test servers);
    None picks from the suffix (MP4). Returns the number of frames written.
    """
    count = 0
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "tune": "zerolatency", "crf": str(crf),
                          "g": str(keyint), "keyint_min": str(keyint), "sc_threshold": "0",
                          "slices": "1", "bf": "0"}
        for image in frames:
            if count == 0:
                stream.height, stream.width = image.shape[:2]
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = count
            container.mux(stream.encode(frame))
            count += 1
        container.mux(stream.encode(None))
    return count


def render_clip(path: Path, width: int = 1280, height: int = 720, fps: int = 30,
                seconds: float = 10.0) -> int:
    """Render the padel scene to ``path`` (MP4). Returns the number of frames."""
    frames = (demo_scene.render(i / fps, width, height) for i in range(round(seconds * fps)))
    return write_h264(path, frames, fps, keyint=fps)


def ensure_clip(cache_dir: Path | None = None, width: int = 1280, height: int = 720, fps: int = 30,
                seconds: float = 10.0) -> Path:
    """The cached clip, rendered on first use (a few seconds of CPU)."""
    folder = cache_dir or default_cache_dir()
    path = folder / f"padel-v{GENERATOR_VERSION}-{width}x{height}-{fps}fps-{seconds:g}s.mp4"
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    log.info("rendering the demo clip %s (first use only)", path)
    fd, tmp = tempfile.mkstemp(prefix=".padel-", suffix=".mp4", dir=folder)
    os.close(fd)
    try:
        render_clip(Path(tmp), width, height, fps, seconds)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def resolve_demo_url(url: str, cache_dir: Path | None = None) -> str:
    """The local file that plays ``demo://<name>``; raises :class:`SourceError` when it cannot."""
    name = urlsplit(url).netloc or urlsplit(url).path.strip("/")
    if name not in DEMO_NAMES:
        raise SourceNotFound(f"unknown demo source {name!r} (known: {', '.join(sorted(DEMO_NAMES))})")
    try:
        return str(ensure_clip(cache_dir))
    except (OSError, av.error.FFmpegError) as exc:
        raise SourceError(f"cannot prepare the demo clip: {type(exc).__name__}: {exc}") from None
