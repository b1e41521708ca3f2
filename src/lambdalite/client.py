"""The Python SDK: a small client of a Lambdalite server over its HTTP API.

It speaks the Lambda REST API and API Gateway's management API as AWS defines them (unsigned; a
Lambdalite server accepts that) plus Lambdalite's own `/_lambdalite/...` endpoints, over the
standard library's `http.client`; `deploy` also reads a SAM project folder (`project.py`, with
PyYAML). Every error crosses this seam as `errors.ClientError`: the server's AWS
error code and HTTP status when it answered, an empty code and status 0 with the endpoint named
when it could not be reached.

    >>> from lambdalite import Client
    >>> Client().invoke("addfive", {"num": "15"}).json()
    20
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdalite.errors import ClientError, Problems, StackRejected

DEFAULT_ENDPOINT = "http://127.0.0.1:9000"
# Longer than the longest function timeout AWS allows (900 s): a long synchronous invoke is never
# cut off by the client first, and never retried behind the caller's back (boto3's classic trap).
DEFAULT_TIMEOUT_S = 910.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
LAMBDA_PREFIX = "/2015-03-31/functions"
BUILD_POLL_S = 1.0   # how often `deploy` asks what is being built while the server deploys
MAP_BATCH_PER_WORKER = 32   # items per Client.map request, per concurrent invocation, at most
MAP_QUICK_S = 0.25          # a batch answered this fast lets the next one be twice as large
MAP_BACKOFF_S = 0.05        # the first wait after a throttled item, doubled each time
MAP_BACKOFF_MAX_S = 5.0
_RETRYABLE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


@dataclass(frozen=True)
class InvokeResult:
    """One synchronous invocation's answer, as Lambda's Invoke returns it."""

    status: int
    payload: bytes
    function_error: str | None = None   # "Unhandled" when the function raised, timed out or crashed
    log: str | None = None              # the log tail (last 4 KB) when asked for with log=True
    executed_version: str | None = None
    request_id: str | None = None

    def json(self) -> Any:
        """The payload parsed as JSON (None for an empty payload)."""
        return json.loads(self.payload) if self.payload else None

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", errors="replace")


class InvocationError(Exception):
    """A `Client.map` item that failed (the function raised, timed out or crashed, after its retries):
    it stands in the results where that item's answer would be, so one failure loses nothing else."""

    def __init__(self, error_type: str, message: str, request_id: str | None = None, index: int | None = None) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.request_id = request_id
        self.index = index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InvocationError) and (self.error_type, self.message, self.index) == \
            (other.error_type, other.message, other.index)

    def __hash__(self) -> int:
        return hash((self.error_type, self.message, self.index))

    def __reduce__(self) -> tuple[Any, ...]:
        return (InvocationError, (self.error_type, self.message, self.request_id, self.index))


@dataclass(frozen=True)
class LogEvent:
    id: int
    timestamp: int      # epoch milliseconds
    request_id: str
    message: str


@dataclass(frozen=True)
class LogPage:
    """Log events in id order; `next` is the `after` to ask with for the events that follow."""

    events: list[LogEvent]
    next: int | None


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else {}


class _TimeoutsMixin:
    """Connect with a short timeout, then read with the long one."""

    read_timeout: float
    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        if self.sock is not None:
            self.sock.settimeout(self.read_timeout)


