"""Capture of the function's output: print, sys.stdout/sys.stderr and logging become L frames.

Writes are line-buffered (a line reaches the parent when it is complete, so output before a
timeout is not lost); text without a newline waits for the end of the invocation and then
travels in the same write as the result. An invocation that prints nothing sends no L frame.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from .protocol import FRAME, LOG

LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
# A LogRecord's own attributes: everything else on it (`extra=`) goes into a JSON record.
_RESERVED = {"name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info", "exc_text",
             "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread", "threadName",
             "processName", "process", "aws_request_id", "tenant_id", "taskName"}


def json_format() -> bool:
    """LoggingConfig LogFormat JSON (AWS_LAMBDA_LOG_FORMAT): log records and errors as JSON lines."""
    return os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"


def current_request_id() -> str:
    return _RequestFilter.request_id


class Sender:
    """The worker's end of the socket: every frame goes out whole, under one lock (user threads
    may print while the main thread answers). While `holding`, log frames are kept and leave with
    the next `send`."""

    def __init__(self, send: Callable[[bytes], Any]) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._held: list[bytes] = []
        self.holding = False

    def log(self, data: bytes) -> None:
        frame = FRAME.pack(len(data), LOG) + data
        with self._lock:
            if self.holding:
                self._held.append(frame)
            else:
                self._send(frame)

    def send(self, data: bytes) -> None:
        with self._lock:
            if self._held:
                data = b"".join((*self._held, data))
                self._held.clear()
            self._send(data)


class _FrameWriter(io.RawIOBase):
    def __init__(self, sender: Sender) -> None:
        super().__init__()
        self._sender = sender

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if chunk:
            self._sender.log(chunk)
        return len(chunk)


class Output:
    """The text streams that replace sys.stdout and sys.stderr, both into the one log."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.stdout = self._stream(sender, 1)
        self.stderr = self._stream(sender, 2)

    @staticmethod
    def _stream(sender: Sender, fd: int) -> io.TextIOWrapper:
        raw = _FrameWriter(sender)
        stream = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True)
        stream.mode = "w"  # type: ignore[misc]
        return stream

    def install(self) -> None:
        sys.stdout = self.stdout
        sys.stderr = self.stderr

    def write(self, text: str) -> None:
        self.stdout.write(text)

    def end_invocation(self) -> None:
        """Hold what is still buffered so that it leaves with the result frame."""
        self.sender.holding = True
        try:
            self.stdout.flush()
            self.stderr.flush()
        finally:
            self.sender.holding = False


class _RequestFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _RequestFilter.request_id
        record.tenant_id = None
        return True


class _LambdaHandler(logging.Handler):
    def __init__(self, output: Output) -> None:
        super().__init__()
        self._output = output

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._output.write(self.format(record))
        except Exception:
            self.handleError(record)


class JsonFormatter(logging.Formatter):
    """awslambdaric's JSON records: timestamp, level, message, logger, requestId; errorType,
    errorMessage, stackTrace and location with an exception; the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        level = min(50, max(0, record.levelno)) // 10 * 10
        exc = record.exc_info
        stamp = time.strftime(DATE_FORMAT, time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        result: dict[str, Any] = {
            "timestamp": stamp, "level": logging.getLevelName(level), "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc and exc[0] else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if exc else None,
        }
        result.update((k, v) for k, v in record.__dict__.items() if k not in _RESERVED and k not in result)
        return json.dumps({k: v for k, v in result.items() if v is not None}, ensure_ascii=False, default=str) + "\n"


def setup_logging(output: Output) -> None:
    """The root logger as awslambdaric leaves it: its handler (JSON records with LogFormat JSON), level
    WARNING unless AWS_LAMBDA_LOG_LEVEL says otherwise, timestamps in UTC."""
    logging.Formatter.converter = time.gmtime
    handler = _LambdaHandler(output)
    handler.setFormatter(JsonFormatter() if json_format() else logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    handler.addFilter(_RequestFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _LambdaHandler)]:   # a restored instance's
        root.removeHandler(old)
    configured = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    level = "DEBUG" if configured == "TRACE" else configured
    if level in logging.getLevelNamesMapping():
        root.setLevel(level)
    root.addHandler(handler)


def set_request_id(request_id: str) -> None:
    _RequestFilter.request_id = request_id
