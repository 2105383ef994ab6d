"""The detector's person boxes for each frame, from NATS: the I/O around :class:`BoxJoin`.

:class:`DetectorBoxes` subscribes to ``annotations.*.<detector>`` on the consumer's
event loop and keeps each annotation's person boxes in a :class:`BoxJoin`; the model
thread asks :meth:`DetectorBoxes.boxes_for` for a frame and blocks at most
``timeout_s`` (a late message still joins; a missing one is answered
:class:`~inference.backends.mmpose.box_join.Missing`). The subscription's own buffer is
bounded (nats-py drops and reports beyond it), and so is the join (see its doc).

Imports numpy-free contract code and nats-py only: it runs in every environment.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from courtside_contracts.annotations import Annotation
from courtside_contracts.errors import ContractError
from courtside_contracts.subjects import annotations_filter
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError

from inference.backends.mmpose.box_join import Box, BoxJoin, JoinCounts, Joined, Missing, Wait

if TYPE_CHECKING:  # numpy only for the types: this module imports without it
    import numpy as np

    from inference.backends.base import FrameRef

log = logging.getLogger(__name__)
#: Detector annotations buffered in the client before the callback (each is ~1-10 KB).
PENDING_MSGS_LIMIT = 4096


class DetectorBoxes:
    """Person boxes of ``detector``'s annotations, joined by (camera, seq)."""

    def __init__(self, detector: str, timeout_s: float, *, person_class: int = 0, min_score: float = 0.0,
                 max_boxes: int = 20, max_entries: int = 1024, retain_s: float | None = None,
                 clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.detector = detector
        self._person_class = person_class
        self._min_score = min_score
        self._max_boxes = max_boxes
        self._clock = clock
        self._join = BoxJoin(int(timeout_s * 1e9), None if retain_s is None else int(retain_s * 1e9),
                             max_entries=max_entries)
        self._cond = threading.Condition()
        self._sub: Subscription | None = None
        self.malformed = 0

    async def start(self, nc: NATS) -> None:
        """Subscribe (on the consumer's event loop, before frames are subscribed)."""
        self._sub = await nc.subscribe(annotations_filter(model=self.detector), cb=self._on_msg,
                                       pending_msgs_limit=PENDING_MSGS_LIMIT)
        log.info("joining person boxes of model %s (timeout %.0f ms)", self.detector, self._join.timeout_ns / 1e6)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(NatsError):
                await self._sub.unsubscribe()
            self._sub = None

    async def _on_msg(self, msg: Msg) -> None:
        try:
            ann = Annotation.from_json(msg.data)
        except (ContractError, ValueError):
            self.malformed += 1
            return
        self.offer(ann)

    def offer(self, ann: Annotation) -> None:
        """Keep ``ann``'s person boxes (best first, at most ``max_boxes``) for its frame."""
        people = sorted((o for o in ann.objects if o.class_id == self._person_class and o.score >= self._min_score),
                        key=lambda o: -o.score)[: self._max_boxes]
        boxes: tuple[Box, ...] = tuple((*o.box, o.score) for o in people)
        with self._cond:
            self._join.add(ann.camera, ann.seq, boxes, self._clock())
            self._cond.notify_all()

    def boxes_for(self, camera: str, seq: int) -> Joined | Missing:
        """The boxes for a frame; blocks (model thread) until they arrive or the timeout passes."""
        with self._cond:
            while True:
                now = self._clock()
                outcome = self._join.ask(camera, seq, now)
                if not isinstance(outcome, Wait):
                    return outcome
                self._cond.wait(max(outcome.until_ns - now, 0) / 1e9)

    def boxes_in_images(self, images: Sequence[np.ndarray], frames: Sequence[FrameRef]) -> list[tuple[Box, ...]]:
        """Each frame's boxes (:meth:`boxes_for`, so each may block) scaled from frame pixels, the
        annotation's, to the pixels of its image as decoded (possibly smaller); none when missing."""
        per_image: list[tuple[Box, ...]] = []
        for image, frame in zip(images, frames, strict=True):
            outcome = self.boxes_for(frame.camera, frame.seq)
            boxes = outcome.boxes if isinstance(outcome, Joined) else ()
            sx, sy = image.shape[1] / frame.width, image.shape[0] / frame.height
            per_image.append(tuple((x1 * sx, y1 * sy, x2 * sx, y2 * sy, s) for x1, y1, x2, y2, s in boxes))
        return per_image

    def forget(self, camera: str) -> None:
        with self._cond:
            self._join.forget(camera)

    @property
    def counts(self) -> JoinCounts:
        return self._join.counts

    def held(self) -> int:
        """Detector messages held now (bounded by ``max_entries``)."""
        with self._cond:
            return len(self._join)
