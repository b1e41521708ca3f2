"""Raw ASGI, named once: the protocol's types and the few helpers every surface shares.

Neutral ground: the AWS protocol modules (`apis/`), the API Gateway data plane (`gateway/`) and the
server all speak ASGI through this module, so none of them imports another for it. No framework on
purpose: the invoke path is benchmarked against a raw ASGI app, and every layer between uvicorn and
the instance costs microseconds there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Scope extension set by the server's HTTP protocol: the header names as the client spelled them
# (ASGI lower-cases `scope["headers"]`; API Gateway passes the client's casing on).
HEADER_NAMES = "lambdalite.header_names"


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole body, and whether it went over `limit` (past it the rest is read and dropped)."""
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body"):
        return body, len(body) > limit
    chunks = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:   # past the limit the rest is read and dropped: the answer is a 413
            chunks.append(chunk)
    return b"".join(chunks), size > limit


async def send_response(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def replay(body: bytes) -> Receive:
    """A `receive` that hands an already-read body over once, then waits for the disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    return receive
