"""Reading compose.yaml as Compose would: ``${VAR}`` / ``${VAR:-default}`` interpolation and the
names a service uses (plain data; no Docker needed)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(value: Any, environ: Mapping[str, str]) -> Any:
    """Substitute ``${VAR}`` and ``${VAR:-default}`` everywhere in ``value``; an unset variable
    without a default is an error (Compose would substitute an empty string and warn)."""
    if isinstance(value, str):
        def sub(match: re.Match[str]) -> str:
            if match[1] in environ:
                return environ[match[1]]
            if match[2] is None:
                raise KeyError(f"${{{match[1]}}} is not set and has no default")
            return match[2]
        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [interpolate(v, environ) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, environ) for k, v in value.items()}
    return value


def variables(value: Any) -> set[str]:
    """Names of every ``${VAR}`` in ``value``."""
    if isinstance(value, str):
        return {m[1] for m in _VAR.finditer(value)}
    if isinstance(value, list):
        return set().union(*(variables(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(variables(v) for v in value.values())) if value else set()
    return set()


def bind_mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """``container path -> host source`` of a service's short-syntax volumes (named ones excluded)."""
    out = {}
    for spec in service.get("volumes", []):
        source, target = spec.split(":")[:2]
        if source.startswith((".", "/")):
            out[target] = source
    return out


def named_volumes(service: Mapping[str, Any]) -> list[str]:
    return [spec.split(":")[0] for spec in service.get("volumes", [])
            if not spec.split(":")[0].startswith((".", "/"))]
