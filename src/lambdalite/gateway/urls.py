"""Where a stage answers on this server: its URLs built, and request paths read back. Pure.

DESIGN.md, "One server, one port": every stage answers at its full form
`{base}/restapis/{apiId}/{stage}/_user_request_/{path}`; the short form `{base}/{stage}/{path}`
(the guide's `/PRD/addfive`) belongs to the API whose stage of that name is the oldest: a URL that
works keeps working when another API later gets a stage of the same name (SAM's default `Prod`, say);
that one answers at its full form, and takes the short one over only when the owner's stage or the
owner goes. Every place that prints or reads one of these URLs (the data plane, the management API's
warnings, stack Outputs, `lambdalite apis`) goes through here.
"""

from __future__ import annotations

from collections.abc import Iterable

USER_REQUEST = "_user_request_"


def full_stage_url(base_url: str, api_id: str, stage: str, rest: str = "/") -> str:
    return f"{base_url.rstrip('/')}{full_stage_path(api_id, stage, rest)}"


def full_stage_path(api_id: str, stage: str, rest: str = "/") -> str:
    return f"/restapis/{api_id}/{stage}/{USER_REQUEST}{_rooted(rest)}"


def short_stage_url(base_url: str, stage: str, rest: str = "/") -> str:
    return f"{base_url.rstrip('/')}/{stage}{_rooted(rest)}"


def short_owners(stages: Iterable[tuple[str, str, float]]) -> dict[str, str]:
    """(api id, stage name, created) of every stage -> stage name -> the API its short URL belongs to:
    the one whose stage of that name was created first (the lower id when two were made at once)."""
    owners: dict[str, tuple[float, str]] = {}
    for api_id, name, created in stages:
        if name not in owners or (created, api_id) < owners[name]:
            owners[name] = (created, api_id)
    return {name: api_id for name, (_, api_id) in owners.items()}


def stage_url(base_url: str, api_id: str, stage: str, short: bool, rest: str = "/") -> str:
    """The short URL when `short` (this API owns the stage name's short form), else the full one."""
    return short_stage_url(base_url, stage, rest) if short else full_stage_url(base_url, api_id, stage, rest)


def http_api_path(api_id: str, stage: str, rest: str = "/") -> str:
    """An HTTP API stage's long form (`$default` written as it is), like REST's full form."""
    return f"/httpapis/{api_id}/{stage}/{USER_REQUEST}{_rooted(rest)}"


def http_stage_url(base_url: str, api_id: str, stage: str, root: str | None, rest: str = "/") -> str:
    """Where an HTTP API's stage answers: the server's root for the `$default` stage of the API that
    holds it (`root`), else the stage's long form."""
    base = base_url.rstrip("/")
    if api_id == root and stage == "$default":
        return base + _rooted(rest)
    return base + http_api_path(api_id, stage, rest)


def parse_http_api_path(path: str) -> tuple[str, str, str] | None:
    """`/httpapis/{api}/{stage}/_user_request_/{rest}` -> (api, stage, "/" + rest); None for any other path."""
    parts = path.split("/", 5)
    if len(parts) < 5 or parts[1] != "httpapis" or parts[4] != USER_REQUEST:
        return None
    return parts[2], parts[3], "/" + (parts[5] if len(parts) == 6 else "")


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
