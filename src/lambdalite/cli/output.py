"""Pure rendering of what the commands print: the function table, the API table, a function error."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lambdalite.gateway.urls import full_stage_url, short_owners, short_stage_url

FUNCTION_COLUMNS = ("NAME", "RUNTIME", "MEMORY", "TIMEOUT", "LAST MODIFIED")
API_COLUMNS = ("API ID", "NAME", "STAGE", "DEPLOYMENT", "URL")
STACK_COLUMNS = ("STACK", "STATUS", "FUNCTIONS", "APIS")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart, no trailing blanks."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in (headers, *rows)]
    return "\n".join(lines)


def format_last_modified(value: str) -> str:
    """AWS's '2026-01-12T09:30:00.000+0000' -> '2026-01-12 09:30:00 UTC'; anything else as given."""
    try:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return value
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def function_row(config: dict[str, Any]) -> list[str]:
    return [
        str(config.get("FunctionName", "")),
        str(config.get("Runtime") or "-"),
        f"{config['MemorySize']} MB" if config.get("MemorySize") else "-",
        f"{config['Timeout']} s" if config.get("Timeout") else "-",
        format_last_modified(str(config.get("LastModified", ""))),
    ]


def function_table(configs: Sequence[dict[str, Any]]) -> str:
    rows = [function_row(c) for c in sorted(configs, key=lambda c: str(c.get("FunctionName", "")))]
    return format_table(FUNCTION_COLUMNS, rows)


def describe_function_error(name: str, kind: str, payload: bytes, request_id: str | None) -> str:
    """One line for stderr: which function failed, with Lambda's errorType and errorMessage."""
    try:
        error = json.loads(payload)
    except ValueError:
        error = None
    what = "the function returned an error"
    if isinstance(error, dict) and (error.get("errorType") or error.get("errorMessage")):
        what = ": ".join(str(error[k]) for k in ("errorType", "errorMessage") if error.get(k))
    request = f", request {request_id}" if request_id else ""
    return (f"function {name} failed ({kind}{request}): {what}\n"
            f"The error object is on stdout; `lambdalite logs {name}` shows the function's log lines.")


def stage_urls(endpoint: str, apis: Sequence[dict[str, Any]],
               shadows: Mapping[str, str] | None = None) -> list[list[str]]:
    """One row per URL a stage answers at: `/restapis/{id}/{stage}/_user_request_/` always, and the
    short `/{stage}/` when this API's stage of that name is the oldest (DESIGN.md "One server, one port")
    and no older HTTP API at the server's root answers it instead (`shadows`: stage name -> that API)."""
    owners = short_owners((str(api["id"]), str(stage["stageName"]), _epoch(stage.get("createdDate")))
                          for api in apis for stage in api.get("stages") or [])
    rows: list[list[str]] = []
    for api in apis:
        stages = sorted(api.get("stages") or [], key=lambda s: str(s["stageName"]))
        if not stages:
            rows.append([str(api["id"]), str(api.get("name", "")), "-", "-", "(no stage: deploy it to get a URL)"])
        for stage in stages:
            name = str(stage["stageName"])
            row = [str(api["id"]), str(api.get("name", "")), name, str(stage.get("deploymentId", "-"))]
            rows.append([*row, full_stage_url(endpoint, str(api["id"]), name)])
            if owners.get(name) == str(api["id"]) and name not in (shadows or {}):
                rows.append([*row, short_stage_url(endpoint, name)])
    return rows


def api_table(endpoint: str, apis: Sequence[dict[str, Any]], http_apis: Sequence[dict[str, Any]] = (),
              shadows: Mapping[str, str] | None = None) -> str:
    rows = stage_urls(endpoint, apis, shadows)
    for api in http_apis:
        for stage in api["stages"] or [{"stageName": "-", "urls": ["(no stage)"]}]:
            rows += [[str(api["id"]), f"{api['name']} (HTTP)", str(stage["stageName"]), "-", url]
                     for url in stage["urls"]]
    return format_table(API_COLUMNS, rows)


