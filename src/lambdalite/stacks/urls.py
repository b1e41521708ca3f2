"""URLs that AWS would print, rewritten to URLs this server answers at (pure; DESIGN.md "One server").

A stack's Outputs name API Gateway's public hosts, e.g.
`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}/{path}` (SAM's hello world writes
`${ServerlessRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}`). On one machine the same stage
answers at `{base}/{stage}/{path}` when no other API has a stage of that name, and always at
`{base}/restapis/{apiId}/{stage}/_user_request_/{path}`. Only hosts of APIs this server has are
rewritten; any other text is left as it is.
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


def stage_name_counts(stages: Mapping[str, Set[str]]) -> dict[str, int]:
    """stage name -> how many APIs have a stage of that name; `stages`: api id -> its stage names."""
    counts: dict[str, int] = {}
    for names in stages.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return counts


def stage_url(base_url: str, api_id: str, stage: str, counts: Mapping[str, int], rest: str = "/") -> str:
    """Where `stage` of `api_id` answers: the short form when the stage name is unique, else the full one."""
    return urls.stage_url(base_url, api_id, stage, counts.get(stage, 0) == 1, rest)


def rewrite_urls(text: str, base_url: str, stages: Mapping[str, Set[str]]) -> str:
    """Every execute-api URL in `text` of an API in `stages` (api id -> stage names), rewritten."""
    counts = stage_name_counts(stages)

    def replace(match: re.Match[str]) -> str:
        api_id = match.group("api")
        if api_id not in stages:
            return match.group(0)
        path = match.group("path") or ""
        if not path.strip("/"):
            base = base_url.rstrip("/")
            return (base if match.group("scheme") else base.split("://", 1)[-1]) + path
        stage, _, rest = path[1:].partition("/")
        url = stage_url(base_url, api_id, stage, counts, "/" + rest)
        return url if match.group("scheme") else url.split("://", 1)[-1]

    return EXECUTE_API.sub(replace, text)
