"""The service log handler batches INFO lines but never holds back a warning for long."""

from __future__ import annotations

import io
import logging
import time

from edvent_platform.logging import BufferedStreamHandler


def _logger(stream: io.StringIO, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [BufferedStreamHandler(stream)]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_info_lines_wait_and_a_warning_writes_them_in_order() -> None:
    stream = io.StringIO()
    logger = _logger(stream, "edvent.test.batch")
    logger.info("first")
    logger.info("second")
    assert stream.getvalue() in ("", "first\nsecond\n")  # the flusher may run meanwhile
    logger.warning("third")
    assert stream.getvalue() == "first\nsecond\nthird\n"


def test_info_lines_are_written_within_seconds_without_more_logging() -> None:
    stream = io.StringIO()
    logger = _logger(stream, "edvent.test.timer")
    logger.info("alone")
    deadline = time.monotonic() + 5 * BufferedStreamHandler.FLUSH_SECONDS
    while stream.getvalue() != "alone\n":
        assert time.monotonic() < deadline, "the line was never flushed"
        time.sleep(0.05)


def test_a_full_buffer_is_written_at_once() -> None:
    stream = io.StringIO()
    logger = _logger(stream, "edvent.test.full")
    line = "x" * 1023
    for _ in range(BufferedStreamHandler.MAX_BUFFERED // 1024):
        logger.info(line)
    assert len(stream.getvalue()) >= BufferedStreamHandler.MAX_BUFFERED