def stack_table(stacks: Sequence[dict[str, Any]]) -> str:
    """One row per stack: its status, its functions (logical id=name) and its REST APIs (logical id=id)."""
    def pairs(mapping: dict[str, str]) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(mapping.items())) or "-"

    rows = [[str(s["stack"]), str(s["status"]), pairs(s.get("functions") or {}), pairs(s.get("apis") or {})]
            for s in sorted(stacks, key=lambda s: str(s["stack"]))]
    return format_table(STACK_COLUMNS, rows)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _brief(text: str, limit: int = 100) -> str:
    """An event or answer in one short line: a proxy event or response shows its body."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict) and isinstance(value.get("body"), str) and ("requestContext" in value
                                                                          or "statusCode" in value):
        text = value["body"]
    return text if len(text) <= limit else text[:limit - 3] + "..."


def traffic_table(view: dict[str, Any]) -> str:
    """`lambdalite traffic`: the versions behind an alias side by side, then its shadow."""
    weights = view.get("weights") or {}
    routing = ", ".join(f"version {v} {w:.0%}" for v, w in weights.items())
    lines = [f"{view['function']}:{view['alias']} -> version {view['aliasVersion']}"
             + (f" (and {routing})" if routing else "") + f"; {view['invocations']} calls counted"]
    rows = [("VERSION", "CALLS", "SHARE", "ERRORS", "P50 MS", "P99 MS")]
    for version, f in (view.get("versions") or {}).items():
        rows.append((version, str(f["invocations"]), f"{f['share']:.1%}", str(f["errors"]), _ms(f["p50Ms"]),
                     _ms(f["p99Ms"])))
    if len(rows) > 1:
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    shadow = view.get("shadow")
    if view.get("shadowVersion") and shadow is None:
        lines.append(f"shadow: version {view['shadowVersion']}, no call compared yet")
    if shadow:
        agreement = "-" if shadow["agreement"] is None else f"{shadow['agreement']:.1%}"
        offered = shadow["queued"] + shadow["droppedQueueFull"]
        compared = f", comparing {shadow['compare']}" if shadow.get("compare") else ""
        lines.append(f"shadow: version {shadow['version']}{compared}: {shadow['ran']} run of {offered}"
                     f" ({shadow['dropped']} dropped under load), agreement {agreement}: {shadow['equal']} equal, "
                     f"{shadow['different']} different, {shadow['shadowErrors']} errors, "
                     f"{shadow['shadowTimeouts']} timeouts; p50 {_ms(shadow['primaryP50Ms'])} ms (alias) vs "
                     f"{_ms(shadow['shadowP50Ms'])} ms (shadow)")
        for sample in shadow.get("samples") or []:
            lines.append(f"  {sample['verdict']}: {_brief(sample['request'])} -> {_brief(sample['primary'])} vs "
                         f"{_brief(sample['shadow'])}")
    return "\n".join(lines)


def dollars(value: float) -> str:
    """Small amounts keep their digits: $0.0000010104, $1.25."""
    return f"${value:.2f}" if value >= 1 else f"${value:.10f}".rstrip("0").rstrip(".") if value else "$0"


def cost_table(report: dict[str, Any]) -> str:
    by = report["by"]
    names = {"function": ("function",), "version": ("function", "version"), "day": ("day",)}[by]
    rows = [[*(str(line[n]) for n in names), str(line["requests"]), f"{line['gbSeconds']:.6f}",
             dollars(line["dollars"])] for line in report["lines"]]
    total = report["total"]
    rows.append(["TOTAL", *([""] * (len(names) - 1)), str(total["requests"]), f"{total['gbSeconds']:.6f}",
                 dollars(total["dollars"])])
    table = format_table([*(n.upper() for n in names), "REQUESTS", "GB-SECONDS", "COST (USD)"], rows)
    free = "the free tier counted" if report.get("freeTier") else \
        "free tier not counted (`lambdalite serve --free-tier` counts it)"
    source = (report.get("prices") or {}).get("source") or "a price table"
    return f"{table}\n\n{report['month']}, as AWS would bill it: {source}; {free}."


def budget_table(listing: dict[str, Any]) -> str:
    if not listing["budgets"]:
        return f"No budgets ({listing['month']}). Set one with `lambdalite budget set 5.00 [--function NAME]`."
    rows = [["server" if b["scope"] == "server" else b["function"], dollars(b["monthlyBudget"]), dollars(b["spent"]),
             "-" if b["usedRatio"] is None else f"{b['usedRatio'] * 100:.1f}%",
             "refusing new invocations" if b["refusing"] else "ok"] for b in listing["budgets"]]
    return format_table(["BUDGET FOR", "MONTHLY", f"SPENT ({listing['month']})", "USED", "STATE"], rows)


def stats_text(stats: dict[str, Any], since: str) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} ms"
    rows = [["invocations", str(stats["invocations"])],
            ["errors", f"{stats['errors']} ({stats['errorRate'] * 100:.1f}%)"],
            ["throttles", str(stats["throttles"])],
            ["p50 / p90 / p99", f"{ms(stats['p50Ms'])} / {ms(stats['p90Ms'])} / {ms(stats['p99Ms'])}"],
            ["cold starts", f"{stats['coldStarts']} ({stats['coldStartShare'] * 100:.1f}%)"]]
    return f"{stats['function']}, the last {since}:\n" + format_table(["", ""], rows).split("\n", 1)[1]


def _epoch(value: Any) -> float:
    """A createdDate as the management API sends it (epoch seconds), or 0."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
