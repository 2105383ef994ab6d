from __future__ import annotations

import logging

import pytest

from courtside.logs import ScrubFilter, scrub


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("opening rtsp://admin:hunter2@10.0.0.5:554/s1 failed", "hunter2"),
        ("rtsp://onlyuser@host/x", "onlyuser"),
        ("header Authorization: Bearer abc.def-123", "abc.def-123"),
    ],
)
def test_scrub_masks_credentials(text: str, secret: str) -> None:
    assert secret not in scrub(text)


def test_scrub_keeps_plain_urls() -> None:
    assert scrub("rtsp://10.0.0.5:554/s1") == "rtsp://10.0.0.5:554/s1"


def test_filter_scrubs_log_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.scrub")
    logger.addFilter(ScrubFilter())
    with caplog.at_level(logging.INFO):
        logger.info("camera %s down", "rtsp://u:secretpw@h/x")
    assert "secretpw" not in caplog.text and "rtsp://***@h/x" in caplog.text


def test_tracebacks_are_scrubbed_too() -> None:
    from courtside.logs import ScrubFormatter

    formatter = ScrubFormatter("%(message)s")
    try:
        raise RuntimeError("cannot open rtsp://admin:topsecret@cam/1")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text = formatter.format(record)
    assert "Traceback" in text and "topsecret" not in text
