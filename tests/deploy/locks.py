"""Reading requirements/environments.toml, the input files and the locks (plain data, no I/O
beyond reading files); shared by the deploy tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import tomllib
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
TABLE = REPO / "requirements" / "environments.toml"
LOCKS = REPO / "requirements" / "locks"
#: The platform every lock is made for (scripts/lock): CPython 3.11 on Linux x86-64.
TARGET = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
          "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
          "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def norm(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: tuple[str, ...]


def environments() -> dict[str, dict[str, list[str]]]:
    with TABLE.open("rb") as f:
        return tomllib.load(f)


def read_inputs(path: Path) -> list[Requirement]:
    """The direct requirements of an input file, following ``-r`` includes."""
    out: list[Requirement] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            out += read_inputs(path.parent / line[3:].strip())
        elif line.startswith("-"):
            raise ValueError(f"{path}: option lines are not allowed in an input file: {line}")
        else:
            out.append(Requirement(line))
    return out


def read_lock(path: Path) -> dict[str, Pin]:
    """``name -> Pin`` of a ``uv pip compile --generate-hashes`` output."""
    text = path.read_text().replace("\\\n", " ")
    pins: dict[str, Pin] = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)(.*)$", line)
        if match:
            hashes = tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})", match[3]))
            pins[norm(match[1])] = Pin(match[2], hashes)
    return pins