class _HTTPConnection(_TimeoutsMixin, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_TimeoutsMixin, http.client.HTTPSConnection):
    pass


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """True when the server closed an idle kept-alive connection (it reads as ready: EOF)."""
    if conn.sock is None:
        return True
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class Client:
    """A client of one Lambdalite server. Keeps its connections alive; safe to share across threads."""

    def __init__(self, endpoint: str | None = None, region: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT_S,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
                 credentials: tuple[str, str] | None = None) -> None:
        """`credentials` (access key id, secret) sign every request (SigV4, as the server checks them);
        by default LAMBDALITE_ACCESS_KEY_ID / _SECRET_ACCESS_KEY, else AWS_ACCESS_KEY_ID / ..., else the
        AWS_PROFILE (or default) profile of ~/.aws/credentials; none: requests go unsigned. `region`
        (the server's; signatures are scoped to it): LAMBDALITE_REGION, else us-east-1."""
        from .signing import client_credentials

        self.endpoint = (endpoint or os.environ.get("LAMBDALITE_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.region = region or os.environ.get("LAMBDALITE_REGION") or "us-east-1"
        self._credentials = credentials or client_credentials(os.environ)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        url = urllib.parse.urlsplit(self.endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ClientError(f"endpoint {self.endpoint!r} is not an http(s) URL; "
                              "give one like http://127.0.0.1:9000", "InvalidEndpoint")
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port
        self._base_path = url.path.rstrip("/")
        self._netloc = url.netloc
        self._origin = f"{url.scheme}://{url.netloc}"
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    # -- the Lambda API ------------------------------------------------------------------------

    def invoke(self, name: str, event: Any = None, *, payload: bytes | None = None,
               qualifier: str | None = None, log: bool = False) -> InvokeResult:
        """Invoke `name` synchronously with `event` (JSON-encoded) or the raw `payload` bytes.

        A function that raises is not an exception here: see `InvokeResult.function_error`.
        """
        if payload is None:
            payload = b"" if event is None else json.dumps(event).encode()
        headers = {"X-Amz-Invocation-Type": "RequestResponse", "X-Amz-Log-Type": "Tail" if log else "None"}
        query = {"Qualifier": qualifier} if qualifier else {}
        answer = self._call("POST", f"{LAMBDA_PREFIX}/{_quote(name)}/invocations", query, payload, headers)
        tail = answer.header("X-Amz-Log-Result")
        return InvokeResult(
            status=answer.status, payload=answer.body,
            function_error=answer.header("X-Amz-Function-Error"),
            log=base64.b64decode(tail).decode("utf-8", errors="replace") if tail else None,
            executed_version=answer.header("X-Amz-Executed-Version"),
            request_id=answer.header("x-amzn-RequestId"),
        )

    # -- fan-out ----------------------------------------------------------------------------------

    def map(self, function: str, payloads: Iterable[Any], *, qualifier: str | None = None,
            concurrency: int | None = None, retries: int = 0) -> list[Any]:
        """Invoke `function` once per payload (JSON values) and return the results in order: item i is
        what the function returned for payloads[i], or an `InvocationError` when it failed (after
        `retries` more tries). Throttles are always tried again, with back-off. `concurrency`: how many
        run at once (None: what the server advises, its cores). Each item is its own invocation."""
        items = list(payloads)
        results: list[Any] = [None] * len(items)
        for index, result in self.imap(function, items, qualifier=qualifier, concurrency=concurrency,
                                       retries=retries):
            results[index] = result
        return results

    def imap(self, function: str, payloads: Iterable[Any], *, qualifier: str | None = None,
             concurrency: int | None = None, retries: int = 0) -> Iterator[tuple[int, Any]]:
        """As `map`, yielding (index, result or InvocationError) as batches finish."""
        items = list(payloads)
        if concurrency is None:
            concurrency = int(self.health().get("cores") or 1)
        if concurrency < 1:
            raise ValueError("concurrency must be 1 or more")
        tries = dict.fromkeys(range(len(items)), 0)
        todo = list(range(len(items)))
        backoff = MAP_BACKOFF_S
        batch = concurrency   # grows while batches come back quickly: slow items report early
        while todo:
            again: list[int] = []
            throttled = False
            start = 0
            while start < len(todo):
                chunk = todo[start:start + batch]
                start += len(chunk)
                sent = time.monotonic()
                body: dict[str, Any] = {"function": function, "payloads": [items[i] for i in chunk],
                                        "concurrency": concurrency}
                if qualifier:
                    body["qualifier"] = qualifier
                answer = self._call("POST", "/_lambdalite/map", None, json.dumps(body).encode()).json()
                if time.monotonic() - sent < MAP_QUICK_S:
                    batch = min(batch * 2, concurrency * MAP_BATCH_PER_WORKER)
                for index, item in zip(chunk, answer["items"], strict=True):
                    outcome = _map_outcome(index, item, tries, retries)
                    if outcome is _AGAIN:
                        throttled = throttled or "throttled" in item
                        again.append(index)
                    else:
                        yield index, outcome
            if throttled:   # fewer at once from now on; wait longer only while nothing gets through
                progressed = len(again) < len(todo)
                concurrency = max(1, concurrency // 2)
                backoff = MAP_BACKOFF_S if progressed else min(backoff * 2, MAP_BACKOFF_MAX_S)
                time.sleep(backoff)
            todo = again

    def list_functions(self) -> list[dict[str, Any]]:
        """Every function's configuration ($LATEST), following NextMarker across pages."""
        return self._pages(f"{LAMBDA_PREFIX}/", "Functions")

    def get_function(self, name: str, qualifier: str | None = None) -> dict[str, Any]:
        """GetFunction: {"Configuration": ..., "Code": ..., "Tags": ...}."""
        query = {"Qualifier": qualifier} if qualifier else {}
        result: dict[str, Any] = self._call("GET", f"{LAMBDA_PREFIX}/{_quote(name)}", query).json()
        return result

    def delete_function(self, name: str, qualifier: str | None = None) -> None:
        query = {"Qualifier": qualifier} if qualifier else {}
        self._call("DELETE", f"{LAMBDA_PREFIX}/{_quote(name)}", query)

    def publish_version(self, name: str, description: str | None = None) -> dict[str, Any]:
        """PublishVersion: `$LATEST` as the next version (or the newest one, when nothing changed)."""
        body = {"Description": description} if description is not None else {}
        result: dict[str, Any] = self._call("POST", f"{LAMBDA_PREFIX}/{_quote(name)}/versions", None,
                                            json.dumps(body).encode()).json()
        return result

    def list_versions(self, name: str) -> list[dict[str, Any]]:
        """ListVersionsByFunction: `$LATEST`, then each published version (every page)."""
        return self._pages(f"{LAMBDA_PREFIX}/{_quote(name)}/versions", "Versions")

    def get_alias(self, name: str, alias: str) -> dict[str, Any] | None:
        """GetAlias, or None when the function has no such alias."""
        try:
            result: dict[str, Any] = self._call("GET", f"{LAMBDA_PREFIX}/{_quote(name)}/aliases/{_quote(alias)}").json()
        except ClientError as exc:
            if exc.status == 404 and "alias" in exc.message.lower():
                return None
            raise
        return result

    def put_alias(self, name: str, alias: str, version: str, weights: dict[str, float] | None = None,
                  description: str | None = None) -> dict[str, Any]:
        """Point `alias` at `version` (created when missing), with `weights` ({version: share}) to
        another version; no weights removes any routing."""
        body: dict[str, Any] = {"FunctionVersion": version,
                                "RoutingConfig": {"AdditionalVersionWeights": weights or {}}}
        if description is not None:
            body["Description"] = description
        if self.get_alias(name, alias) is None:
            body["Name"] = alias
            created: dict[str, Any] = self._call("POST", f"{LAMBDA_PREFIX}/{_quote(name)}/aliases", None,
                                                 json.dumps(body).encode()).json()
            return created
        updated: dict[str, Any] = self._call("PUT", f"{LAMBDA_PREFIX}/{_quote(name)}/aliases/{_quote(alias)}",
                                             None, json.dumps(body).encode()).json()
        return updated

    def list_aliases(self, name: str) -> list[dict[str, Any]]:
        return self._pages(f"{LAMBDA_PREFIX}/{_quote(name)}/aliases", "Aliases")

    def delete_alias(self, name: str, alias: str) -> None:
        self._call("DELETE", f"{LAMBDA_PREFIX}/{_quote(name)}/aliases/{_quote(alias)}")

    def failed(self, name: str, limit: int = 100) -> list[dict[str, Any]]:
        """Async outcomes kept for `name` (destinations with no service here, dead-letter queues), newest first."""
        found: list[dict[str, Any]] = self._call("GET", "/_lambdalite/failed",
                                                 {"function": name, "limit": limit}).json().get("records") or []
        return found

    def replay_failed(self, name: str) -> int:
        """Send every kept record's event to `name` again, as an async invocation; how many."""
        return int(self._call("POST", "/_lambdalite/failed/replay", {"function": name}).json().get("replayed") or 0)

    def schedules(self) -> list[dict[str, Any]]:
        """The stacks' schedules, each with its next run (UTC), or None when disabled."""
        found: list[dict[str, Any]] = self._call("GET", "/_lambdalite/schedules").json().get("schedules") or []
        return found

    def set_shadow(self, name: str, alias: str, version: str | None, compare: str | None = None) -> dict[str, Any]:
        """Lambdalite's shadow traffic: every call of `alias` also runs on `version` (None: stop), off the
        caller's path; the answers are compared (see `traffic`): whole, or the part `compare` names
        (a dotted path such as `body.class`; a proxy response's JSON body is parsed first)."""
        path = f"/_lambdalite/functions/{_quote(name)}/aliases/{_quote(alias)}/shadow"
        if version is None:
            result: dict[str, Any] = self._call("DELETE", path).json()
        else:
            body = {"Version": version, **({"Compare": compare} if compare else {})}
            result = self._call("PUT", path, None, json.dumps(body).encode()).json()
        return result

    def traffic(self, name: str, alias: str) -> dict[str, Any]:
        """Per version behind `alias`: invocations, errors, p50/p99 ms; the shadow's agreement and samples."""
        result: dict[str, Any] = self._call("GET", "/_lambdalite/traffic", {"function": name, "alias": alias}).json()
        return result

    # -- metrics, cost and budgets ---------------------------------------------------------------

    def metrics(self) -> str:
        """The server's Prometheus text (`lambdalite_*`)."""
        return self._call("GET", "/_lambdalite/metrics").body.decode()

    def cost(self, by: str = "function", month: str | None = None) -> dict[str, Any]:
        """What the month's invocations would cost on AWS Lambda, per function, version or day:
        {"month", "lines": [{..., "requests", "gbSeconds", "dollars"}], "total", "prices", "freeTier"}."""
        result: dict[str, Any] = self._call("GET", "/_lambdalite/cost", {"by": by, "month": month}).json()
        return result

    def budgets(self) -> dict[str, Any]:
        """The month's budgets with what each has spent: {"month", "budgets": [...]}."""
        result: dict[str, Any] = self._call("GET", "/_lambdalite/budgets").json()
        return result

    def set_budget(self, amount: float | str, function: str | None = None) -> dict[str, Any]:
        """A monthly budget in dollars for the server, or for `function`: at 100% new invocations are
        refused (429, Reason BudgetExceeded) until it is raised or the month (UTC) turns."""
        body = {"amount": amount, **({"function": function} if function else {})}
        result: dict[str, Any] = self._call("PUT", "/_lambdalite/budgets", None, json.dumps(body).encode(),
                                            {"Content-Type": "application/json"}).json()
        return result

    def clear_budget(self, function: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", "/_lambdalite/budgets", {"function": function}).json()
        return result

    def stats(self, name: str, since_s: float = 3600) -> dict[str, Any]:
        """A function's invocations over the last `since_s` seconds: count, errors, throttles,
        p50/p90/p99 ms, cold-start share."""
        result: dict[str, Any] = self._call("GET", "/_lambdalite/stats", {"function": name, "since": since_s}).json()
        return result

    def _pages(self, path: str, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        marker: str | None = None
        seen: set[str] = set()
        while True:
            page = self._call("GET", path, {"Marker": marker} if marker else {}).json()
            items.extend(page.get(key) or [])
            marker = page.get("NextMarker") or None
            if marker is None or marker in seen:
                return items
            seen.add(marker)

    # -- the API Gateway management API --------------------------------------------------------

    def list_apis(self) -> list[dict[str, Any]]:
        """Every REST API (GetRestApis, following `position`), each with its `stages` (GetStages)."""
        apis: list[dict[str, Any]] = []
        position: str | None = None
        while True:
            query = {"limit": 500, "position": position}
            page = self._call("GET", "/restapis", query).json()
            apis.extend(page.get("item") or [])
            following = page.get("position") or None
            if following is None or following == position:
                break
            position = following
        for api in apis:
            api["stages"] = self.list_stages(str(api["id"]))
        return apis

    def list_http_apis(self) -> list[dict[str, Any]]:
        """Every HTTP API with its stages and the URLs each answers at (Lambdalite's own listing)."""
        apis: list[dict[str, Any]] = self._call("GET", "/_lambdalite/httpapis").json()["apis"]
        return apis

    def shadowed_short_forms(self) -> dict[str, str]:
        """REST stage name -> the HTTP API that answers its short form `/{stage}/...` instead (it holds
        the server's root and is older; docs/http-apis.md)."""
        shadows: dict[str, str] = self._call("GET", "/_lambdalite/httpapis").json().get("shadows") or {}
        return shadows

    def list_stages(self, api_id: str) -> list[dict[str, Any]]:
        """GetStages of one REST API."""
        answer = self._call("GET", f"/restapis/{_quote(api_id)}/stages").json()
        stages: list[dict[str, Any]] = answer.get("item") or []
        return stages

    # -- Lambdalite's own endpoints ------------------------------------------------------------

    def logs(self, name: str, since_ms: int | None = None, after: int | None = None,
             limit: int = 1000, group: str | None = None) -> LogPage:
        """The function's log events with id > `after` and timestamp >= `since_ms`, oldest first; or,
        with `group` (`API-Gateway-Execution-Logs_{api id}/{stage}`), a stage's execution log."""
        query: dict[str, Any] = {"since": since_ms, "after": after, "limit": limit,
                                 **({"group": group} if group else {"function": name})}
        body = self._call("GET", "/_lambdalite/logs", query).json()
        events = [
            LogEvent(id=int(e["id"]), timestamp=int(e["timestamp"]), request_id=str(e.get("requestId") or ""),
                     message=str(e.get("message", "")))
            for e in body.get("events") or []
        ]
        following = body.get("next")
        return LogPage(events=events, next=int(following) if following is not None else after)

    # -- stacks (`lambdalite deploy`), code archives and saved test events ----------------------

    def missing_code(self, hashes: list[str]) -> list[str]:
        """Which of these archive hashes (SHA-256 hex) the server does not have yet."""
        body = json.dumps({"hashes": hashes}).encode()
        answer = self._call("POST", "/_lambdalite/code", {"missing": ""}, body, {"Content-Type": "application/json"})
        return [str(h) for h in answer.json().get("missing") or []]

    def upload_code(self, digest: str, data: bytes) -> None:
        """Upload one zip archive under its SHA-256 (hex); the server checks both."""
        self._call("PUT", f"/_lambdalite/code/{digest}", None, data, {"Content-Type": "application/zip"})

    def deploy(self, folder: str | os.PathLike[str] = ".", stack_name: str | None = None,
               parameters: dict[str, str] | None = None,
               progress: Callable[[str], None] | None = None, aws_limits: bool = False,
               wait: bool = True) -> dict[str, Any]:
        """`lambdalite deploy`: read FOLDER/template.yaml, zip its code folders, upload what the server
        lacks, deploy the stack. Raises errors.TemplateMissing, StackRejected, ClientError."""
        from lambdalite import project as projects

        say = progress or (lambda line: None)
        path = Path(folder)
        name = stack_name or projects.default_stack_name(path)
        try:
            found = projects.read_project(path, on_zip=lambda key: say(f"zipping {key} ..."))
        except Problems as e:
            raise StackRejected(e.problems, 0) from None
        hashes = found.hashes
        if aws_limits:
            for warning in projects.over_aws_limits(found.code):
                say(f"warning: {warning}")
        self._check_sizes(found.code)
        missing = set(self.missing_code(sorted(set(hashes.values()))))
        for key, digest in sorted(hashes.items()):
            if digest in missing:
                say(f"uploading {key} ({(len(found.code[key]) + 1023) // 1024} KB) ...")
                self.upload_code(digest, found.code[key])
                missing.discard(digest)
        say(f"deploying stack {name} to {self.endpoint} ...")
        return self._while_building(say if progress else None, lambda: self.deploy_stack(
            name, found.template_text, parameters=parameters, code=hashes, includes=found.includes,
            test_events=found.test_events, wait=wait), stack=name)

    def _check_sizes(self, code: dict[str, bytes]) -> None:
        """Refuse, before uploading anything, a zip over the server's limit (its health answer says it)."""
        limit = int((self.health().get("limits") or {}).get("maxZipBytes") or 0)
        over = [f"CodeUri {key}: its zip is {len(data)} bytes, over this server's limit of {limit} bytes; "
                "start the server with a larger `lambdalite serve --max-zip-mb`"
                for key, data in sorted(code.items()) if limit and len(data) > limit]
        if over:
            raise StackRejected(over, 0)

    def builds(self) -> list[dict[str, Any]]:
        """The dependency builds under way on the server: function, phase, seconds, uv's last line."""
        builds: list[dict[str, Any]] = self._call("GET", "/_lambdalite/builds").json().get("builds") or []
        return builds

    def stack_progress(self, name: str, after: int = 0) -> dict[str, Any]:
        """What the deploy of stack `name` under way said from line `after` on: {"lines", "next", "underWay"}."""
        result: dict[str, Any] = self._call("GET", f"/_lambdalite/stacks/{_quote(name)}/progress",
                                            {"after": after}).json()
        return result

    def _while_building(self, say: Callable[[str], None] | None, work: Callable[[], dict[str, Any]],
                        stack: str | None = None) -> dict[str, Any]:
        """Run `work` (a deploy) in a thread and, every second meanwhile, say what is being built and
        what the deploy of `stack` said (an alias's traffic shifting, step by step)."""
        if say is None:
            return work()
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = work()
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread below
                outcome["error"] = e

        worker = threading.Thread(target=run, name="lambdalite-deploy", daemon=True)
        worker.start()
        news = _DeployNews(self, say, stack)
        while True:
            worker.join(BUILD_POLL_S)
            news.tell(building=worker.is_alive())   # the last lines too, once the deploy answered
            if not worker.is_alive():
                break
        if "error" in outcome:
            raise outcome["error"]
        result: dict[str, Any] = outcome["result"]
        return result

    def deploy_stack(self, name: str, template: str, *, parameters: dict[str, str] | None = None,
                     code: dict[str, str] | None = None, includes: dict[str, Any] | None = None,
                     test_events: dict[str, dict[str, str]] | None = None, wait: bool = True) -> dict[str, Any]:
        """PUT the stack; its archives (`code`: path -> hash) must be on the server already. `wait`
        False: answered once the template planned, applied in the background (*_IN_PROGRESS).

        Answers {"stack", "status", "changed", "outputs", "stages", "warnings"}; raises StackRejected
        (with `problems`) when the stack was not deployed, the previous one still serving."""
        body = json.dumps({"template": template, "parameters": parameters or {}, "code": code or {},
                           "includes": includes or {}, "testEvents": test_events or {}, "wait": wait}).encode()
        answer = self._send("PUT", f"{self._base_path}/_lambdalite/stacks/{_quote(name)}", body,
                            {"User-Agent": "lambdalite-client", "Content-Type": "application/json"})
        if answer.status == 400 and isinstance(answer.json(), dict) and "problems" in answer.json():
            raise StackRejected([str(p) for p in answer.json()["problems"]])
        if answer.status >= 300:
            raise _error_from(answer, "PUT", f"/_lambdalite/stacks/{name}")
        result: dict[str, Any] = answer.json()
        return result

    def list_stacks(self) -> list[dict[str, Any]]:
        stacks: list[dict[str, Any]] = self._call("GET", "/_lambdalite/stacks").json().get("stacks") or []
        return stacks

    def get_stack(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/_lambdalite/stacks/{_quote(name)}").json()
        return result

    def delete_stack(self, name: str) -> None:
        self._call("DELETE", f"/_lambdalite/stacks/{_quote(name)}")

    def test_events(self, function: str) -> dict[str, str]:
        """The function's saved test events: name -> JSON text."""
        events: dict[str, str] = self._call(
            "GET", f"/_lambdalite/functions/{_quote(function)}/test-events").json().get("testEvents") or {}
        return events

    def test_event(self, function: str, event: str) -> bytes:
        return self._call("GET", f"/_lambdalite/functions/{_quote(function)}/test-events/{_quote(event)}").body

    def save_test_event(self, function: str, event: str, payload: bytes) -> None:
        self._call("PUT", f"/_lambdalite/functions/{_quote(function)}/test-events/{_quote(event)}", None,
                   payload, {"Content-Type": "application/json"})

    def function_for(self, name: str) -> str:
        """NAME as ListFunctions shows it, or a template's logical id when exactly one stack has it."""
        if any(f.get("FunctionName") == name for f in self.list_functions()):
            return name
        found = {str(s["functions"][name]) for s in self.list_stacks() if name in (s.get("functions") or {})}
        if len(found) == 1:
            return found.pop()
        if found:
            raise ClientError(f"{name} is a function of several stacks ({', '.join(sorted(found))}); "
                              "give the function's name", "AmbiguousName")
        raise ClientError(f"Function not found: {name} is neither a function nor a logical id in a stack "
                          "(`lambdalite ls` lists both)", "ResourceNotFoundException", 404)

    def console_link(self) -> str:
        """The web console's address; on a server with keys, a one-time login link for a browser."""
        return str(self._call("POST", "/_lambdalite/console/sessions").json()["url"])

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_lambdalite/health").json()
        return result

    # -- connections ---------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(endpoint={self.endpoint!r})"

    def _call(self, method: str, path: str, query: dict[str, Any] | None = None, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> _Answer:
        """One request; an answer of 300 or more is raised as ClientError in AWS's terms."""
        target = self._base_path + path
        pairs = {k: str(v) for k, v in (query or {}).items() if v is not None}
        if pairs:
            target += "?" + urllib.parse.urlencode(pairs)
        sent = {"User-Agent": "lambdalite-client", "Accept": "application/json", **(headers or {})}
        answer = self._send(method, target, body, sent)
        if answer.status >= 300:
            raise _error_from(answer, method, path)
        return answer

    def _send(self, method: str, target: str, body: bytes | None, headers: dict[str, str]) -> _Answer:
        if self._credentials is not None:   # every request signed (SigV4), as the server checks them
            from .signing import sign
            headers = sign(method, f"{self._origin}{target}", {"Host": self._netloc, **headers}, body,
                           self._credentials, self.region)
        conn, reused = self._checkout()
        try:
            try:
                conn.request(method, target, body=body, headers=headers)
            except _RETRYABLE:
                if not reused:
                    raise
                # The server closed a kept-alive connection as we wrote: nothing reached it, retry.
                conn.close()
                conn, reused = self._new_connection(), False
                conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            answer = _Answer(response.status, response.headers, response.read())
        except TimeoutError as exc:
            conn.close()
            raise ClientError(f"no answer from the Lambdalite server at {self.endpoint} within "
                              f"{self.timeout:g} s; pass a larger timeout to Client() if the function "
                              "runs longer", "Timeout") from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._unreachable(exc) from exc
        self._checkin(conn, response.will_close)
        return answer

    def _unreachable(self, exc: BaseException) -> ClientError:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return ClientError(
            f"could not reach the Lambdalite server at {self.endpoint} ({reason or type(exc).__name__}). "
            "Start one with `lambdalite serve`, or set LAMBDALITE_ENDPOINT to where yours runs.",
            "ConnectionError", 0,
        )

    def _checkout(self) -> tuple[http.client.HTTPConnection, bool]:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._new_connection(), False
            if not _dropped(conn):
                return conn, True
            conn.close()

    def _checkin(self, conn: http.client.HTTPConnection, will_close: bool) -> None:
        if will_close:
            conn.close()
            return
        with self._lock:
            self._idle.append(conn)

    def _new_connection(self) -> http.client.HTTPConnection:
        kind = _HTTPSConnection if self._https else _HTTPConnection
        conn = kind(self._host, self._port, timeout=self.connect_timeout)
        conn.read_timeout = self.timeout
        return conn


_AGAIN = object()


def _map_outcome(index: int, item: dict[str, Any], tries: dict[int, int], retries: int) -> Any:
    """One item of a map batch's answer: its result, an InvocationError, or _AGAIN (send it again)."""
    if "throttled" in item:
        return _AGAIN
    if "error" in item:
        tries[index] += 1
        if tries[index] <= retries:
            return _AGAIN
        error = item["error"] if isinstance(item["error"], dict) else {}
        return InvocationError(str(error.get("errorType") or "Unhandled"), str(error.get("errorMessage") or
                                                                                item["error"]),
                               item.get("requestId"), index)
    return item["result"] if "result" in item else item.get("raw")


class _DeployNews:
    """What a deploy says while it runs: dependency builds (each line once) and the stack's own lines."""

    def __init__(self, client: Client, say: Callable[[str], None], stack: str | None) -> None:
        self.client, self.say, self.stack = client, say, stack
        self.said = 0
        self.last: dict[str, str] = {}

    def tell(self, building: bool) -> None:
        try:
            if self.stack is not None:
                news = self.client.stack_progress(self.stack, self.said)
                for line in news.get("lines") or []:
                    self.say(line)
                self.said = int(news.get("next") or self.said)
            if building:
                self._builds()
        except ClientError:
            return   # the next poll says it

    def _builds(self) -> None:
        for build in self.client.builds():
            line = (f"building {build.get('function')}: {build.get('phase')}, {build.get('elapsedS')} s"
                    + (f" ({build['message']})" if build.get("message") else ""))
            if self.last.get(str(build.get("function"))) != line:
                self.last[str(build.get("function"))] = line
                self.say(line)


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _error_from(answer: _Answer, method: str, path: str) -> ClientError:
    """AWS's REST-JSON error: the code in x-amzn-ErrorType (else the body), the message in the body."""
    try:
        body = json.loads(answer.body) if answer.body else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = answer.header("x-amzn-ErrorType") or body.get("code") or body.get("Code") or body.get("__type")
    # botocore's rule: "Foo:http://internal..." and "namespace#Foo" both mean "Foo".
    code = str(code or "").split(":")[0].split("#")[-1]
    message = body.get("message") or body.get("Message")
    if not message:
        text = answer.body.decode("utf-8", errors="replace").strip()[:500]
        message = f"{method} {path} answered HTTP {answer.status}" + (f": {text}" if text else "")
    return ClientError(str(message), code or f"HTTP{answer.status}", answer.status)
