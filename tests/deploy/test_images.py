"""The lean images, built for real with buildah from deploy/docker/Dockerfile, and one service run
inside its image against a real nats-server.

No Docker engine runs here and no registry can be pulled from: the base image is a debootstrap
root filesystem (deploy/buildah/base_image, cached under ~/.cache/courtside/rootfs); the build is
the registry's build with only BASE_IMAGE changed. Layers are cached in Courtside's own buildah
storage (deploy/buildah/storage.sh) so that a rebuild with unchanged locks is quick; the images
tagged here are removed at the end. Sizes are written to test-output/images.json (docs/deploy.md).
The backend images are tests/deploy/test_backend_images.py; the helpers, tests/deploy/oci.py.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nats
import pytest
from courtside_contracts.subjects import STATUS_PREFIX, frames_subject

from courtside.nats_server import EmbeddedNats
from tests.conftest import free_port
from tests.deploy import oci

LEAN = ("ingest", "fanout", "analytics", "inference-onnxruntime")
PREFIX = f"localhost/courtside-test-{os.getpid()}"
#: What each image must import: its service, its model runtime, nothing heavier.
IMPORTS = {
    "ingest": "import ingest.service, av, cv2, simplejpeg",
    "fanout": "import fanout.service, fanout.app, google.cloud.storage",
    "analytics": "import analytics.service, cv2, numpy",
    "inference-onnxruntime": "import inference.service, inference.backends.onnxrt.runner, onnxruntime, cv2",
}
#: Directories a volume is mounted on (compose): a fresh named volume takes the image's owner.
VOLUME_DIRS = {"ingest": "/var/lib/courtside/spool", "fanout": "/var/lib/courtside/archive"}
#: Packages a lean image must not contain.
ABSENT = ("torch", "ultralytics", "nvidia", "triton")

pytestmark = [
    pytest.mark.skipif(shutil.which("buildah") is None or shutil.which("debootstrap") is None,
                       reason="buildah/debootstrap missing: run scripts/bootstrap test"),
    pytest.mark.skipif(os.geteuid() != 0, reason="buildah --isolation chroot needs root"),
    pytest.mark.timeout(1800),
]


@pytest.fixture(scope="module")
def images() -> Iterator[dict[str, str]]:
    """Build the lean targets; yields target -> image name; removes the images and containers after."""
    started = time.monotonic()
    times: dict[str, float] = {}
    names = {t: f"{PREFIX}-{t}:latest" for t in LEAN}
    try:
        for target in LEAN:
            times[target] = oci.build(PREFIX, target)
        yield names
    finally:
        oci.remove(PREFIX, list(names.values()))
        oci.record("build_s", times)
        oci.record("total_s", round(time.monotonic() - started, 1))


@pytest.fixture
def container(images: dict[str, str], request: pytest.FixtureRequest) -> Iterator[str]:
    """A working container of the image of target ``request.param``."""
    name = f"{PREFIX.rsplit('/', 1)[1]}-{request.param}-{request.node.name.split('[')[0][-20:]}"
    with oci.working_container(images[request.param], name) as container:
        yield container


@pytest.mark.parametrize("container", LEAN, indirect=True)
def test_lean_image_is_non_root_healthchecked_without_compilers_or_torch(container: str, images: dict[str, str],
                                                                         request: pytest.FixtureRequest) -> None:
    target = request.node.callspec.params["container"]
    config = oci.image_config(images[target])
    assert config["User"] == "10001"
    assert "/healthz" in " ".join(config["Healthcheck"]["Test"])
    assert config["Entrypoint"][:3] == ["python", "-m", "courtside"]
    result = oci.run_in(container, "id", "-u")
    assert result.stdout.strip() == "10001", result.stderr
    assert not oci.build_tools(container), "build tools in the final image"
    imports = oci.run_in(container, "python", "-c", IMPORTS[target])
    assert imports.returncode == 0, imports.stderr
    site = oci.run_in(container, "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    packages = oci.run_in(container, "ls", site).stdout.split()
    assert not [p for p in packages if p.split("-")[0].split("_")[0] in ABSENT], packages
    if target in VOLUME_DIRS:
        owner = oci.run_in(container, "stat", "-c", "%u", VOLUME_DIRS[target])
        assert owner.stdout.strip() == "10001", f"{VOLUME_DIRS[target]}: {owner.stdout} {owner.stderr}"
    oci.record("size_mb", {target: oci.sizes_mb(container)})


def _ingest_config(nats_url: str, port: int) -> str:
    return (f"nats: {{url: '{nats_url}'}}\n"
            "cameras: [{id: court-1, url: 'demo://padel', fps: 5}]\n"
            f"ingest: {{host: 127.0.0.1, port: {port}}}\n")


def _analytics_config(nats_url: str, port: int) -> str:
    return (f"nats: {{url: '{nats_url}'}}\n"
            "cameras: [{id: court-1, url: 'demo://padel'}]\n"
            "models: [{name: yolo, cameras: [court-1]}, {name: ball, backend: ball, cameras: [court-1]}]\n"
            f"analytics: {{player_model: yolo, ball_model: ball, host: 127.0.0.1, port: {port}}}\n")


def _is_jpeg(data: bytes) -> bool:
    return data[:2] == b"\xff\xd8" and len(data) > 1000


def _is_analytics_heartbeat(data: bytes) -> bool:
    return bool(json.loads(data)["service"] == "analytics")


#: service -> (its configuration for a NATS URL and /healthz port, the subject it publishes on from
#: inside its image, what a message there must be)
SERVED: dict[str, tuple[Callable[[str, int], str], str, Callable[[bytes], bool]]] = {
    "ingest": (_ingest_config, frames_subject("court-1"), _is_jpeg),
    "analytics": (_analytics_config, f"{STATUS_PREFIX}.analytics.*", _is_analytics_heartbeat),
}


@pytest.mark.parametrize("container", list(SERVED), indirect=True)
async def test_service_runs_in_its_image_against_a_real_nats_server(container: str, tmp_path: Path,
                                                                     nats_server: EmbeddedNats,
                                                                     request: pytest.FixtureRequest) -> None:
    service = request.node.callspec.params["container"]
    make_config, subject, expected = SERVED[service]
    port = free_port()
    config = tmp_path / "courtside.yaml"
    config.write_text(make_config(nats_server.url, port))
    nc = await nats.connect(nats_server.url)
    published = await nc.subscribe(subject)
    try:
        async with oci.serving(container, config, service, port):
            msg = await published.next_msg(timeout=60)  # published from inside the image
            assert expected(msg.data), msg.data[:200]
    finally:
        await nc.close()
