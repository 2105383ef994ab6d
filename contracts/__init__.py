"""Courtside wire contract: subjects, headers, messages and name rules.

Standard library only, so that every service and every model environment
(including one pinned to numpy 1.23) can import it. See docs/architecture.md.
"""

from contracts.annotations import Annotation, Ball, DetectedObject, Latency
from contracts.errors import ContractError
from contracts.headers import FrameMeta
from contracts.names import InvalidName, is_valid_name, validate_name
from contracts.status import CameraState, Heartbeat, ServiceState

__all__ = [
    "Annotation", "Ball", "CameraState", "ContractError", "DetectedObject", "FrameMeta",
    "Heartbeat", "InvalidName", "Latency", "ServiceState", "is_valid_name", "validate_name",
]
