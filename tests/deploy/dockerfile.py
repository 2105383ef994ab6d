"""A small reader of the Dockerfile's stages (plain text in, plain data out) for the deploy tests."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (KEYWORD, arguments)

    def args(self, keyword: str) -> list[str]:
        return [a for k, a in self.instructions if k == keyword]


def read_stages(path: Path) -> dict[str, Stage]:
    """``name -> Stage`` in file order; continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(ln for ln in path.read_text().splitlines()
                                          if not ln.lstrip().startswith("#")))
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        keyword, _, rest = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].lower() == "as" else f"stage-{len(stages)}"
            current = stages[name] = Stage(name, parts[0])
        elif current is not None:
            current.instructions.append((keyword, rest.strip()))
    return stages


def chain(stages: dict[str, Stage], name: str) -> list[Stage]:
    """The stage and the stages it is built FROM, nearest first."""
    out = []
    while name in stages:
        out.append(stages[name])
        name = stages[name].base
    return out


def copy_from(stage: Stage) -> list[str]:
    """Stages named by ``COPY --from=`` in this stage."""
    return [m[1] for a in stage.args("COPY") for m in [re.search(r"--from=(\S+)", a)] if m]


def copy_sources(stage: Stage, build_args: dict[str, str]) -> list[str]:
    """Build-context paths this stage copies (not ``--from`` copies), ARGs substituted."""
    out = []
    for arguments in stage.args("COPY"):
        if "--from=" in arguments:
            continue
        words = [w for w in shlex.split(arguments) if not w.startswith("--")]
        for source in words[:-1]:
            out.append(re.sub(r"\$\{?(\w+)\}?", lambda m: build_args[m[1]], source))
    return out


def stage_args(stage: Stage) -> dict[str, str]:
    """``ARG NAME=default`` values declared in the stage."""
    return dict(a.split("=", 1) for a in stage.args("ARG") if "=" in a)


def final_targets(stages: dict[str, Stage]) -> list[str]:
    """Stages nothing else builds on or copies from: the images."""
    used = {s.base for s in stages.values()} | {f for s in stages.values() for f in copy_from(s)}
    return [n for n in stages if n not in used]
