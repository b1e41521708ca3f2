"""Lambdalite's own endpoints that are not about stacks (those are in `stacks.py`):

    GET  /_lambdalite/health                          {"status": "ok", "pid", "version", ...}
    GET  /_lambdalite/logs?function=F[&since&after&limit]   a function's log lines, oldest first
    GET  /_lambdalite/logs?group=API-Gateway-Execution-Logs_{api}/{stage}[&...]   a stage's execution log
    GET  /_lambdalite/invocations?function=F[&limit]  a function's invocation records, newest first: request
                                                       id, version, qualifier, invocation type, start, duration,
                                                       billed, memory, init/restore, cold, outcome (ok, error,
                                                       timeout, out_of_memory, throttled), error type, cost
    GET  /_lambdalite/code/{sha256 hex}.zip           a code archive (GetFunction's Code.Location)
    GET  /_lambdalite/builds                          {"builds": [...]}: dependency builds under way
    GET  /_lambdalite/instances[?function=F]          {"instances": [{pid, function, version, busy, zygote}],
                                                       "zygotes": [pid, ...]}: the processes running now
    GET  /_lambdalite/traffic?function=F&alias=A      per version behind alias A: invocations, errors,
                                                       p50/p99; its shadow's agreement and samples
    PUT  /_lambdalite/functions/F/aliases/A/shadow {"Version": "2"[, "Compare": "body.class"]}
                                                      version 2 shadows alias A (answers compared
                                                      whole, or the part the dotted path names)
    DELETE /_lambdalite/functions/F/aliases/A/shadow  no shadow any more
    POST /_lambdalite/map {"function", "qualifier"?, "payloads": [...], "concurrency"?}
                                                      {"items": [{"result"} | {"error", "requestId"} |
                                                       {"throttled": reason}, ...]}: Client.map's batches
    GET  /_lambdalite/failed?function=F[&limit]       {"records": [...]}: async outcomes for destinations
                                                       with no service here (SQS, SNS, EventBridge, S3)
    POST /_lambdalite/failed/replay?function=F        {"replayed": n}: their events sent again (async)
    GET  /_lambdalite/httpapis                        {"apis": [{id, name, stages: [{stageName, urls}]}],
                                                       "shadows": {REST stage name: HTTP API id}}: HTTP
                                                       APIs, where each stage answers, and the REST short
                                                       forms the older HTTP root answers instead
    GET  /_lambdalite/schedules                       {"schedules": [{stack, name, expression, function, next, ...}]}
    GET  /_lambdalite/clock                           {"now": s, "test": bool}
    POST /_lambdalite/clock {"advance_s": N}          moves a --test-clock server's clock (403 otherwise)

Errors are the AWS-style JSON of the other endpoints.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any

from .. import errors
from ..clock import Clock, TestClock
from ..functions.service import FunctionService
from ..invoke import fanout
from ..invoke.invoker import Invoker
from ..invoke.traffic import Traffic
from ..observe.history import History
from ..pool.types import Backend
from .http import Raw, Receive, Request, Scope, Send, answer, read_request

CODE_ARCHIVE = re.compile(r"/_lambdalite/code/([0-9a-f]{64})\.zip")
SHADOW = re.compile(r"/_lambdalite/functions/([^/]+)/aliases/([^/]+)/shadow")
BODY_LIMIT = 64 * 1024
EXECUTION_LOGS = "API-Gateway-Execution-Logs_"
CAUGHT_UP = ("/_lambdalite/logs", "/_lambdalite/invocations")   # reads that see the caller's own invocations
Answer = tuple[int, Any]


class OwnApi:
    def __init__(self, functions: FunctionService, history: History, clock: Clock,
                 health: Callable[[], dict[str, Any]], builds: Callable[[], list[dict[str, Any]]],
                 backend: Backend, traffic: Traffic, invoker: Invoker | None = None,
                 schedules: Callable[[], list[dict[str, Any]]] | None = None,
                 replay: Callable[[str, list[dict[str, Any]]], int] | None = None,
                 http_apis: Callable[[], dict[str, Any]] | None = None) -> None:
        self.replay = replay
        self._reads: dict[str, Callable[[dict[str, str]], Any]] = {   # GET path -> its answer
            "/_lambdalite/health": lambda query: self.health(),
            "/_lambdalite/logs": self.logs,
            "/_lambdalite/invocations": self.invocations,
            "/_lambdalite/builds": lambda query: {"builds": self.builds()},
            "/_lambdalite/instances": self.instances,
            "/_lambdalite/traffic": self.traffic_view,
            "/_lambdalite/failed": self.failed,
            "/_lambdalite/schedules": lambda query: {"schedules": self.schedules() if self.schedules else []},
            "/_lambdalite/httpapis": lambda query: http_apis() if http_apis else {"apis": [], "shadows": {}},
        }
        self.builds = builds
        self.schedules = schedules
        self.invoker = invoker
        self.traffic = traffic
        self.backend = backend
        self.functions = functions
        self.history = history
        self.clock = clock
        self.health = health

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request, too_large = await read_request(scope, receive, BODY_LIMIT)
        error = errors.RequestTooLarge(f"Request must be smaller than {BODY_LIMIT} bytes") if too_large else None
        await answer(send, request, error, self.route)

    async def route(self, request: Request) -> Answer:
        path, method = request.path, request.method
        if method == "GET" and path in self._reads:
            if path in CAUGHT_UP:
                await self.history.caught_up()
            return 200, self._reads[path](request.query)
        if path == "/_lambdalite/clock":
            return 200, await self.time(request)
        if path == "/_lambdalite/failed/replay" and method == "POST" and self.replay is not None:
            name = self._function(request.query)
            return 200, {"replayed": self.replay(name, self.history.dead_letters(name, 10_000))}
        if path == "/_lambdalite/map" and method == "POST":
            return 200, Raw(await self.map(request.json()), b"application/json")
        if m := SHADOW.fullmatch(path):
            return 200, self.shadow(request, m.group(1), m.group(2))
        if (m := CODE_ARCHIVE.fullmatch(path)) and method == "GET":
            return 200, Raw(await self.functions.code_archive(m.group(1)), b"application/zip")
        raise errors.ResourceNotFound(f"No Lambdalite endpoint answers {method} {path}.")

    def logs(self, query: dict[str, str]) -> dict[str, Any]:
        group = query.get("group")
        if group and not group.startswith(EXECUTION_LOGS):
            raise errors.ValidationError(f"group must be an API Gateway execution log group ({EXECUTION_LOGS}"
                                         "{api id}/{stage}); a function's lines are asked for with function=NAME")
        name = group or self._function(query)
        after = int_param(query, "after")
        limit = min(int_param(query, "limit") or 1000, 10000)
        events = self.history.logs(name, int_param(query, "since"), after, limit)
        return {"events": [{"id": e.id, "timestamp": e.ts_ms, "requestId": e.request_id, "message": e.message}
                           for e in events],
                "next": events[-1].id if events else after}

    def invocations(self, query: dict[str, str]) -> dict[str, Any]:
        records = self.history.invocations(self._function(query), min(int_param(query, "limit") or 100, 1000))
        return {"invocations": [{
            "requestId": r.request_id, "version": r.version, "startedMs": r.started_ms, "durationMs": r.duration_ms,
            "billedMs": r.billed_ms, "memoryMb": r.memory_mb, "maxMemoryUsedMb": r.max_memory_mb,
            "initDurationMs": r.init_ms, "restoreDurationMs": r.restore_ms, "cold": bool(r.cold),
            "outcome": r.outcome, "errorType": r.error_type, "qualifier": r.qualifier,
            "invocationType": r.invocation_type, "architecture": r.arch, "cost": r.cost} for r in records]}

    def instances(self, query: dict[str, str]) -> dict[str, Any]:
        name = query.get("function")
        return {"instances": [{"pid": i.pid, "function": i.function_name, "version": i.version, "busy": i.busy,
                               "zygote": i.parent} for i in self.backend.instances()
                              if name is None or i.function_name == name],
                "zygotes": self.backend.zygote_pids()}

    async def time(self, request: Request) -> dict[str, Any]:
        clock = self.clock
        if request.method == "POST":
            if not isinstance(clock, TestClock):
                raise errors.Forbidden("This server's clock is real time and cannot be moved: start it with "
                                       "`lambdalite serve --test-clock` to drive timers from tests.")
            seconds = request.json().get("advance_s")
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise errors.ValidationError("advance_s must be a number of seconds, 0 or more")
            await clock.advance(float(seconds))
        elif request.method != "GET":
            raise errors.ResourceNotFound(f"No Lambdalite endpoint answers {request.method} {request.path}.")
        return {"now": clock.now(), "test": isinstance(clock, TestClock)}

    async def map(self, body: dict[str, Any]) -> bytes:
        """One batch of Client.map: each payload its own invocation, the answers in order."""
        assert self.invoker is not None
        function, qualifier, payloads = body.get("function"), body.get("qualifier"), body.get("payloads")
        concurrency = body.get("concurrency", os.cpu_count() or 1)
        if not isinstance(function, str) or not isinstance(payloads, list):
            raise errors.InvalidParameterValue('Give {"function": NAME, "payloads": [...]} (and "qualifier", '
                                               '"concurrency" if wanted)')
        if len(payloads) > fanout.MAX_ITEMS:
            raise errors.InvalidParameterValue(f"At most {fanout.MAX_ITEMS} payloads in one batch")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise errors.InvalidParameterValue("concurrency must be a whole number, 1 or more")
        fn, invoked_arn = self.invoker.resolve(function, qualifier if isinstance(qualifier, str) else None)
        encoded = [json.dumps(p).encode() for p in payloads]
        return await fanout.run_batch(self.invoker, fn, invoked_arn, encoded, concurrency)

    def failed(self, query: dict[str, str]) -> dict[str, Any]:
        """The destination records kept for a function (destinations with no service here: queues,
        topics, buses, buckets), newest first."""
        name = self._function(query)
        return {"records": self.history.dead_letters(name, min(int_param(query, "limit") or 100, 1000))}

    def traffic_view(self, query: dict[str, str]) -> dict[str, Any]:
        name = self._function(query)
        alias = self.functions.aliases.find(name, query.get("alias", ""))
        view = self.traffic.view(name, alias.name)
        return {**view, "aliasVersion": alias.function_version, "weights": alias.weights,
                "shadowVersion": alias.shadow, "shadowCompare": alias.shadow_compare}

    def shadow(self, request: Request, function: str, alias: str) -> dict[str, Any]:
        if request.method == "PUT":
            body = request.json()
            version = body.get("Version")
            if not isinstance(version, str):
                raise errors.InvalidParameterValue('Give the shadow version as {"Version": "2"}')
            updated = self.functions.set_shadow(function, alias, version, body.get("Compare"))
        elif request.method == "DELETE":
            updated = self.functions.set_shadow(function, alias, None)
        else:
            raise errors.ResourceNotFound(f"No Lambdalite endpoint answers {request.method} {request.path}.")
        return {"Function": function, "Alias": updated.name, "FunctionVersion": updated.function_version,
                "ShadowVersion": updated.shadow, "Compare": updated.shadow_compare}

    def _function(self, query: dict[str, str]) -> str:
        name = query.get("function", "")
        self.functions.resolve(name, None)   # AWS's 404 for a function that is not there
        return name


def int_param(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise errors.ValidationError(f"1 validation error detected: Value '{raw}' at '{name}' failed to satisfy "
                                     "constraint: Member must be a whole number") from None
