"""`/_lambdalite/console/`: the functions list, a function's page (code, configuration, test events and
their results, logs), an API's page (resources, methods, stages and their URLs).

Pages read the services (never the store); what a page changes, its script changes through the HTTP
API (the Lambda API, saved test events, CloudWatch Logs), with the same validation any client gets.
Cross-site requests: those APIs refuse any `Origin` but the server's own (perimeter.py), and a page
sends its changes with `fetch` from the server's own origin.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote

import jinja2
from markupsafe import Markup

from .. import errors
from ..asgi import Receive, Scope, Send, send_response
from ..functions.service import FunctionService
from ..gateway.control.service import GatewayService
from ..gateway.urls import stage_url
from ..observe.history import History
from ..stacks.service import StackService
from . import charts

log = logging.getLogger(__name__)
PREFIX = "/_lambdalite/console"
PAGE_SIZE = 50
STATIC_TYPES = {".js": b"text/javascript; charset=utf-8", ".css": b"text/css; charset=utf-8",
                ".svg": b"image/svg+xml"}
DEFAULT_CODE = ("import json\n\n\ndef lambda_handler(event, context):\n"
                "    return {\"statusCode\": 200, \"body\": json.dumps(\"Hello from Lambda!\")}\n")
SECURITY_HEADERS = [(b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
                    (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                    (b"cache-control", b"no-store")]


class Console:
    def __init__(self, functions: FunctionService, gateway: GatewayService, history: History,
                 base_url: str, stacks: StackService | None = None,
                 prices: tuple[float, float] = (0.0, 0.0)) -> None:
        self.stacks = stacks
        self.prices = prices   # (per request, per GB-second at the first tier): the cost chart
        self.region, self.account = functions.region, functions.account
        self.functions = functions
        self.gateway = gateway
        self.history = history
        self.base_url = base_url
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("lambdalite.console", "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.templates.filters["urlpart"] = lambda value: quote(str(value), safe="")
        self._static: dict[str, bytes] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"][len(PREFIX):] or "/"
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
        if scope["method"] not in ("GET", "HEAD"):
            await _html(send, 405, "<p>The console's pages are read with GET; changes go through the API.</p>")
            return
        try:
            if path.startswith("/static/"):
                await self._asset(send, path[len("/static/"):])
                return
            status, body = await self.page(path, query)
        except errors.ResourceNotFound as e:
            status, body = 404, self._render("missing.html", message=e.message)
        except Exception:   # noqa: BLE001 - a page that cannot be drawn is a 500 page, the reason in the log
            log.exception("the console page %s could not be drawn", path)
            status, body = 500, "<p>This page could not be drawn; the server's log says why.</p>"
        await _html(send, status, body)

    async def page(self, path: str, query: dict[str, str]) -> tuple[int, str]:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return 200, await self.functions_page(query)
        if parts == ["functions", "new"]:
            return 200, self._render("new_function.html", default_code=DEFAULT_CODE)
        if len(parts) == 2 and parts[0] == "functions":
            return 200, await self.function_page(parts[1])
        if len(parts) == 2 and parts[0] == "apis":
            return 200, self.api_page(parts[1])
        if parts == ["apis"]:
            return 200, self._render("apis.html", apis=self.gateway.get_rest_apis())
        if parts == ["stacks"] and self.stacks is not None:
            return 200, self._render("stacks.html", stacks=self.stacks.all())
        if len(parts) == 2 and parts[0] == "stacks" and self.stacks is not None:
            record = self.stacks.get(parts[1])   # ResourceNotFound: the missing page
            return 200, self._render("stack.html", stack=record, outputs=self.stacks.outputs(record),
                                     urls=self.stacks.stage_urls(record))
        raise errors.ResourceNotFound(f"No console page at {PREFIX}{path}")

    # -- pages -------------------------------------------------------------------------------------

    async def functions_page(self, query: dict[str, str]) -> str:
        """The records are counted on a worker thread (a busy function's last hour takes SQLite a while:
        the event loop answers others meanwhile); what the page shows of each function is read here."""
        names = sorted(self.functions.names())
        pages = max(1, math.ceil(len(names) / PAGE_SIZE))
        page = min(max(1, _int(query.get("page"), 1)), pages)
        since_ms = int((time.time() - 3600) * 1000)
        shown = [fn for fn in map(self.functions.get, names[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]) if fn is not None]
        stats = await asyncio.to_thread(lambda: [self.history.function_stats(fn.name, since_ms) for fn in shown])
        rows = [{"name": fn.name, "state": fn.state, "runtime": fn.runtime, "memory": fn.memory_size,
                 "modified": fn.last_modified, "invocations": invocations, "errors": failed, "p99": p99}
                for fn, (invocations, failed, p99) in zip(shown, stats, strict=True)]
        return self._render("functions.html", rows=rows, page=page, pages=pages, total=len(names))

    async def function_page(self, name: str) -> str:
        fn = self.functions.get(name)
        if fn is None:
            raise errors.ResourceNotFound(f"Function not found: {name}")
        code = self.functions.code.folder(fn.code_hex)
        files = _source_files(code)
        events = self.functions.test_events(name)
        now_ms = int(time.time() * 1000)
        recent = await asyncio.to_thread(self.history.recent, name, now_ms - 3_600_000, charts.CHART_SAMPLE)
        minutes = charts.per_minute(recent, now_ms)
        drawn = [
            charts.bars("Invocations and errors per minute", [
                ("invocations", "#0972d3", [m.invocations for m in minutes]),
                ("errors", "#d91515", [m.errors for m in minutes])]),
            charts.lines("Duration per minute", "ms", [
                ("p50", "#037f0c", [m.p50 for m in minutes]), ("p99", "#ff9900", [m.p99 for m in minutes])]),
            charts.lines("Cost per minute at AWS's price", "$", [
                ("dollars", "#5f6b7a", [charts.dollars(m, *self.prices) if m.invocations else None
                                        for m in minutes])]),
        ]
        return self._render("function.html", fn=fn, arn=self.functions.arn(name), files=files, events=events,
                            charts=[Markup(svg) for svg in drawn],
                            variables=json.dumps(fn.variables, indent=2),
                            editable=len(files) > 0 and all(f["editable"] for f in files),
                            versions=self.functions.versions(name) if fn.version == "$LATEST" else [],
                            aliases=self.functions.list_aliases(name, None))

    def api_page(self, api_id: str) -> str:
        try:
            api = self.gateway.get_rest_api(api_id)
        except errors.ServiceError:
            raise errors.ResourceNotFound(f"No REST API {api_id}") from None
        resources_ = sorted(self.gateway.get_resources(api_id, embed=True), key=lambda r: r["path"])
        owners = self.gateway.short_owners()
        stages = []
        for stage in self.gateway.get_stages(api_id, None):
            short = owners.get(stage["stageName"]) == api_id
            stages.append({**stage, "url": stage_url(self.base_url, api_id, stage["stageName"], short)})
        return self._render("api.html", api=api, resources=resources_, stages=stages, region=self.region,
                            account=self.account,
                            pretty=lambda value: json.dumps(value, indent=2, sort_keys=True))

    # -- rendering ---------------------------------------------------------------------------------

    def _render(self, template: str, **values: Any) -> str:
        return self.templates.get_template(template).render(prefix=PREFIX, **values)

    async def _asset(self, send: Send, name: str) -> None:
        suffix = name[name.rfind("."):] if "." in name else ""
        if "/" in name or suffix not in STATIC_TYPES:
            await _html(send, 404, "<p>No such file.</p>")
            return
        data = self._static.get(name)
        if data is None:
            try:
                data = self._static[name] = resources.files("lambdalite.console").joinpath("static", name).read_bytes()
            except (FileNotFoundError, IsADirectoryError):
                await _html(send, 404, "<p>No such file.</p>")
                return
        await send_response(send, 200, data, [(b"content-type", STATIC_TYPES[suffix]),
                                              (b"cache-control", b"max-age=300"),
                                              (b"x-content-type-options", b"nosniff")])


async def _html(send: Send, status: int, body: str) -> None:
    await send_response(send, status, body.encode(), [(b"content-type", b"text/html; charset=utf-8"),
                                                       *SECURITY_HEADERS])


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


MAX_EDITABLE = 256 * 1024


def _source_files(folder: Any) -> list[dict[str, Any]]:
    """The code folder's files (what the editor shows): text files up to 256 KB are editable."""
    out: list[dict[str, Any]] = []
    try:
        paths = sorted(p for p in folder.rglob("*") if p.is_file())
    except OSError:
        return out
    for path in paths[:200]:
        relative = str(path.relative_to(folder))
        try:
            size = path.stat().st_size
            text = path.read_text("utf-8") if size <= MAX_EDITABLE else None
        except (OSError, UnicodeDecodeError):
            text = None
        out.append({"name": relative, "text": text, "editable": text is not None, "size": size})
    return out
