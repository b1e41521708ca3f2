"""The AWS JSON APIs' request and error boundary, over the raw ASGI helpers of `lambdalite.asgi`.

`Request` is a parsed API call; `answer` is the one error boundary of an AWS JSON API: the route's
value as JSON, expected errors in AWS's shape, anything unexpected logged and answered 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from .. import errors
from ..asgi import Receive, Scope, Send, read_body, send_response
from ..ids import request_id as new_request_id

__all__ = ["Raw", "Receive", "Request", "Scope", "Send", "answer", "json_object", "read_body", "read_request",
           "send_error", "send_json", "send_response"]

JSON = b"application/json"
log = logging.getLogger("lambdalite.api")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    request_id: str = field(default_factory=new_request_id)
    raw_query: str = ""

    def query_all(self, name: str) -> list[str]:
        """Every value of a query member that may repeat (UntagResource's tagKeys)."""
        return [v for k, v in parse_qsl(self.raw_query, keep_blank_values=True) if k == name]

    def json(self) -> dict[str, Any]:
        """The body as a JSON object ({} when empty), or AWS's error for anything else."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as e:
            raise errors.InvalidRequestContent(f"Could not parse request body into json: {e}") from None
        except RecursionError:
            raise errors.InvalidRequestContent("Could not parse request body into json: it is nested too deeply") \
                from None
        if not isinstance(value, dict):
            raise errors.InvalidRequestContent(
                "Could not parse request body into json: the body must be a JSON object")
        return value


def json_object(body: bytes) -> dict[str, Any]:
    """An AWS JSON 1.0/1.1 request body ({} when empty); ValueError saying what is wrong otherwise."""
    try:
        value = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError("The request is not JSON.") from None
    if not isinstance(value, dict):
        raise ValueError("The request must be a JSON object.")
    return value


class Raw(NamedTuple):
    """A route's answer sent as it is, with its own content type (bytes alone are sent as JSON)."""

    body: bytes
    content_type: bytes


async def read_request(scope: Scope, receive: Receive, limit: int) -> tuple[Request, bool]:
    """The request with its body, and whether the body went over `limit` (then it is cut)."""
    body, too_large = await read_body(receive, limit)
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
    raw = scope["query_string"].decode("latin-1")
    return Request(scope["method"], scope["path"], query, headers, body, raw_query=raw), too_large


async def answer(send: Send, request: Request, too_large: errors.ServiceError | None,
                 route: Callable[[Request], Awaitable[tuple[int, Any]]]) -> None:
    """The error boundary of an AWS JSON API: the route's (status, value) as JSON (bytes as they are),
    expected errors in AWS's shape, anything unexpected logged and answered 500 (never a half-sent
    response)."""
    try:
        if too_large is not None:
            raise too_large
        status, value = await route(request)
    except errors.ServiceError as e:
        await send_error(send, e, request.request_id)
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        await send_error(send, errors.ServiceFailure("An internal error occurred; the server log has the "
                                                     "details."), request.request_id)
    else:
        if isinstance(value, Raw):
            await send_response(send, status, value.body, [(b"content-type", value.content_type),
                                                           (b"x-amzn-requestid", request.request_id.encode())])
        elif isinstance(value, bytes):
            await send_response(send, status, value, [(b"content-type", JSON),
                                                      (b"x-amzn-requestid", request.request_id.encode())])
        else:
            await send_json(send, status, value, request.request_id)


async def send_json(send: Send, status: int, value: Any, request_id: str) -> None:
    body = b"" if value is None else json.dumps(value).encode()
    await send_response(send, status, body, [(b"content-type", JSON), (b"x-amzn-requestid", request_id.encode())])


async def send_error(send: Send, error: errors.ServiceError, request_id: str) -> None:
    """AWS's REST-JSON error: x-amzn-ErrorType header (botocore reads it first) and the body."""
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", JSON), (b"x-amzn-requestid", request_id.encode()),
               (b"x-amzn-errortype", error.code.encode())]
    await send_response(send, error.status, body, headers)
