"""inference/backends/mmpose/cached_wheel.sh: the per-machine cache of compiled wheels (mmcv,
xtcocotools) and the seed an image build copies them from instead of compiling.

Each case runs the helper in bash the way mmcv_wheel.sh does, with a "build" that writes a wheel
file into ``$work/out``; the cache is a temp dir (COURTSIDE_CACHE).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from tests.deploy.locks import REPO

HELPER = REPO / "inference" / "backends" / "mmpose" / "cached_wheel.sh"
KEY = "demo-1.0-numpy-2.4.6-cp311"
WHEEL = "demo-1.0-cp311-cp311-linux_x86_64.whl"
#: mmcv_wheel.sh's shape: open, or build into $work/out and store; prints the cache folder.
SCRIPT = f"""set -euo pipefail
source {HELPER}
cached_wheel_open {KEY} 'demo-1.0-*.whl' && exit 0
echo building >&2
mkdir -p "$work/out" && printf 'compiled' > "$work/out/{WHEEL}"
cached_wheel_store "built here"
"""


def _run(cache: Path, seed: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cache), "COURTSIDE_CACHE": str(cache), "COURTSIDE_PYTHON": sys.executable}
    if seed is not None:
        env["COURTSIDE_WHEEL_SEED"] = str(seed)
    return subprocess.run(["bash", "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60, check=False)


def _seed(root: Path, content: bytes, recorded: bytes | None = None) -> Path:
    folder = root / KEY
    folder.mkdir(parents=True)
    (folder / WHEEL).write_bytes(content)
    (folder / "SHA256").write_text(hashlib.sha256(recorded if recorded is not None else content).hexdigest() + "\n")
    return root


def test_builds_once_then_reuses_the_cached_wheel(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert first.returncode == 0 and "building" in first.stderr, first.stderr
    folder = Path(first.stdout.strip())
    assert folder == tmp_path / "wheels" / KEY
    assert (folder / "SHA256").read_text().strip() == hashlib.sha256(b"compiled").hexdigest()
    assert (folder / "BUILD").read_text().strip() == "built here"
    assert not list((tmp_path / "wheels").glob(".build-*")), "the scratch folder is removed"
    second = _run(tmp_path)
    assert second.returncode == 0 and "building" not in second.stderr
    assert second.stdout.strip() == str(folder)


def test_a_seeded_wheel_whose_hash_matches_is_copied_not_built(tmp_path: Path) -> None:
    seed = _seed(tmp_path / "seed", b"from the host")
    result = _run(tmp_path / "cache", seed)
    assert result.returncode == 0 and "building" not in result.stderr, result.stderr
    assert (Path(result.stdout.strip()) / WHEEL).read_bytes() == b"from the host"


def test_a_seeded_wheel_that_is_not_the_recorded_one_is_built_instead(tmp_path: Path) -> None:
    seed = _seed(tmp_path / "seed", b"tampered", recorded=b"what was built")
    result = _run(tmp_path / "cache", seed)
    assert result.returncode == 0 and "building" in result.stderr and "not the recorded one" in result.stderr
    assert (Path(result.stdout.strip()) / WHEEL).read_bytes() == b"compiled"


def test_a_failed_build_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    script = SCRIPT.replace("mkdir -p", "false && mkdir -p")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COURTSIDE_CACHE": str(tmp_path), "COURTSIDE_PYTHON": sys.executable}
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode != 0
    assert not (tmp_path / "wheels" / KEY).exists()
    assert not list((tmp_path / "wheels").glob(".build-*"))
