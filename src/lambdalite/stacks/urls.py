"""URLs that AWS would print, rewritten to URLs this server answers at (pure; DESIGN.md "One server").

A stack's Outputs name API Gateway's public hosts, e.g.
`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}/{path}` (SAM's hello world writes
`${ServerlessRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}`). On one machine the same stage
answers at `{base}/{stage}/{path}` when its API owns that short form (the oldest stage of the name,
`gateway.urls.short_owners`), and always at `{base}/restapis/{apiId}/{stage}/_user_request_/{path}`.
Only hosts of APIs this server has are rewritten; any other text is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set

from ..gateway import urls

# scheme optional (`${Api}.execute-api...` without https:// is a common Output too); the suffix is
# amazonaws.com (or .com.cn) as AWS::URLSuffix resolves, or anything host-like a template wrote.
EXECUTE_API = re.compile(
    r"(?P<scheme>https?://)?(?P<api>[a-z0-9]{10})\.execute-api\.(?P<region>[a-z0-9-]+)\."
    r"(?P<suffix>[A-Za-z0-9.-]*[A-Za-z0-9])(?P<path>/[^\s\"'<>]*)?")


def stage_url(base_url: str, api_id: str, stage: str, owners: Mapping[str, str], rest: str = "/") -> str:
    """Where `stage` of `api_id` answers: the short form when this API owns it (`owners`: stage name ->
    api id), else the full one."""
    return urls.stage_url(base_url, api_id, stage, owners.get(stage) == api_id, rest)


def rewrite_urls(text: str, base_url: str, stages: Mapping[str, Set[str]], owners: Mapping[str, str],
                 http: Mapping[str, Set[str]] | None = None, root: str | None = None) -> str:
    """Every execute-api URL in `text` of an API in `stages` (REST: api id -> stage names) or `http`
    (HTTP APIs: api id -> stage names; `root` the one serving the server's root), rewritten."""
    http = http or {}

    def replace(match: re.Match[str]) -> str:
        api_id = match.group("api")
        if api_id in http:
            url = http_api_url(base_url, api_id, http[api_id], root, match.group("path") or "")
            return url if match.group("scheme") else url.split("://", 1)[-1]
        if api_id not in stages:
            return match.group(0)
        path = match.group("path") or ""
        if not path.strip("/"):
            base = base_url.rstrip("/")
            return (base if match.group("scheme") else base.split("://", 1)[-1]) + path
        stage, slash, rest = path[1:].partition("/")
        url = stage_url(base_url, api_id, stage, owners, "/" + rest)
        url = url if slash else url.rstrip("/")   # `/Prod` stays without the slash the template did not write
        return url if match.group("scheme") else url.split("://", 1)[-1]

    return EXECUTE_API.sub(replace, text)


def http_api_url(base_url: str, api_id: str, stages: Set[str], root: str | None, path: str) -> str:
    """Where an HTTP API URL's stage answers: a named stage (its first segment) at its long form;
    `$default` at the server's root when this API holds it, else at its long form."""
    first, slash, rest = path[1:].partition("/")
    if first and first in stages and first != "$default":
        url = urls.http_stage_url(base_url, api_id, first, root, "/" + rest)
        return url if slash else url.rstrip("/")
    url = urls.http_stage_url(base_url, api_id, "$default", root, path or "/")
    return url if path else url.rstrip("/")   # no path given, none added
