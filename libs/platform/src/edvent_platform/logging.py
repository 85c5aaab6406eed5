"""JSON logs, one object per line, carrying the request id and the trace and span ids
in scope (OpenTelemetry's current span, or the remote context carried when tracing is off)."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import weakref
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI copy of the message
}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request_id := request_id_var.get()) is not None:
            entry["request_id"] = request_id
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes lines in batches: at once for WARNING and above, else when 64 KiB have
    gathered or within `FLUSH_SECONDS` (a thread flushes every handler that often).

    One write and flush per record (the standard handler) was a tenth of a busy
    service's CPU: a system call per request for its access log. nginx buffers its
    access log the same way. A process killed outright loses at most the last second
    of INFO lines; warnings and errors are never held back.
    """

    FLUSH_SECONDS = 1.0
    MAX_BUFFERED = 64 * 1024

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self.pending: list[str] = []
        self.pending_size = 0
        _start_flusher(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:  # noqa: BLE001 - logging must not raise into the caller
            self.handleError(record)
            return
        # `handle` holds the handler's lock around `emit`; the flusher takes it too.
        self.pending.append(line)
        self.pending_size += len(line)
        if record.levelno >= logging.WARNING or self.pending_size >= self.MAX_BUFFERED:
            self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self.pending:
                text, self.pending, self.pending_size = "".join(self.pending), [], 0
                try:
                    self.stream.write(text)
                except Exception:  # noqa: BLE001 - a closed stdout must not kill the flusher
                    return
            super().flush()


_handlers: weakref.WeakSet[BufferedStreamHandler] = weakref.WeakSet()
_flusher: threading.Thread | None = None


def _start_flusher(handler: BufferedStreamHandler) -> None:
    global _flusher
    _handlers.add(handler)
    if _flusher is None or not _flusher.is_alive():
        _flusher = threading.Thread(target=_flush_forever, name="edvent-log-flush", daemon=True)
        _flusher.start()


def _flush_forever() -> None:
    while True:
        time.sleep(BufferedStreamHandler.FLUSH_SECONDS)
        for handler in list(_handlers):
            handler.flush()


def configure_logging(*, service: str, level: str = "INFO") -> None:
    handler = BufferedStreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn installs its own handlers; route its records through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # The access log repeats what our request middleware logs with more context.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
