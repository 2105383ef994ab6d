"""Building, inspecting and running Courtside's images with buildah, for the image tests.

No Docker engine runs here and no registry can be pulled from: ``deploy/buildah/build`` builds the
Dockerfile's targets on a debootstrap base into Courtside's own buildah storage
(``deploy/buildah/storage.sh``); a container of an image runs commands with
``buildah run --isolation chroot`` (host network, so a service inside reaches a nats-server on
loopback and answers on a loopback port).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import OUTPUT
from tests.deploy.locks import REPO

BUILD = REPO / "deploy" / "buildah" / "build"
RECORD = OUTPUT / "images.json"


def storage() -> list[str]:
    """buildah's global options naming Courtside's storage (what deploy/buildah/* use)."""
    out = subprocess.run(["bash", "-c", f"source {REPO}/deploy/buildah/storage.sh; printf '%s\\n' \"${{storage[@]}}\""],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def buildah(*args: str, check: bool = True) -> str:
    result = subprocess.run(["buildah", *storage(), *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"buildah {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def build(prefix: str, target: str) -> float:
    """Build ``target`` as ``<prefix>-<target>:latest``; the wall time in seconds."""
    t0 = time.monotonic()
    result = subprocess.run([str(BUILD), prefix, target], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"build of {target} failed:\n{result.stderr[-4000:]}"
    return round(time.monotonic() - t0, 1)


def remove(prefix: str, images: list[str]) -> None:
    """Remove the working containers whose names start with ``prefix``'s last part, then ``images``."""
    for container in buildah("containers", "--format", "{{.ContainerName}}", check=False).splitlines():
        if container.startswith(prefix.rsplit("/", 1)[1]):
            buildah("rm", container, check=False)
    for name in images:
        buildah("rmi", name, check=False)


def record(key: str, value: object) -> None:
    """Set ``key`` of test-output/images.json to ``value``, merged into what is there when both are
    mappings (docs/deploy.md reads the file)."""
    OUTPUT.mkdir(exist_ok=True)
    data = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    if isinstance(value, dict) and isinstance(data.get(key), dict):
        data[key].update(value)
    else:
        data[key] = value
    RECORD.write_text(json.dumps(data, indent=2))


@contextmanager
def working_container(image: str, name: str) -> Iterator[str]:
    """A working container of ``image`` named ``name``, removed at exit."""
    buildah("from", "--name", name, image)
    try:
        yield name
    finally:
        buildah("rm", name, check=False)


def run_in(container: str, *cmd: str, volumes: tuple[str, ...] = (),
           timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    mounts = [a for v in volumes for a in ("--volume", v)]
    return subprocess.run(["buildah", *storage(), "run", "--isolation", "chroot", *mounts, container, "--", *cmd],
                          capture_output=True, text=True, check=False, timeout=timeout_s)


def build_tools(container: str) -> str:
    """The compilers, linkers and make found on the container's PATH (empty when none: a final image)."""
    return run_in(container, "sh", "-c", "for t in gcc cc g++ c++ make ld; do command -v $t; done; exit 0").stdout.strip()


def image_config(image: str) -> dict[str, Any]:
    """The Docker config of ``image`` (User, Entrypoint, Cmd, Healthcheck, Env ...)."""
    config: dict[str, Any] = json.loads(buildah("inspect", "--type", "image", image))["Docker"]["config"]
    return config


def sizes_mb(container: str) -> dict[str, int]:
    """``du -sm`` inside the container of the venv, the code and the whole root filesystem."""
    lines = run_in(container, "du", "-sm", "/opt/venv", "/app", "/").stdout.split("\n")
    return {line.split()[1]: int(line.split()[0]) for line in lines if line.strip()}


@asynccontextmanager
async def serving(container: str, config: Path, service: str, port: int, *args: str,
                  budget_s: float = 120) -> AsyncIterator[None]:
    """Run ``service`` (and ``args``: a model's name for ``infer``) with the image's own command
    line, ``config`` mounted read-only where compose and Kubernetes put it; enters once its
    /healthz on ``port`` says ok, terminates it on exit.

    The body runs inside the same ``budget_s`` as the wait for health.
    """
    proc = await asyncio.create_subprocess_exec(
        "buildah", *storage(), "run", "--isolation", "chroot",
        "--volume", f"{config}:/etc/courtside/courtside.yaml:ro", container, "--",
        "python", "-m", "courtside", "--config", "/etc/courtside/courtside.yaml", service, *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        async with asyncio.timeout(budget_s):
            while True:
                assert proc.returncode is None, (await proc.stdout.read()).decode() if proc.stdout else ""
                try:
                    body = await asyncio.to_thread(get, f"http://127.0.0.1:{port}/healthz")
                    break
                except OSError:
                    await asyncio.sleep(0.5)
            assert json.loads(body)["status"] == "ok"
            yield
    finally:
        proc.terminate()
        await proc.wait()


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
        return response.read()  # type: ignore[no-any-return]
