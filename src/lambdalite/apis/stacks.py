"""Lambdalite's own stack endpoints (JSON, under `/_lambdalite/`), what `lambdalite deploy` and `test` call.

    POST   /_lambdalite/code?missing                 {"hashes": [hex...]} -> {"missing": [hex...]}
    PUT    /_lambdalite/code/{sha256 hex}            the zip bytes -> {"sha256": hex, "size": n}
    PUT    /_lambdalite/stacks/{name}                {"template", "parameters", "code", "includes", "testEvents",
                                                      "wait"?} -> 200 DeployResult, or 400 {"problems": [...]};
                                                     "wait": false answers once planned (*_IN_PROGRESS)
    GET    /_lambdalite/stacks/{name}/progress?after=N   {"lines": [...], "next": N, "underWay": bool}: what
                                                     the deploy under way said (traffic shifting steps)
    GET    /_lambdalite/stacks                       {"stacks": [...]}
    GET    /_lambdalite/stacks/{name}                one stack
    DELETE /_lambdalite/stacks/{name}                the stack and everything it made
    GET    /_lambdalite/functions/{name}/test-events            {"testEvents": {name: JSON text}}
    GET    /_lambdalite/functions/{name}/test-events/{event}    the event's JSON, as saved
    PUT    /_lambdalite/functions/{name}/test-events/{event}    the event's JSON (body) -> 204

Errors are the AWS-style JSON the other endpoints answer (`x-amzn-ErrorType` + `message`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .. import errors
from ..functions.service import FunctionService
from ..stacks.service import StackService
from .http import Receive, Request, Scope, Send, answer, read_request

STACK_LIMIT = 32 * 1024 * 1024   # template, included documents and test events
CODE = re.compile(r"/_lambdalite/code/([^/]+)")
STACK = re.compile(r"/_lambdalite/stacks/([^/]+)")
PROGRESS = re.compile(r"/_lambdalite/stacks/([^/]+)/progress")
TEST_EVENTS = re.compile(r"/_lambdalite/functions/([^/]+)/test-events(?:/([^/]+))?")
Answer = tuple[int, Any]


def handles(path: str) -> bool:
    """Ours, except `GET /_lambdalite/code/{hex}.zip` (GetFunction's Code.Location, served in server.py)."""
    return (path in ("/_lambdalite/code", "/_lambdalite/stacks") or bool(CODE.fullmatch(path) and ".zip" not in path)
            or bool(STACK.fullmatch(path)) or bool(PROGRESS.fullmatch(path)) or bool(TEST_EVENTS.fullmatch(path)))


class StacksApi:
    def __init__(self, stacks: StackService, functions: FunctionService) -> None:
        self.stacks = stacks
        self.functions = functions

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits = self.functions.code.limits
        code = scope["path"].startswith("/_lambdalite/code/")
        request, too_large = await read_request(scope, receive, limits.zipped if code else STACK_LIMIT)
        error: errors.ServiceError | None = None
        if too_large:
            error = limits.zipped_too_large() if code else errors.RequestTooLarge(
                f"Request must be smaller than {STACK_LIMIT} bytes")
        await answer(send, request, error, self.route)

    async def route(self, request: Request) -> Answer:
        path, method = request.path, request.method
        if path == "/_lambdalite/code" and method == "POST" and "missing" in request.query:
            hashes = request.json().get("hashes")
            if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
                raise errors.ValidationError("hashes must be a list of SHA-256 hex strings")
            return 200, {"missing": self.stacks.missing_code(hashes)}
        if (m := CODE.fullmatch(path)) and method == "PUT":
            await self.stacks.put_code(m.group(1), request.body)
            return 200, {"sha256": m.group(1), "size": len(request.body)}
        if path == "/_lambdalite/stacks" and method == "GET":
            return 200, {"stacks": [self.stacks.describe(r) for r in self.stacks.all()]}
        if (m := PROGRESS.fullmatch(path)) and method == "GET":
            lines = self.stacks.progress.get(m.group(1), [])
            after = int(request.query.get("after") or 0) if (request.query.get("after") or "0").isdigit() else 0
            return 200, {"lines": lines[after:], "next": len(lines), "underWay": m.group(1) in self.stacks.under_way}
        if m := STACK.fullmatch(path):
            return await self.stack(request, m.group(1))
        if m := TEST_EVENTS.fullmatch(path):
            return self.test_events(request, m.group(1), m.group(2))
        raise errors.NotFoundRoute(f"No Lambdalite endpoint answers {method} {path}.")

    async def stack(self, request: Request, name: str) -> Answer:
        if request.method == "GET":
            return 200, self.stacks.describe(self.stacks.get(name))
        if request.method == "DELETE":
            await self.stacks.delete(name)
            return 200, {"stack": name, "deleted": True}
        if request.method == "PUT":
            body = request.json()
            result = await self.stacks.deploy(
                name, _text(body, "template"), _string_map(body, "parameters"), _string_map(body, "code"),
                _map(body, "includes"), _events(body), wait=body.get("wait") is not False)
            return 200, result.to_json()
        raise errors.NotFoundRoute(f"No Lambdalite endpoint answers {request.method} {request.path}.")

    def test_events(self, request: Request, function: str, event: str | None) -> Answer:
        if event is None and request.method == "GET":
            return 200, {"testEvents": self.functions.test_events(function)}
        if event is not None and request.method == "GET":
            return 200, self.functions.test_event(function, event).encode()
        if event is not None and request.method == "PUT":
            try:
                text = request.body.decode("utf-8")
            except UnicodeDecodeError:
                raise errors.InvalidRequestContent("The test event must be UTF-8 JSON text") from None
            self.functions.put_test_event(function, event, text)
            return 200, {"function": function, "testEvent": event}
        raise errors.NotFoundRoute(f"No Lambdalite endpoint answers {request.method} {request.path}.")


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise errors.ValidationError(f"{key} must be the template's text")
    return value


def _map(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise errors.ValidationError(f"{key} must be a JSON object")
    return value


def _string_map(body: dict[str, Any], key: str) -> dict[str, str]:
    value = _map(body, key)
    if not all(isinstance(v, str | int | float | bool) for v in value.values()):
        raise errors.ValidationError(f"{key} must map names to strings")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def _events(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    value = _map(body, "testEvents")
    if not all(isinstance(v, dict) and all(isinstance(t, str) for t in v.values()) for v in value.values()):
        raise errors.ValidationError("testEvents must map a CodeUri to {event name: JSON text}")
    return {str(k): dict(v) for k, v in value.items()}
