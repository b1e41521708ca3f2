"""Access logs on the request path: an answer watched on its way out (status, length, the error
message of a gateway answer), and the `$context` variables every API kind shares. The line itself is
`gateway.accesslog.render`; only stages with AccessLogSettings pay for any of this."""

from __future__ import annotations

import json
import time
from collections.abc import MutableMapping
from typing import Any

from ...asgi import Scope, Send
from .. import accesslog


class Watched:
    """`send`, passing every message on, remembering the status, the body's length and (for an error
    answer) the start of its body."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 0
        self.length = 0
        self.error = b""
        self.started = time.time()

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            chunk = message.get("body", b"")
            self.length += len(chunk)
            if self.status >= 400 and len(self.error) < 1000:
                self.error += chunk[:1000]
        await self.send(message)

    def error_message(self) -> str | None:
        """The `message` of a gateway's error answer (`{"message": "Not Found"}`), else None."""
        try:
            message = json.loads(self.error)["message"] if self.error else None
        except (ValueError, TypeError, KeyError):
            return None
        return str(message) if message is not None else None


def context(scope: Scope, watched: Watched, request_id: str, api_id: str, stage: str, path: str, account: str,
            region: str) -> dict[str, object]:
    """The `$context` an access log line can use, for what every API kind knows of a request."""
    client = scope.get("client")
    agent = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"user-agent"), None)
    message = watched.error_message()
    return {
        "requestId": request_id, "extendedRequestId": request_id, "apiId": api_id, "stage": stage,
        "accountId": account, "domainName": f"{api_id}.execute-api.{region}.amazonaws.com", "domainPrefix": api_id,
        "httpMethod": scope["method"], "protocol": f"HTTP/{scope.get('http_version', '1.1')}", "path": path,
        "status": watched.status, "responseLength": watched.length,
        "requestTime": accesslog.request_time(watched.started), "requestTimeEpoch": int(watched.started * 1000),
        "responseLatency": int((time.time() - watched.started) * 1000),
        "identity.sourceIp": client[0] if client else "127.0.0.1", "identity.userAgent": agent,
        "error.message": message, "error.messageString": json.dumps(message) if message else None}
