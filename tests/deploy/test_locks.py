"""Every environment's lock pins what its inputs allow, with hashes, and no lock contradicts
the contract's or the shared runtime's needs."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from inference.backends import ENVIRONMENTS
from tests.deploy.locks import LOCKS, REPO, TARGET, environments, norm, read_inputs, read_lock

ENVS = environments()
RUNTIME = read_inputs(REPO / "requirements" / "in" / "runtime.in")


def test_every_environment_has_a_lock_and_nothing_else_does() -> None:
    assert {p.stem for p in LOCKS.glob("*.txt")} == set(ENVS)


@pytest.mark.parametrize("backend", sorted(ENVIRONMENTS))
def test_every_backend_environment_is_locked(backend: str) -> None:
    name = ENVIRONMENTS[backend][0]
    assert name in ENVS, f"add [{name}] to requirements/environments.toml and run scripts/lock {name}"


@pytest.mark.parametrize("name", sorted(ENVS))
def test_lock_pins_every_direct_requirement_within_its_specifier(name: str) -> None:
    lock = read_lock(LOCKS / f"{name}.txt")
    assert lock, f"{name}: empty lock"
    for path in ENVS[name]["inputs"]:
        for req in read_inputs(REPO / path):
            if req.marker is not None and not req.marker.evaluate(TARGET):
                continue
            pin = lock.get(norm(req.name))
            assert pin is not None, f"{name}: {req} (from {path}) is not in the lock: run scripts/lock {name}"
            assert req.specifier.contains(pin.version, prereleases=True), (
                f"{name}: lock pins {req.name}=={pin.version}, {path} asks {req.specifier}: run scripts/lock {name}")


@pytest.mark.parametrize("name", sorted(ENVS))
def test_lock_is_made_by_the_script_hashed_and_without_dropped_packages(name: str) -> None:
    text = (LOCKS / f"{name}.txt").read_text()
    assert f"scripts/lock {name}\n" in text.split("\n\n", 1)[0] + "\n", "lock not made by scripts/lock"
    lock = read_lock(LOCKS / f"{name}.txt")
    for package, pin in lock.items():
        assert pin.hashes, f"{name}: {package} has no --hash"
    dropped = {norm(d) for d in ENVS[name].get("drop", [])}
    assert not dropped & set(lock), f"{name}: dropped packages are locked: {dropped & set(lock)}"


def test_every_environment_pins_the_shared_runtime_at_the_same_versions() -> None:
    locks = {name: read_lock(LOCKS / f"{name}.txt") for name in ENVS}
    shared = {norm(r.name) for r in RUNTIME} | {"pydantic-core"}
    for package in sorted(shared):
        versions = {name: lock[package].version for name, lock in locks.items() if package in lock}
        assert set(versions) == set(locks), f"{package} missing from {sorted(set(locks) - set(versions))}"
        assert len(set(versions.values())) == 1, f"{package} differs between environments: {versions}"


def _project(path: str) -> dict[str, object]:
    with (REPO / path).open("rb") as f:
        project: dict[str, object] = tomllib.load(f)["project"]
    return project


def test_contract_is_stdlib_only_and_every_lock_satisfies_the_packages_it_installs() -> None:
    # Every environment installs the contract and courtside itself with --no-deps (its lock is the
    # whole environment), so nothing else checks their declared needs against the lock.
    contract = _project("contracts/pyproject.toml")
    assert contract["dependencies"] == []
    for path in ("contracts/pyproject.toml", "pyproject.toml"):
        project = _project(path)
        assert SpecifierSet(str(project["requires-python"])).contains(TARGET["python_full_version"])
        for name in ENVS:
            lock = read_lock(LOCKS / f"{name}.txt")
            for dep in project.get("dependencies", []):  # type: ignore[attr-defined]
                req = Requirement(dep)
                pin = lock.get(norm(req.name))
                assert pin is not None and req.specifier.contains(pin.version), (
                    f"{name}: {path} needs {req}, the lock has {pin}")


def test_input_reader_refuses_options_and_follows_includes(tmp_path: Path) -> None:
    (tmp_path / "base.in").write_text("nats-py==2.16.0  # comment\n")
    (tmp_path / "env.in").write_text("-r base.in\nnumpy>=2,<2.5\n")
    assert [str(r) for r in read_inputs(tmp_path / "env.in")] == ["nats-py==2.16.0", "numpy<2.5,>=2"]
    (tmp_path / "bad.in").write_text("--index-url https://example.invalid/simple\n")
    with pytest.raises(ValueError, match="option lines"):
        read_inputs(tmp_path / "bad.in")


@pytest.mark.parametrize("name", sorted(ENVS))
def test_overrides_are_what_the_lock_pins(name: str) -> None:
    lock = read_lock(LOCKS / f"{name}.txt")
    for override in ENVS[name].get("override", []):
        req = Requirement(override)
        pin = lock.get(norm(req.name))
        assert pin is not None and req.specifier.contains(pin.version, prereleases=True), (
            f"{name}: override {override}, lock has {pin}: run scripts/lock {name}")
