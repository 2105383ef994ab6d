"""Keep bearer tokens out of log lines written by libraries (uvicorn and websockets log every
handshake header at DEBUG, ``Authorization`` and ``Sec-WebSocket-Protocol: bearer.<token>``
included).

:func:`redact` is pure; :func:`install` puts a :class:`RedactTokens` filter on the
loggers that print requests. Our own modules never log a token in the first place.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

#: Loggers that print raw requests, headers or frames at DEBUG (the websockets protocol
#: code that uvicorn runs logs through ``uvicorn.error``).
REQUEST_LOGGERS = ("uvicorn.error", "uvicorn.access", "uvicorn", "websockets.server", "websockets")
MASK = "***"
_PATTERNS = (
    re.compile(r"(?i)(authorization\s*[:=]\s*['\"]?)([^\r\n'\"]+)"),      # a header line or repr
    re.compile(r"(?i)((?:\bbearer)[ .])([A-Za-z0-9._~+/=-]+)"),           # Bearer x / bearer.x
    re.compile(r"()(eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)"),  # any JWT
)


def redact(text: str) -> str:
    """``text`` with every bearer token, Authorization value and JWT replaced by ``***``."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactTokens(logging.Filter):
    """Rewrites a record whose message would show a token (the record is kept, masked)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: the logging module reports it, not us
            return True
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = RedactTokens()


def install(names: Iterable[str] = REQUEST_LOGGERS) -> None:
    """Attach the filter to each named logger (idempotent)."""
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
