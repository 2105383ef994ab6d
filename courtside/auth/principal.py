"""Who is calling: the rights (scopes) and cameras a token grants. Pure data, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from courtside.auth.errors import Forbidden


class Scope(str, Enum):
    """One right. ``operator`` and ``write`` include ``read``; ``publish`` does not (a camera
    publisher has no business watching)."""

    READ = "read"          # live streams, camera and model lists
    WRITE = "write"        # save clips, exports, camera calibrations
    PUBLISH = "publish"    # push a camera over WHIP
    OPERATOR = "operator"  # /metrics, service state


#: The name standing for every scope, in configuration and in a token's ``scope`` claim.
ADMIN = "admin"
_IMPLIES = {Scope.OPERATOR: (Scope.READ,), Scope.WRITE: (Scope.READ,)}


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """Scope names (``admin`` = all) to the set they grant, implied rights added.

    Raises ValueError naming the first unknown name.
    """
    out: set[Scope] = set()
    for name in names:
        if name == ADMIN:
            out.update(Scope)
            continue
        try:
            scope = Scope(name)
        except ValueError:
            known = ", ".join([s.value for s in Scope] + [ADMIN])
            raise ValueError(f"unknown scope {name[:32]!r} (known: {known})") from None
        out.add(scope)
        out.update(_IMPLIES.get(scope, ()))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller: ``label`` names it in logs (never the token), ``key`` identifies its credential
    for per-token limits, ``cameras`` None means every camera."""

    label: str
    scopes: frozenset[Scope]
    cameras: frozenset[str] | None
    key: str = ""

    def can_see(self, camera: str) -> bool:
        return self.cameras is None or camera in self.cameras

    def visible(self, cameras: Iterable[str]) -> list[str]:
        """The subset of ``cameras`` this principal may use, order kept."""
        return [c for c in cameras if self.can_see(c)]

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    def require(self, scope: Scope, camera: str | None = None) -> None:
        """Raise :class:`Forbidden` unless the token holds ``scope`` (for ``camera``, when given)."""
        if scope not in self.scopes:
            held = ", ".join(sorted(s.value for s in self.scopes)) or "none"
            raise Forbidden(f"this needs the {scope.value} scope; the token has {held}")
        if camera is not None and not self.can_see(camera):
            raise Forbidden(f"the token is not granted camera {camera[:64]}")


#: The caller when auth is disabled (the embedded loopback default): every right, every camera.
ANONYMOUS = Principal("anonymous", frozenset(Scope), None, "anonymous")
