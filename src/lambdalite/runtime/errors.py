"""Lambda's one error shape {errorMessage, errorType, requestId, stackTrace}, as awslambdaric
builds it, and the text form it writes to the function's log."""

from __future__ import annotations

import json
import os
import time
import traceback
from types import TracebackType
from typing import Any

# The runtime's own frames are trimmed from the front of a stack trace (awslambdaric trims its
# bootstrap.py the same way), so a user sees their code first.
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

ERROR_LINE_SEPARATOR = "\r"   # CloudWatch keeps a multi-line error as one event
ERROR_INDENT = "\u00a0"       # awslambdaric replaces leading spaces by NO-BREAK SPACE


class Fault(Exception):
    """A failure the runtime names itself (awslambdaric's FaultException): Runtime.* types."""

    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def make_error(message: str, error_type: str, stack_trace: list[str] | None,
               request_id: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def from_fault(fault: Fault, request_id: str | None = None) -> dict[str, Any]:
    return make_error(fault.message, fault.error_type, fault.trace, request_id)


def from_exception(exc: BaseException, request_id: str | None = None) -> dict[str, Any]:
    """The error of an exception raised by user code: class name, str(exc), trimmed trace."""
    return make_error(str(exc), type(exc).__name__, format_trace(exc.__traceback__), request_id)


def format_trace(tb: TracebackType | None) -> list[str]:
    frames = traceback.extract_tb(tb)
    for i, summary in enumerate(frames):
        if not summary.filename.startswith(_RUNTIME_DIR):
            frames = traceback.StackSummary.from_list(frames[i:])
            break
    return traceback.format_list(frames)


def log_text(error: dict[str, Any]) -> str:
    """awslambdaric's text log of an error: "[ERROR] Type: message", the traceback, joined by \\r; with
    LogFormat JSON, one JSON record (timestamp, level ERROR, the error's fields, requestId)."""
    from .logs import current_request_id, json_format
    if json_format():
        record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "level": "ERROR", **error}
        record.setdefault("requestId", current_request_id())
        return json.dumps(record, ensure_ascii=False, default=str) + "\n"
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    stack_trace = error.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            if element == "":
                lines.append("")
            else:
                lines.extend(_indent(line) for line in element.splitlines())
    return ERROR_LINE_SEPARATOR.join(lines) + "\n"


def _indent(line: str) -> str:
    stripped = line.lstrip(" ")
    return ERROR_INDENT * (len(line) - len(stripped)) + stripped
