"""What one client receives: the resolved subscription and its checks (pure).

:func:`resolve` turns a protocol ``subscribe`` op and the caller's grant into a
:class:`Subscription`; asking for a camera outside the grant is refused rather
than silently narrowed, so a misconfigured client sees why it gets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from courtside_contracts.ws import Subscribe

from fanout.auth import Principal
from fanout.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Subscription:
    """``cameras``/``models`` None = all (for cameras: only for a principal that sees all)."""

    cameras: frozenset[str] | None
    models: frozenset[str] | None
    video: bool

    def wants_annotation(self, camera: str, model: str) -> bool:
        return ((self.cameras is None or camera in self.cameras)
                and (self.models is None or model in self.models))

    def wants_video(self, camera: str) -> bool:
        return self.video and (self.cameras is None or camera in self.cameras)

    def describe(self) -> dict[str, object]:
        """The fields of the ``subscribed`` reply (sorted lists, None = all)."""
        return {
            "cameras": None if self.cameras is None else sorted(self.cameras),
            "models": None if self.models is None else sorted(self.models),
            "video": "jpeg" if self.video else "none",
        }


#: Before the first subscribe a client receives nothing.
NOTHING = Subscription(frozenset(), frozenset(), False)


def resolve(request: Subscribe, principal: Principal) -> Subscription:
    """Apply the grant: omitted cameras = every camera the principal may see."""
    if request.cameras is None:
        cameras = principal.cameras
    else:
        denied = [c for c in request.cameras if not principal.can_see(c)]
        if denied:
            raise Forbidden(f"token may not see camera(s): {', '.join(sorted(denied))}")
        cameras = frozenset(request.cameras)
    models = None if request.models is None else frozenset(request.models)
    return Subscription(cameras, models, request.video == "jpeg")
