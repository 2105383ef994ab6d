"""Validation of the names that become NATS subject tokens (camera ids, model names).

A name is one subject token: ``[A-Za-z0-9_-]{1,64}``. Dots, wildcards, spaces and
path separators are refused so that a name can never widen a subscription
(``*``/``>``), split into two tokens (``.``) or escape a storage path (``/``).
"""

from __future__ import annotations

import re

from courtside_contracts.errors import ContractError

NAME_PATTERN = r"[A-Za-z0-9_-]{1,64}"
_NAME_RE = re.compile(NAME_PATTERN)


class InvalidName(ContractError):
    """A camera id, model name or service instance is not a valid subject token.

    A :class:`ContractError` (hence a ``ValueError``): one root for every contract violation.
    """


def validate_name(value: object, kind: str = "name") -> str:
    """Return ``value`` unchanged when it is a valid token, else raise :class:`InvalidName`.

    ``kind`` ("camera", "model", ...) goes into the message so the user knows which
    field was wrong.
    """
    if not isinstance(value, str):
        raise InvalidName(f"{kind} must be a string, got {type(value).__name__}")
    if not _NAME_RE.fullmatch(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise InvalidName(
            f"invalid {kind} {shown!r}: use 1-64 characters from A-Z a-z 0-9 _ -"
        )
    return value


def is_valid_name(value: object) -> bool:
    """True when ``value`` would pass :func:`validate_name`."""
    return isinstance(value, str) and bool(_NAME_RE.fullmatch(value))
