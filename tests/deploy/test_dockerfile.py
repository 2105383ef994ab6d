"""deploy/docker/Dockerfile: lint-clean, every image from its environment's lock, lean and safe.

The images themselves are built for real in tests/deploy/test_images.py; these checks are the
static ones, over every target that exists (other backends append theirs).
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inference.backends import ENVIRONMENTS
from tests.deploy.dockerfile import (
    Stage,
    chain,
    copy_from,
    copy_sources,
    final_targets,
    read_stages,
    stage_args,
)
from tests.deploy.locks import REPO, environments

DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
STAGES = read_stages(DOCKERFILE)
TARGETS = final_targets(STAGES)
HADOLINT = Path(sys.executable).parent / "hadolint"
#: Packages that make a final image a build machine (they may appear in builder stages only).
#: What every venv stage runs to make /opt/venv from its lock (deploy/docker/Dockerfile, lock-tools).
VENV_FROM_LOCK = "venv-from-lock"
BUILD_TOOLS = ("gcc", "g++", "build-essential", "make", "cmake", "clang", "ninja-build", "python3-dev", "libc6-dev")


def _dockerfiles() -> list[Path]:
    return sorted(p for p in REPO.rglob("*Dockerfile*")
                  if not any(part.startswith(".") or part in ("node_modules",) for part in p.relative_to(REPO).parts))


def test_services_and_backends_have_images() -> None:
    assert {"ingest", "fanout", "inference-onnxruntime", "inference-ultralytics"} <= set(TARGETS)


@pytest.mark.parametrize("path", _dockerfiles(), ids=lambda p: str(p.relative_to(REPO)))
def test_hadolint_is_clean(path: Path) -> None:
    result = subprocess.run([str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_venv_from_lock_installs_one_hashed_lock_and_checks_it() -> None:
    """The one command that makes /opt/venv (defined in lock-tools, run by every venv stage)."""
    runs = " ".join(STAGES["lock-tools"].args("RUN"))
    assert f"> /usr/local/bin/{VENV_FROM_LOCK}" in runs and "'python3 -m venv /opt/venv'" in runs
    assert """'pip install --require-hashes --no-deps -r "/src/requirements/locks/$1.txt" ${2:+-r "$2"}'""" in runs
    assert """'python /src/scripts/check_env "$1"'""" in runs and "'set -eu'" in runs


def _venv_stage(target: str) -> Stage:
    stages = [STAGES[f] for s in chain(STAGES, target) for f in copy_from(s) if f in STAGES]
    venvs = [s for s in stages if any(VENV_FROM_LOCK in a for a in s.args("RUN"))]
    assert len(venvs) == 1, f"{target}: copies /opt/venv from exactly one builder stage, not {[s.name for s in venvs]}"
    return venvs[0]


def _lock_of(stage: Stage) -> str:
    locks: list[str] = re.findall(rf"\b{VENV_FROM_LOCK} ([\w-]+)", " ".join(stage.args("RUN")))
    assert len(locks) == 1, f"{stage.name}: must run {VENV_FROM_LOCK} with exactly one lock"
    copies = " ".join(stage.args("COPY"))
    assert f"requirements/locks/{locks[0]}.txt" in copies, f"{stage.name}: must copy the lock it installs"
    return locks[0]


@pytest.mark.parametrize("target", TARGETS)
def test_every_image_installs_only_its_environments_lock(target: str) -> None:
    lock = _lock_of(_venv_stage(target))
    assert lock in environments() and lock != "main", f"{target}: {lock} is not a service environment"
    for stage in chain(STAGES, target):
        for run in stage.args("RUN"):
            assert not re.search(r"\bpip\b.*\binstall\b", run) or "/src/requirements/locks/" in run, (
                f"{target}: pip install outside the lock in stage {stage.name}: {run}")


@pytest.mark.parametrize("backend", sorted(ENVIRONMENTS))
def test_every_backend_environment_has_an_image_from_its_lock(backend: str) -> None:
    target = f"inference-{backend}"
    assert target in TARGETS, f"add a {target} target to {DOCKERFILE.relative_to(REPO)}"
    assert _lock_of(_venv_stage(target)) == ENVIRONMENTS[backend][0]


@pytest.mark.parametrize("target", TARGETS)
def test_final_images_are_non_root_with_a_healthcheck_and_no_build_tools(target: str) -> None:
    stages = chain(STAGES, target)
    users = [u for s in stages for u in s.args("USER")]
    assert users and users[0].split(":")[0] not in ("root", "0"), f"{target}: must end as a non-root USER"
    health = [h for s in stages for h in s.args("HEALTHCHECK")]
    assert health and "/healthz" in health[0] and "urllib" in health[0], f"{target}: HEALTHCHECK on /healthz"
    for stage in stages:
        for run in stage.args("RUN"):
            installs = re.findall(r"apt-get install[^&;|]*", run)
            for tool in BUILD_TOOLS:
                assert not any(re.search(rf"(?<![\w.-]){re.escape(tool)}(?![\w.-])", i) for i in installs), (
                    f"{target}: {tool} installed in final stage {stage.name}: build in a builder stage")
    envs = [e for s in stages for e in s.args("ENV")]
    assert any("HEALTHZ_PORT=" in e for e in envs)
    if target.startswith("inference"):
        assert any("YOLO_OFFLINE=1" in e for e in envs) and any("YOLO_AUTOINSTALL=false" in e for e in envs)
    entry = [e for s in stages for e in s.args("ENTRYPOINT")]
    assert entry and '"courtside"' in entry[0], f"{target}: ENTRYPOINT runs the courtside command"


def test_no_step_can_fail_silently() -> None:
    for stage in STAGES.values():
        for run in stage.args("RUN"):
            assert "|| true" not in run and "|| :" not in run and "; true" not in run, f"{stage.name}: {run}"


def _dockerignore_allows(path: str) -> bool:
    allowed = False
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/") or (pattern + "/").startswith(path + "/"):
            if negate or pattern == "*" or fnmatch.fnmatch(path, pattern):
                allowed = negate
    return allowed


@pytest.mark.parametrize("name", list(STAGES))
def test_copy_sources_exist_and_are_in_the_build_context(name: str) -> None:
    args = {k: v for s in STAGES.values() for k, v in stage_args(s).items()}
    for source in copy_sources(STAGES[name], args):
        path = source.rstrip("/")
        assert (REPO / path).exists(), f"{name}: COPY {source} does not exist"
        assert _dockerignore_allows(path), f"{name}: COPY {source} is excluded by .dockerignore"


def test_dockerignore_reader() -> None:
    assert _dockerignore_allows("requirements/locks")
    assert not _dockerignore_allows(".venv") and not _dockerignore_allows("tests")
