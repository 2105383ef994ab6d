"""compose.yaml and the Dockerfile reference real files, real targets and real commands.

No Docker engine runs here, so the images are not built; what can be checked is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from courtside.config import load_config
from inference.backends import ENVIRONMENTS

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
SUBCOMMANDS = {"up", "ingest", "infer", "fanout", "nats", "check-config"}


def _dockerfile_stages(path: Path) -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {}
    current = ""
    for line in path.read_text().splitlines():
        match = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.I)
        if match:
            current = match.group(1)
            stages[current] = []
        elif current:
            stages[current].append(line)
    return stages


@pytest.mark.parametrize("name", [n for n, s in COMPOSE["services"].items() if "build" in s])
def test_compose_builds_reference_real_dockerfiles_and_targets(name: str) -> None:
    build = COMPOSE["services"][name]["build"]
    dockerfile = REPO / build["context"] / build["dockerfile"]
    assert dockerfile.is_file()
    stages = _dockerfile_stages(dockerfile)
    assert build["target"] in stages
    for line in stages[build["target"]] + stages["base"]:
        copy = re.match(r"COPY\s+(.+)\s+\S+$", line)
        if copy:
            for source in copy.group(1).split():
                assert (REPO / source).exists(), f"{name}: COPY source {source} does not exist"
        req = re.search(r"-r (requirements/\S+)", line)
        if req:
            assert (REPO / req.group(1)).is_file()


@pytest.mark.parametrize("name", [n for n, s in COMPOSE["services"].items() if "build" in s])
def test_compose_entrypoints_are_real_cli_commands_with_a_valid_config(name: str) -> None:
    entry = COMPOSE["services"][name]["entrypoint"]
    assert entry[0] == "courtside" and entry[1] == "--config"
    assert entry[3] in SUBCOMMANDS
    mounts = {m.split(":")[1]: m.split(":")[0] for m in COMPOSE["services"][name]["volumes"]}
    host_config = REPO / mounts[entry[2]]
    config = load_config(host_config, environ={})
    if entry[3] == "infer":
        config.model(entry[4])


def test_requirement_files_pin_what_the_main_environment_pins() -> None:
    def pins(path: Path) -> dict[str, str]:
        out = {}
        for line in path.read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9_.\[\]-]+)==(\S+)", line)
            if match:
                out[match.group(1).lower()] = match.group(2)
        return out

    main = pins(REPO / "requirements" / "main.txt")
    for path in (REPO / "requirements").glob("*.txt"):
        for name, version in pins(path).items():
            if name in main:
                assert main[name] == version, f"{path.name} pins {name}=={version}, main.txt {main[name]}"


@pytest.mark.parametrize("backend", sorted(ENVIRONMENTS))
def test_every_backend_environment_has_an_image_built_from_its_own_requirements(backend: str) -> None:
    stages = _dockerfile_stages(REPO / "deploy" / "docker" / "Dockerfile")
    stage = stages[f"inference-{backend}"]
    setup = REPO / ENVIRONMENTS[backend][1]
    requirements = setup.with_name("requirements.txt")
    assert setup.is_file() and requirements.is_file()
    copies = [re.match(r"COPY\s+(.+)\s+(\S+)$", line) for line in stage]
    sources = [src for m in copies if m for src in m.group(1).split()]
    assert str(requirements.relative_to(REPO)) in sources, f"inference-{backend} must install {requirements}"
    assert all((REPO / src).exists() for src in sources)
    assert any(line.startswith("ENTRYPOINT") and '"infer"' in line for line in stage)
