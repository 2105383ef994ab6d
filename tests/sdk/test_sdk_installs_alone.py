"""The Python SDK installs alone: a clean venv with only ``sdk/python`` and the contract
distribution it needs, none of the server importable, streaming annotations from a live fanout.

The two distributions are built from copies of their folders (the checkout stays clean) into
wheels and installed with pip into a venv made without pip (pip runs from this environment with
``--python``): what a user's ``pip install`` of the two puts in their application, and nothing more.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from courtside.config import CourtsideConfig
from fanout.limits import Limits
from fanout.testing import make_annotation, publish_annotation, running_fanout

REPO = Path(__file__).resolve().parents[2]
SERVER_PACKAGES = ("courtside", "ingest", "inference", "fanout")
#: A user's program: the SDK's documented loop, printing what it gets as JSON lines.
USER_APP = textwrap.dedent("""
    import asyncio, json, sys
    from courtside_client import AnnotationMessage, CourtsideClient, Subscribed

    async def main(url):
        async with CourtsideClient(url) as client:
            async for msg in client.subscribe(cameras=["c1"], models=["yolo"]):
                if isinstance(msg, Subscribed):
                    print(json.dumps({"subscribed": list(msg.cameras)}), flush=True)
                elif isinstance(msg, AnnotationMessage):
                    print(json.dumps({"seq": msg.seq, "labels": [o.label for o in msg.annotation.objects]}),
                          flush=True)
                    if msg.seq >= 3:
                        return

    asyncio.run(main(sys.argv[1]))
""")
PROBE = textwrap.dedent("""
    import importlib.util, json, sys
    import courtside_client, courtside_contracts
    print(json.dumps({
        "server": {n: importlib.util.find_spec(n) is not None for n in sys.argv[1:]},
        "files": [courtside_client.__file__, courtside_contracts.__file__],
    }))
""")


def _run(args: list[str], cwd: Path, timeout_s: float = 120) -> str:
    result = subprocess.run(args, cwd=cwd, env=_clean_env(), capture_output=True, text=True,
                            timeout=timeout_s, check=False)
    assert result.returncode == 0, f"{args[:4]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result.stdout


def _clean_env() -> dict[str, str]:
    """This environment minus whatever would put the checkout or our venv on ``sys.path``."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def _copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist"))
    return dest


@pytest.fixture(scope="module")
def sdk_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv holding only the SDK, the contract and their third-party dependencies."""
    root = tmp_path_factory.mktemp("sdk-alone")
    sources = [_copy(REPO / "contracts", root / "src" / "contracts"), _copy(REPO / "sdk" / "python", root / "src" / "sdk")]
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root)
    # Build with this environment's setuptools when it is new enough for the PEP 639 license
    # field (setuptools >= 77); else let pip fetch one into an isolated build environment.
    no_isolation = ["--no-build-isolation"] if int(version("setuptools").split(".")[0]) >= 77 else []
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *no_isolation, "-w", str(root / "wheels"),
          *map(str, sources)], root)
    wheels = sorted(str(p) for p in (root / "wheels").glob("*.whl"))
    assert len(wheels) == 2, wheels
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
          "--disable-pip-version-check", *wheels], root)
    yield venv


def test_no_server_package_is_importable_in_the_sdk_venv(sdk_venv: Path) -> None:
    out = json.loads(_run([str(sdk_venv / "bin" / "python"), "-c", PROBE, *SERVER_PACKAGES], sdk_venv))
    assert out["server"] == dict.fromkeys(SERVER_PACKAGES, False)
    assert all(f.startswith(str(sdk_venv)) for f in out["files"]), out["files"]  # installed, not the checkout
    assert "--count" in _run([str(sdk_venv / "bin" / "courtside-client"), "--help"], sdk_venv)


async def test_the_installed_sdk_streams_from_a_live_fanout(sdk_venv: Path, nats_server: Any, nc: NATS) -> None:
    config = CourtsideConfig.model_validate({"fanout": {"port": 0}})
    limits = Limits(status_interval_s=0.5, shutdown_timeout_s=2)

    async def feed() -> None:
        seq = 0
        while True:
            seq += 1
            await publish_annotation(nc, make_annotation("c1", "yolo", seq))
            await publish_annotation(nc, make_annotation("c2", "yolo", seq))  # not subscribed: never seen
            await asyncio.sleep(1 / 30)

    app = sdk_venv.parent / "user_app.py"
    app.write_text(USER_APP)
    async with running_fanout(config, nats_server.url, limits=limits) as fanout:
        feeder = asyncio.create_task(feed())
        try:
            proc = await asyncio.create_subprocess_exec(
                str(sdk_venv / "bin" / "python"), str(app), fanout.ws_url, cwd=sdk_venv.parent, env=_clean_env(),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            feeder.cancel()
    assert proc.returncode == 0, err.decode()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert lines[0] == {"subscribed": ["c1"]}
    assert len(lines) >= 2 and all(line["labels"] == ["person"] for line in lines[1:])
    assert lines[-1]["seq"] >= 3
