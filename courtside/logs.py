"""Logging set-up with credentials scrubbed from every line.

Camera URLs carry passwords (``rtsp://user:pass@host``) and tokens travel in
headers; a filter on the root handler masks both, whatever module logs them.
"""

from __future__ import annotations

import logging
import re

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s:]+(?::[^/@\s]*)?)@")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")


def scrub(text: str) -> str:
    """Mask user:password in URLs and bearer tokens."""
    return _BEARER.sub(r"\1***", _URL_CREDENTIALS.sub(r"\g<scheme>***@", text))


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class ScrubFormatter(logging.Formatter):
    """Scrubs the formatted line too, so tracebacks (exception text) cannot leak a URL's password."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def setup_logging(level: str = "info", prefix: str = "") -> None:
    """Configure the root logger once per process: one line per event, scrubbed."""
    handler = logging.StreamHandler()
    handler.setFormatter(ScrubFormatter(
        f"%(asctime)s %(levelname)-7s {prefix}%(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(ScrubFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "aioice", "aiortc", "libav"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
