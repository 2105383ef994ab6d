"""Annotation publishing: one frame's result -> an :class:`Annotation` on ``annotations.<camera>.<model>``.

:func:`build_annotation` is pure (the clock is passed in). :class:`AnnotationPublisher`
sends it on core NATS with the JetStream de-duplication headers (``Nats-Msg-Id``
``<camera>.<model>.<seq>``: a frame served twice during an ownership hand-over is
stored once); the ANNOTATIONS stream captures it.
"""

from __future__ import annotations

import logging

from courtside_contracts.annotations import MAX_OBJECTS, Annotation, Latency
from courtside_contracts.headers import FrameMeta, annotation_headers
from courtside_contracts.subjects import annotations_subject
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from courtside.natsio import now_ns
from inference.backends.base import Weights
from inference.runtime.processing import FrameDone

log = logging.getLogger(__name__)


def build_annotation(meta: FrameMeta, done: FrameDone, model: str, model_version: str, weights: Weights,
                     queue_ms: float, infer_ms: float, published_ns: int,
                     trained_on: str | None = None) -> Annotation:
    """The annotation of frame ``meta``; ``trained_on`` only with trained weights.

    Latencies in ms: ``queue_ms`` receipt -> model start, ``infer_ms`` the batch's model
    time, ``total`` capture ``meta.ts`` -> ``published_ns`` (both wall-clock ns). Beyond
    :data:`MAX_OBJECTS`, the highest-scoring objects are kept.
    """
    objects = done.result.objects
    if len(objects) > MAX_OBJECTS:
        objects = tuple(sorted(objects, key=lambda o: -o.score)[:MAX_OBJECTS])
    return Annotation(
        camera=meta.camera, seq=meta.seq, ts=meta.ts, model=model, model_version=model_version,
        weights=weights, frame_w=done.width, frame_h=done.height,
        latency=Latency(queue=queue_ms, infer=infer_ms, total=(published_ns - meta.ts) / 1e6),
        objects=objects, ball=done.result.ball, trained_on=trained_on if weights == "trained" else None)


class AnnotationPublisher:
    """Publishes model ``model``'s annotations on the borrowed connection ``nc``.

    A failed publish loses that one annotation: it is counted in :attr:`failed` and
    logged once (NATS reconnects on its own; the next frames go out again).
    """

    def __init__(self, nc: NATS, model: str, model_version: str, weights: Weights,
                 trained_on: str | None = None) -> None:
        self._nc = nc
        self.model = model
        self.model_version = model_version
        self.weights = weights
        self.trained_on = trained_on
        self.failed = 0

    async def publish(self, meta: FrameMeta, done: FrameDone, queue_ms: float, infer_ms: float) -> Annotation | None:
        """Build and send one annotation; returns it, or None when publishing failed."""
        annotation = build_annotation(meta, done, self.model, self.model_version, self.weights, queue_ms,
                                      infer_ms, now_ns(), self.trained_on)
        try:
            await self._nc.publish(annotations_subject(meta.camera, self.model), annotation.to_json(),
                                   headers=annotation_headers(meta.camera, self.model, meta.seq, meta.ts))
        except NatsError as exc:
            self.failed += 1
            if self.failed == 1:
                log.warning("%s: publishing annotations failed: %s (further failures are only counted)",
                            self.model, exc)
            return None
        return annotation
