"""Reading an OpenAPI document as plain data, its version and base path, and small helpers over
untrusted JSON values. Pure."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import yaml

from .model import INVALID_INPUT, MAX_NODES, OpenApiImportError

# ---------------------------------------------------------------------------------------- loading


def load_document(document: bytes | str) -> dict[str, Any]:
    """The document as plain JSON data (string keys, no dates); ``Invalid OpenAPI input.`` otherwise."""
    try:
        text = document.decode("utf-8-sig") if isinstance(document, bytes) else document
        try:
            data = json.loads(text)
        except ValueError:
            data = yaml.safe_load(text)
        plain = _plain(data, [MAX_NODES], set())
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError, _TooLarge):
        raise OpenApiImportError(INVALID_INPUT) from None
    if not isinstance(plain, dict):
        raise OpenApiImportError(INVALID_INPUT)
    return plain


class _TooLarge(Exception):
    pass


def _plain(value: Any, budget: list[int], active: set[int]) -> Any:
    """JSON-like copy: YAML's int keys become strings (``200:``), dates become ISO text, cycles are refused."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(value, dict | list):
        if id(value) in active:  # a YAML alias that contains itself
            raise _TooLarge
        active.add(id(value))
        try:
            if isinstance(value, dict):
                return {_key(k): _plain(v, budget, active) for k, v in value.items()}
            return [_plain(v, budget, active) for v in value]
        finally:
            active.discard(id(value))
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _key(key: Any) -> str:
    if isinstance(key, bool):  # YAML 1.1 reads a bare `on:` or `yes:` key as a boolean
        return str(key).lower()
    return key.isoformat() if isinstance(key, datetime.date) else str(key)


def spec_version(doc: dict[str, Any]) -> int:
    if str(doc.get("swagger")) == "2.0":
        return 2
    if str(doc.get("openapi", "")).startswith("3."):
        return 3
    raise OpenApiImportError(INVALID_INPUT)


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise OpenApiImportError(f"Invalid {name} specified: {value}. Must be one of: [{', '.join(allowed)}]")


# -------------------------------------------------------------------------------------- base path


def apply_base_mode(base: str, mode: str) -> str:
    """The prefix every path gets: ignore drops the base path, prepend keeps it, split drops its first part."""
    if mode == "prepend":
        return base
    if mode == "split":
        rest = base.strip("/").partition("/")[2]
        return f"/{rest}" if rest else ""
    return ""


def clean_base(raw: str) -> str:
    stripped = raw.strip().strip("/")
    return f"/{stripped}" if stripped else ""


def server_base_path(servers: Any) -> str:
    """OAS 3: a ``basePath`` server variable wins, even when the URL does not use it (AWS docs); else the URL path."""
    candidates = [s for s in servers if isinstance(s, dict)] if isinstance(servers, list) else []
    for server in candidates:
        variable = dict_of(server.get("variables")).get("basePath")
        if isinstance(variable, dict):
            return str(variable.get("default") or "")
    for server in candidates:
        url = str(server.get("url") or "")
        for name, variable in dict_of(server.get("variables")).items():
            url = url.replace("{" + name + "}", str(dict_of(variable).get("default", "")))
        if path := urlsplit(url).path:
            return path
    return ""


# ---------------------------------------------------------------------------------------- helpers


def dict_of(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def list_of(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    items: Iterable[Any] = [value] if isinstance(value, str) else list_of(value)
    return [str(v) for v in items if isinstance(v, str | int | float)]


def upper(value: Any) -> str | None:
    return value.upper() if isinstance(value, str) and value else None


def text_of(value: Any) -> str:
    """A value as AWS prints it in messages: booleans lower case, numbers plain."""
    return value if isinstance(value, str) else json.dumps(value)


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def pointer(doc: dict[str, Any], ref: str) -> Any:
    value: Any = doc
    for token in ref[2:].split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(unescape(token))
    return value


def join_path(prefix: str, path: str) -> str:
    joined = "/" + "/".join(p for p in (prefix + path).split("/") if p)
    return joined
