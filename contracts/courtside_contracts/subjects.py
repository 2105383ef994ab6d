"""NATS subjects, stream names and queue groups: the addresses of the contract.

Every subject is built and parsed here and nowhere else, so a service can never
publish on a subject another service does not subscribe to.
"""

from __future__ import annotations

from dataclasses import dataclass

from courtside_contracts.names import InvalidName, validate_name

FRAMES_PREFIX = "frames"
ANNOTATIONS_PREFIX = "annotations"
CLIPS_PREFIX = "clips"
#: Requests to ingest about recording (``recording.flush.<camera>``).
RECORDING_PREFIX = "recording"
STATUS_PREFIX = "status"
#: Court analytics per camera (``analytics.<camera>``, :mod:`courtside_contracts.analytics`).
ANALYTICS_PREFIX = "analytics"

#: Service names: the ``<service>`` token of ``status.<service>.<instance>``.
SERVICE_INGEST = "ingest"
SERVICE_INFERENCE = "inference"
SERVICE_FANOUT = "fanout"
SERVICE_ANALYTICS = "analytics"

#: Every camera's frames.
FRAMES_ALL = f"{FRAMES_PREFIX}.*"
#: Every camera's annotations from every model.
ANNOTATIONS_ALL = f"{ANNOTATIONS_PREFIX}.*.*"
#: Every camera's analytics.
ANALYTICS_ALL = f"{ANALYTICS_PREFIX}.*"
#: Every service instance's heartbeat.
STATUS_ALL = f"{STATUS_PREFIX}.*.*"

#: JetStream stream that keeps annotations and analytics (limits retention) for replay.
ANNOTATIONS_STREAM = "ANNOTATIONS"
#: JetStream stream of finished segments (work queue for the archiver).
CLIPS_STREAM = "CLIPS"
#: JetStream object store holding segment bytes.
SEGMENTS_BUCKET = "segments"
#: JetStream key-value bucket of camera calibrations (key: camera id;
#: value: :class:`courtside_contracts.analytics_calibration.CalibrationRecord`).
CALIBRATION_BUCKET = "calibration"


def frames_subject(camera: str) -> str:
    """``frames.<camera>``: live JPEG frames of one camera (core NATS)."""
    return f"{FRAMES_PREFIX}.{validate_name(camera, 'camera')}"


def annotations_subject(camera: str, model: str) -> str:
    """``annotations.<camera>.<model>``: one model's results for one camera."""
    return (
        f"{ANNOTATIONS_PREFIX}.{validate_name(camera, 'camera')}"
        f".{validate_name(model, 'model')}"
    )


def annotations_filter(camera: str | None = None, model: str | None = None) -> str:
    """Subscription subject for annotations; ``None`` means every camera / model."""
    cam = "*" if camera is None else validate_name(camera, "camera")
    mod = "*" if model is None else validate_name(model, "model")
    return f"{ANNOTATIONS_PREFIX}.{cam}.{mod}"


def clips_subject(camera: str) -> str:
    """``clips.<camera>``: a finished segment of one camera (JetStream CLIPS)."""
    return f"{CLIPS_PREFIX}.{validate_name(camera, 'camera')}"


def analytics_subject(camera: str) -> str:
    """``analytics.<camera>``: court analytics of one camera, one message per analysed frame (core NATS
    publish; the ``ANNOTATIONS`` stream keeps them for the archive's sidecars)."""
    return f"{ANALYTICS_PREFIX}.{validate_name(camera, 'camera')}"


def recording_flush_subject(camera: str) -> str:
    """``recording.flush.<camera>``: request (core NATS) to close the camera's open segment at
    the next keyframe; the reply is JSON ``{"segment_id": ..., "end_ns": ...}`` or an error."""
    return f"{RECORDING_PREFIX}.flush.{validate_name(camera, 'camera')}"


def status_subject(service: str, instance: str) -> str:
    """``status.<service>.<instance>``: heartbeat of one service instance."""
    return (
        f"{STATUS_PREFIX}.{validate_name(service, 'service')}"
        f".{validate_name(instance, 'instance')}"
    )


def status_wildcard(service: str | None = None) -> str:
    """Subscription subject for heartbeats: every instance of ``service`` (``status.<service>.*``),
    or of every service when ``service`` is None (:data:`STATUS_ALL`)."""
    if service is None:
        return STATUS_ALL
    return f"{STATUS_PREFIX}.{validate_name(service, 'service')}.*"


def inference_queue_group(model: str) -> str:
    """Queue group shared by all replicas of one model: ``infer.<model>``."""
    return f"infer.{validate_name(model, 'model')}"


@dataclass(frozen=True, slots=True)
class SubjectParts:
    """The tokens of a parsed subject after the prefix."""

    prefix: str
    camera: str
    model: str | None = None


def parse_subject(subject: str) -> SubjectParts:
    """Parse ``frames.<cam>``, ``clips.<cam>``, ``analytics.<cam>`` or ``annotations.<cam>.<model>``.

    Raises :class:`InvalidName` for anything else, so a message on an unexpected
    subject is refused rather than misrouted.
    """
    tokens = subject.split(".")
    if len(tokens) == 2 and tokens[0] in (FRAMES_PREFIX, CLIPS_PREFIX, ANALYTICS_PREFIX):
        return SubjectParts(tokens[0], validate_name(tokens[1], "camera"))
    if len(tokens) == 3 and tokens[0] == ANNOTATIONS_PREFIX:
        return SubjectParts(
            tokens[0], validate_name(tokens[1], "camera"), validate_name(tokens[2], "model")
        )
    raise InvalidName(f"not a Courtside data subject: {subject[:120]!r}")
