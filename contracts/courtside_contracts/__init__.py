"""Courtside wire contract: subjects, headers, messages and name rules.

Standard library only, so that every service and every model environment
(including one pinned to numpy 1.23) can import it. See docs/architecture.md.
"""

from courtside_contracts.annotations import Annotation, Ball, DetectedObject, Latency
from courtside_contracts.errors import ContractError
from courtside_contracts.headers import FrameMeta
from courtside_contracts.names import InvalidName, is_valid_name, validate_name
from courtside_contracts.status import CameraState, Heartbeat, ServiceState

__all__ = [
    "Annotation", "Ball", "CameraState", "ContractError", "DetectedObject", "FrameMeta",
    "Heartbeat", "InvalidName", "Latency", "ServiceState", "is_valid_name", "validate_name",
]
