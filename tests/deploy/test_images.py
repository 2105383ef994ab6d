"""The lean images, built for real with buildah from deploy/docker/Dockerfile, and one service run
inside its image against a real nats-server.

No Docker engine runs here and no registry can be pulled from: the base image is a debootstrap
root filesystem (deploy/buildah/base_image, cached under ~/.cache/courtside/rootfs); the build is
the registry's build with only BASE_IMAGE changed. Layers are cached in Courtside's own buildah
storage (deploy/buildah/storage.sh) so that a rebuild with unchanged locks is quick; the images
tagged here are removed at the end. Sizes are written to test-output/images.json (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import nats
import pytest
from courtside_contracts.subjects import STATUS_PREFIX, frames_subject

from courtside.nats_server import EmbeddedNats
from tests.conftest import OUTPUT, free_port
from tests.deploy.locks import REPO

LEAN = ("ingest", "fanout", "analytics", "inference-onnxruntime")
BUILD = REPO / "deploy" / "buildah" / "build"
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


def _storage() -> list[str]:
    out = subprocess.run(["bash", "-c", f"source {REPO}/deploy/buildah/storage.sh; printf '%s\\n' \"${{storage[@]}}\""],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def buildah(*args: str, check: bool = True) -> str:
    result = subprocess.run(["buildah", *_storage(), *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"buildah {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


@pytest.fixture(scope="module")
def images() -> Iterator[dict[str, str]]:
    """Build the lean targets; yields target -> image name; removes the images and containers after."""
    started = time.monotonic()
    times: dict[str, float] = {}
    names = {t: f"{PREFIX}-{t}:latest" for t in LEAN}
    try:
        for target in LEAN:
            t0 = time.monotonic()
            result = subprocess.run([str(BUILD), PREFIX, target], capture_output=True, text=True, check=False)
            assert result.returncode == 0, f"build of {target} failed:\n{result.stderr[-4000:]}"
            times[target] = round(time.monotonic() - t0, 1)
        yield names
    finally:
        for container in buildah("containers", "--format", "{{.ContainerName}}", check=False).splitlines():
            if container.startswith(PREFIX.rsplit("/", 1)[1]):
                buildah("rm", container, check=False)
        for name in names.values():
            buildah("rmi", name, check=False)
        OUTPUT.mkdir(exist_ok=True)
        record = OUTPUT / "images.json"
        data = json.loads(record.read_text()) if record.exists() else {}
        data.update({"build_s": times, "total_s": round(time.monotonic() - started, 1)})
        record.write_text(json.dumps(data, indent=2))


def _record(key: str, value: object) -> None:
    record = OUTPUT / "images.json"
    OUTPUT.mkdir(exist_ok=True)
    data = json.loads(record.read_text()) if record.exists() else {}
    data.setdefault(key, {}).update(value if isinstance(value, dict) else {"value": value})
    record.write_text(json.dumps(data, indent=2))


@pytest.fixture
def container(images: dict[str, str], request: pytest.FixtureRequest) -> Iterator[str]:
    """A working container of the image of target ``request.param``."""
    name = f"{PREFIX.rsplit('/', 1)[1]}-{request.param}-{request.node.name.split('[')[0][-20:]}"
    buildah("from", "--name", name, images[request.param])
    try:
        yield name
    finally:
        buildah("rm", name, check=False)


def run_in(container: str, *cmd: str, volumes: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    mounts = [a for v in volumes for a in ("--volume", v)]
    return subprocess.run(["buildah", *_storage(), "run", "--isolation", "chroot", *mounts, container, "--", *cmd],
                          capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.parametrize("container", LEAN, indirect=True)
def test_lean_image_is_non_root_healthchecked_without_compilers_or_torch(container: str, images: dict[str, str],
                                                                         request: pytest.FixtureRequest) -> None:
    target = request.node.callspec.params["container"]
    config = json.loads(buildah("inspect", "--type", "image", images[target]))["Docker"]["config"]
    assert config["User"] == "10001"
    assert "/healthz" in " ".join(config["Healthcheck"]["Test"])
    assert config["Entrypoint"][:3] == ["python", "-m", "courtside"]
    result = run_in(container, "id", "-u")
    assert result.stdout.strip() == "10001", result.stderr
    check = run_in(container, "sh", "-c", "for t in gcc cc g++ c++ make ld; do command -v $t && exit 1; done; exit 0")
    assert check.returncode == 0, f"build tools in the final image: {check.stdout}"
    imports = run_in(container, "python", "-c", IMPORTS[target])
    assert imports.returncode == 0, imports.stderr
    site = run_in(container, "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    packages = run_in(container, "ls", site).stdout.split()
    assert not [p for p in packages if p.split("-")[0].split("_")[0] in ABSENT], packages
    if target in VOLUME_DIRS:
        owner = run_in(container, "stat", "-c", "%u", VOLUME_DIRS[target])
        assert owner.stdout.strip() == "10001", f"{VOLUME_DIRS[target]}: {owner.stdout} {owner.stderr}"
    sizes = run_in(container, "du", "-sm", "/opt/venv", "/app", "/").stdout.split("\n")
    _record("size_mb", {target: {line.split()[1]: int(line.split()[0]) for line in sizes if line.strip()}})


@asynccontextmanager
async def _serving(container: str, config: Path, service: str, port: int) -> AsyncIterator[None]:
    """Run ``service`` with the image's own entrypoint, ``config`` mounted read-only where compose and
    Kubernetes put it; enters once its /healthz on ``port`` says ok, terminates it on exit.

    The body runs inside the same 120 s budget as the wait for health.
    """
    proc = await asyncio.create_subprocess_exec(
        "buildah", *_storage(), "run", "--isolation", "chroot",
        "--volume", f"{config}:/etc/courtside/courtside.yaml:ro", container, "--",
        "python", "-m", "courtside", "--config", "/etc/courtside/courtside.yaml", service,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        async with asyncio.timeout(120):
            while True:
                assert proc.returncode is None, (await proc.stdout.read()).decode() if proc.stdout else ""
                try:
                    body = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/healthz")
                    break
                except OSError:
                    await asyncio.sleep(0.5)
            assert json.loads(body)["status"] == "ok"
            yield
    finally:
        proc.terminate()
        await proc.wait()


@pytest.mark.parametrize("container", ["ingest"], indirect=True)
async def test_ingest_runs_in_its_image_against_a_real_nats_server(container: str, tmp_path: Path,
                                                                    nats_server: EmbeddedNats) -> None:
    port = free_port()
    config = tmp_path / "courtside.yaml"
    config.write_text(f"nats: {{url: '{nats_server.url}'}}\n"
                      "cameras: [{id: court-1, url: 'demo://padel', fps: 5}]\n"
                      f"ingest: {{host: 127.0.0.1, port: {port}}}\n")
    nc = await nats.connect(nats_server.url)
    frames = await nc.subscribe(frames_subject("court-1"))
    try:
        async with _serving(container, config, "ingest", port):
            frame = await frames.next_msg(timeout=60)  # a JPEG published from inside the image
            assert frame.data[:2] == b"\xff\xd8" and len(frame.data) > 1000
    finally:
        await nc.close()


@pytest.mark.parametrize("container", ["analytics"], indirect=True)
async def test_analytics_runs_in_its_image_against_a_real_nats_server(container: str, tmp_path: Path,
                                                                       nats_server: EmbeddedNats) -> None:
    port = free_port()
    config = tmp_path / "courtside.yaml"
    config.write_text(f"nats: {{url: '{nats_server.url}'}}\n"
                      "cameras: [{id: court-1, url: 'demo://padel'}]\n"
                      "models: [{name: yolo, cameras: [court-1]}, {name: ball, backend: ball, cameras: [court-1]}]\n"
                      f"analytics: {{player_model: yolo, ball_model: ball, host: 127.0.0.1, port: {port}}}\n")
    nc = await nats.connect(nats_server.url)
    heartbeats = await nc.subscribe(f"{STATUS_PREFIX}.analytics.*")
    try:
        async with _serving(container, config, "analytics", port):
            beat = await heartbeats.next_msg(timeout=60)  # published from inside the image
            assert json.loads(beat.data)["service"] == "analytics"
    finally:
        await nc.close()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
        return response.read()  # type: ignore[no-any-return]
