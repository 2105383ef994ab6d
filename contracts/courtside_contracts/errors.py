"""The root of every error raised for malformed contract data (names, subjects, messages)."""

from __future__ import annotations


class ContractError(ValueError):
    """A message, header or payload does not follow the wire contract.

    The text names the field that was wrong, so a log line is enough to find the
    sender's bug.
    """
