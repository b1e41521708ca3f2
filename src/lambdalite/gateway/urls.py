"""Where a stage answers on this server: its URLs built, and request paths read back. Pure.

DESIGN.md, "One server, one port": every stage answers at its full form
`{base}/restapis/{apiId}/{stage}/_user_request_/{path}`; the short form `{base}/{stage}/{path}`
(the guide's `/PRD/addfive`) is for a stage name no other API uses. Every place that prints or
reads one of these URLs (the data plane, the management API's warnings, stack Outputs, `lambdalite
apis`) goes through here.
"""

from __future__ import annotations

USER_REQUEST = "_user_request_"


def full_stage_url(base_url: str, api_id: str, stage: str, rest: str = "/") -> str:
    return f"{base_url.rstrip('/')}{full_stage_path(api_id, stage, rest)}"


def full_stage_path(api_id: str, stage: str, rest: str = "/") -> str:
    return f"/restapis/{api_id}/{stage}/{USER_REQUEST}{_rooted(rest)}"


def short_stage_url(base_url: str, stage: str, rest: str = "/") -> str:
    return f"{base_url.rstrip('/')}/{stage}{_rooted(rest)}"


def stage_url(base_url: str, api_id: str, stage: str, short: bool, rest: str = "/") -> str:
    """The short URL when `short` (the stage name is this API's alone), else the full one."""
    return short_stage_url(base_url, stage, rest) if short else full_stage_url(base_url, api_id, stage, rest)


def parse_full_path(path: str) -> tuple[str, str, str] | None:
    """`/restapis/{api}/{stage}/_user_request_/{rest}` -> (api, stage, "/" + rest); None for any other path."""
    parts = path.split("/", 5)   # ['', 'restapis', api, stage, '_user_request_', rest?]
    if len(parts) < 5 or parts[1] != "restapis" or parts[4] != USER_REQUEST:
        return None
    return parts[2], parts[3], "/" + (parts[5] if len(parts) == 6 else "")


def parse_short_path(path: str) -> tuple[str, str]:
    """`/{stage}/{rest}` -> (stage, "/" + rest)."""
    stage, _, rest = path[1:].partition("/")
    return stage, "/" + rest


def _rooted(rest: str) -> str:
    return rest if rest.startswith("/") else "/" + rest
