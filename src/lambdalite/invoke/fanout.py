"""Fan-out (`Client.map`'s server side): many payloads for one function in one request, each run as
its own invocation (its own request id, record and REPORT line, the same limits as a single call),
at most `concurrency` at once; the answers come back in the payloads' order.

Each item's answer is one of: {"result": <what the function returned>}, {"error": <Lambda's error
object>, "requestId": ...} for a function error, or {"throttled": "<Reason>"} when a limit refused it
(the client tries those again). The result bytes are spliced in as the function returned them.
"""

from __future__ import annotations

import asyncio
import json

from .. import errors
from ..functions.model import FunctionVersion
from .invoker import Invoker

MAX_ITEMS = 10_000


async def run_batch(invoker: Invoker, fn: FunctionVersion, invoked_arn: str, payloads: list[bytes],
                    concurrency: int) -> bytes:
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(payload: bytes) -> bytes:
        async with gate:
            try:
                result = await invoker.invoke(fn, invoked_arn, payload)
            except errors.TooManyRequests as e:
                return b'{"throttled":' + json.dumps(e.extra.get("Reason") or e.code).encode() + b"}"
        if result.function_error:
            return (b'{"error":' + (result.body or b"null") + b',"requestId":"' + result.request_id.encode() + b'"}')
        if result.raw:   # bytes the handler returned, not JSON
            return b'{"raw":' + json.dumps(result.body.decode("utf-8", errors="replace")).encode() + b"}"
        return b'{"result":' + (result.body or b"null") + b"}"

    answers = await asyncio.gather(*(one(p) for p in payloads))
    return b'{"items":[' + b",".join(answers) + b"]}"
