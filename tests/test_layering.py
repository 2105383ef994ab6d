"""Imports point one way: contract <- runtime kit <- services <- composition root.

An AST check over every ``.py`` file of the repository (tests and bench exempt), so that a
new import against the direction fails here with the file, the line and the rule:

- ``courtside_contracts`` imports nothing of ours;
- the library half of ``courtside`` (config, natsio, logs, nats_server, process, kit) imports
  only the contract and itself;
- a service (``ingest``, ``inference``, ``fanout``, ``analytics``) imports the contract, the library half and
  itself, never another service and never the composition root;
- only the composition root (``courtside/app/``, with the ``python -m courtside`` shim
  ``courtside/__main__.py``) imports services;
- the Python SDK (``courtside_client``) imports only the contract.

Static imports, imports inside functions and ``importlib.import_module("<constant>")`` count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CONTRACT = "contract"
KIT = "kit"
APP = "app"
SDK = "sdk"
SERVICES = ("ingest", "inference", "fanout", "analytics")

#: The top-level packages of this repository, by import name.
OURS = frozenset({"courtside_contracts", "courtside", "courtside_client", *SERVICES, "bench", "tests"})

#: Folders whose code is exempt, or not ours (environments, caches, npm packages).
SKIPPED_DIRS = frozenset({".git", ".venv", ".venvs", "node_modules", "__pycache__", "tests", "bench",
                          "build", "dist", ".mypy_cache", ".ruff_cache", "test-output", "bench-output"})


def module_layer(module: str) -> str | None:
    """The layer of an imported module name; None for modules not of this repository."""
    parts = module.split(".")
    top = parts[0]
    if top not in OURS:
        return None
    if top == "courtside_contracts":
        return CONTRACT
    if top == "courtside_client":
        return SDK
    if top == "courtside":
        if len(parts) > 1 and parts[1] in ("app", "__main__"):
            return APP
        return KIT
    return top  # a service, bench or tests


def file_layer(path: Path) -> str | None:
    """The layer of a source file (relative to the repository root); None for exempt files."""
    parts = path.parts
    if parts[:2] == ("contracts", "courtside_contracts"):
        return CONTRACT
    if parts[:3] == ("sdk", "python", "courtside_client"):
        return SDK
    if parts[0] == "courtside":
        return APP if parts[1:2] == ("app",) or parts[1:] == ("__main__.py",) else KIT
    if parts[0] in SERVICES:
        return parts[0]
    return None


#: Which layers each layer may import (itself included).
ALLOWED: dict[str, frozenset[str]] = {
    CONTRACT: frozenset({CONTRACT}),
    KIT: frozenset({CONTRACT, KIT}),
    SDK: frozenset({CONTRACT, SDK}),
    APP: frozenset({CONTRACT, KIT, APP, *SERVICES}),
    **{service: frozenset({CONTRACT, KIT, service}) for service in SERVICES},
}


@dataclass(frozen=True, slots=True)
class Violation:
    path: str
    line: int
    layer: str
    imported: str

    def __str__(self) -> str:
        allowed = ", ".join(sorted(ALLOWED[self.layer]))
        return f"{self.path}:{self.line}: {self.layer} imports {self.imported} (may import only {allowed})"


def imported_modules(source: str, filename: str = "<source>") -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``; relative imports stay inside
    their package and are skipped."""
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield node.lineno, first.value


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in ("import_module", "__import__")


def violations_in(root: Path, path: Path) -> list[Violation]:
    """The imports of one file that go against the direction (``path`` relative to ``root``)."""
    layer = file_layer(path)
    if layer is None:
        return []
    found = []
    for line, module in imported_modules((root / path).read_text(encoding="utf-8"), str(path)):
        target = module_layer(module)
        if target is not None and target not in ALLOWED[layer]:
            found.append(Violation(str(path), line, layer, module))
    return found


def source_files(root: Path) -> Iterator[Path]:
    """Every ``.py`` file under ``root`` outside the skipped folders, relative to ``root``."""
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if not SKIPPED_DIRS.intersection(rel.parts[:-1]):
            yield rel


def test_every_import_points_down_the_layers() -> None:
    files = list(source_files(REPO))
    layers = {file_layer(f) for f in files}
    assert {CONTRACT, KIT, APP, SDK, *SERVICES} <= layers, "the walk missed a layer"
    found = [v for f in files for v in violations_in(REPO, f)]
    assert not found, "imports against the layering:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize(("path", "source", "bad"), [
    ("contracts/courtside_contracts/x.py", "from courtside.config import C", "courtside.config"),
    ("courtside/natsio.py", "def f():\n    from inference.backends import b", "inference.backends"),
    ("courtside/kit/http.py", "import fanout.app", "fanout.app"),
    ("courtside/config.py", "import importlib\nimportlib.import_module('ingest.service')", "ingest.service"),
    ("courtside/logs.py", "from courtside.app import cli", "courtside.app"),
    ("fanout/app.py", "from ingest.errors import SourceError", "ingest.errors"),
    ("ingest/service.py", "from courtside.app.cli import main", "courtside.app.cli"),
    ("sdk/python/courtside_client/client.py", "from courtside.config import C", "courtside.config"),
    ("inference/runtime/x.py", "import courtside_client", "courtside_client"),
])
def test_the_check_catches_each_kind_of_violation(tmp_path: Path, path: str, source: str, bad: str) -> None:
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(source)
    found = violations_in(tmp_path, Path(path))
    assert [v.imported for v in found] == [bad]


@pytest.mark.parametrize(("path", "source"), [
    ("courtside/app/cli.py", "from inference.export import main\nimport fanout.service"),
    ("courtside/__main__.py", "from courtside.app.cli import main"),
    ("fanout/app.py", "from courtside.config import C\nfrom courtside_contracts.ws import x\nfrom . import y"),
    ("courtside/kit/lifecycle.py", "from courtside.natsio import connect\nimport nats"),
    ("sdk/python/courtside_client/client.py", "from courtside_contracts.ws import x\nimport websockets"),
])
def test_imports_down_the_layers_pass(tmp_path: Path, path: str, source: str) -> None:
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(source)
    assert violations_in(tmp_path, Path(path)) == []
