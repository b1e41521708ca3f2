"""Mapping templates (VTL) as API Gateway provides them, over airspeed-ext.

Pure, and the only module that imports airspeed. ``compile_template`` parses once (at deployment);
``CompiledTemplate.render`` runs per request with API Gateway's variables (reference section 4):

- ``$input``: ``body`` (``{}`` when empty), ``json(path)``, ``path(path)``, ``params()`` /
  ``params(name)`` (path, then querystring, then header; ``""`` when absent);
- ``$util``: ``escapeJavaScript``, ``parseJson``, ``urlEncode``, ``urlDecode``, ``base64Encode``,
  ``base64Decode`` (AWS documents no others);
- ``$context`` (a copy: only ``requestOverride`` / ``responseOverride`` changes survive a render)
  and ``$stageVariables``.

Java-isms airspeed lacks are added: ``$map.size()``, ``containsKey``, ``isEmpty``, ``entrySet``,
``$s.toLowerCase()``, ``trim()``... (trap 26). Null and undefined print as ``""`` (trap 24); maps
from ``$input.path`` print Java style ``{a=b}`` and lists as compact JSON (AWS-recorded).

No template can stall the server: ``#foreach`` stops after 1,000 iterations (API Gateway's documented
limit; a loop over a list it grows, or over ``[1..$n]``, ends there), neither the output nor a value
set with ``#set`` may pass API Gateway's 10 MB, a render has a time budget (``RENDER_BUDGET_S``), and
``replaceAll`` runs users' patterns with a time limit. Past a limit the render fails
(``TemplateRenderError``: the caller gets a 500). A template with a loop is ``heavy``: the data plane
renders it off the event loop's thread.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed
import airspeed.operators
import regex

from ...errors import JsonPathError, TemplateRenderError, TemplateSyntaxError

__all__ = [
    "CompiledTemplate",
    "ContextOverrides",
    "MISSING",
    "RenderResult",
    "VtlContext",
    "compile_template",
    "escape_javascript",
    "jsonpath_find",
    "url_encode",
]


# --------------------------------------------------------------------------------------------
# JSONPath: the subset AWS's docs use ($, $.a.b, $['a-b'], $.a[0], $.a[-1], $.a[*], $.*, $..a).
# Jayway semantics: a definite path gives one value (or nothing), a wildcard/deep scan a list.

MISSING: Any = object()  # what jsonpath_find answers for a path that selects nothing
_STEP = re.compile(
    r"""\.\.(?P<deep>[^.\[\]]+)
    | \.(?P<name>[^.\[\]]+)
    | \[\s*(?P<index>-?\d+)\s*\]
    | \[\s*(?P<star>\*)\s*\]
    | \[\s*'(?P<single>(?:[^'\\]|\\.)*)'\s*\]
    | \[\s*"(?P<double>(?:[^"\\]|\\.)*)"\s*\]""",
    re.VERBOSE,
)


def _parse_path(path: str) -> list[tuple[str, Any]]:
    text = path.strip()
    if not text.startswith("$"):
        text = "$." + text if text else "$"
    steps: list[tuple[str, Any]] = []
    position = 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise JsonPathError(f"Invalid JSONPath expression: {path}")
        steps.append(_step(match))
        position = match.end()
    return steps


def _step(match: re.Match[str]) -> tuple[str, Any]:
    if match["deep"] is not None:
        return ("deep", match["deep"])
    if match["index"] is not None:
        return ("index", int(match["index"]))
    if match["star"] is not None or match["name"] == "*":
        return ("star", None)
    name = match["name"] if match["name"] is not None else (match["single"] or match["double"] or "")
    return ("name", name)


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


def _deep(value: Any, name: str) -> Iterator[Any]:
    if isinstance(value, dict) and (name == "*" or name in value):
        yield from (_children(value) if name == "*" else [value[name]])
    for child in _children(value):
        yield from _deep(child, name)


def _apply(values: list[Any], kind: str, arg: Any) -> list[Any]:
    if kind == "name":
        return [v[arg] for v in values if isinstance(v, dict) and arg in v]
    if kind == "index":
        return [v[arg] for v in values if isinstance(v, list) and -len(v) <= arg < len(v)]
    if kind == "star":
        return [child for v in values for child in _children(v)]
    return [found for v in values for found in _deep(v, arg)]


def jsonpath_find(document: Any, path: str) -> Any:
    """The value at ``path`` (``$`` optional); a list for wildcards; ``MISSING`` when absent."""
    values, definite = [document], True
    for kind, arg in _parse_path(path):
        values = _apply(values, kind, arg)
        definite = definite and kind in ("name", "index")
    if definite:
        return values[0] if values else MISSING
    return values


# --------------------------------------------------------------------------------------------
# Values as templates see them.


class _VtlNull:
    """A JSONPath miss: prints empty, is falsy, equals both ``$null`` and ``""`` (AWS-recorded)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return other is None or other == "" or isinstance(other, _VtlNull)

    def __hash__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return ""


VTL_NULL = _VtlNull()


def _java_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Entry:
    """A ``Map.Entry`` for ``#foreach($e in $map.entrySet())``: ``$e.key`` / ``$e.getValue()``."""

    __slots__ = ("key", "value")

    def __init__(self, key: Any, value: Any) -> None:
        self.key, self.value = key, value

    def getKey(self) -> Any:
        return self.key

    def getValue(self) -> Any:
        return self.value


class VtlMap(dict[str, Any]):
    """A ``java.util.Map``: missing keys are null, ``{a=b}`` when printed; Java methods registered below."""

    def __missing__(self, key: str) -> Any:
        return None

    def __str__(self) -> str:
        return _map_text(self)


class VtlList(list[Any]):
    """A ``java.util.List`` that prints as compact JSON, as ``$input.path`` lists do on AWS."""

    def __str__(self) -> str:
        return json.dumps(self, separators=(",", ":"), default=str)


def _map_text(value: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"


def to_vtl(value: Any) -> Any:
    """Wrap JSON data for templates (maps and lists get Java methods); null becomes ``VTL_NULL``."""
    if value is None or value is MISSING:
        return VTL_NULL
    return _wrap(value)


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return VtlMap({str(k): _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return VtlList(_wrap(item) for item in value)
    return value


def _map_of(data: Mapping[str, Any]) -> VtlMap:
    return VtlMap({k: _map_of(v) if isinstance(v, Mapping) else v for k, v in data.items()})


# --------------------------------------------------------------------------------------------
# $util


def escape_javascript(text: str) -> str:
    """Apache Commons ``escapeJavaScript``: quotes, ``\\``, ``/``, controls, non-ASCII as ``\\uXXXX``."""
    out: list[str] = []
    for char in text:
        code = ord(char)
        if char in _JS_ESCAPES:
            out.append(_JS_ESCAPES[char])
        elif code > 0xFFFF:  # Java strings are UTF-16: a surrogate pair, escaped unit by unit
            units = char.encode("utf-16-be")
            out.append(f"\\u{units[:2].hex().upper()}\\u{units[2:].hex().upper()}")
        elif code < 0x20 or code > 0x7E:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    return "".join(out)


_JS_ESCAPES = {"'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\n": "\\n", "\t": "\\t"}
_JS_ESCAPES.update({"\f": "\\f", "\r": "\\r"})


def url_encode(text: str) -> str:
    """``java.net.URLEncoder`` in UTF-8: space -> ``+``, ``*`` kept, ``~`` encoded (AWS-recorded)."""
    return quote_plus(text, safe="*").replace("~", "%7E")


def _json_default(value: Any) -> Any:
    """What a template put into the live document that JSON has no form for: null, or its text."""
    return None if isinstance(value, _VtlNull) else str(value)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, _VtlNull):
        return None
    return _java_text(value)


class _Util:
    """``$util`` as API Gateway documents it."""

    def escapeJavaScript(self, value: Any) -> str:
        text = _text(value)
        return "" if text is None else escape_javascript(text)

    def parseJson(self, value: Any) -> Any:
        try:
            return to_vtl(json.loads(str(value)))
        except ValueError as exc:
            raise TemplateRenderError(f"$util.parseJson: invalid JSON: {exc}") from None

    def urlEncode(self, value: Any) -> str:
        return url_encode(_text(value) or "")

    def urlDecode(self, value: Any) -> str:
        return unquote_plus(_text(value) or "")

    def base64Encode(self, value: Any) -> str:
        return base64.b64encode((_text(value) or "").encode("utf-8")).decode("ascii")

    def base64Decode(self, value: Any) -> str:
        try:
            return base64.b64decode(_text(value) or "").decode("utf-8", errors="replace")
        except (binascii.Error, ValueError) as exc:
            raise TemplateRenderError(f"$util.base64Decode: {exc}") from None


# --------------------------------------------------------------------------------------------
# $input


_UNPARSED = object()


class _Input:
    """``$input`` over the request body (text) and the method request parameters.

    The body is parsed once per render into the live document that `$input.path(...)` hands out:
    a `#set` on one of its keys shows in a later `$input.json(...)` of the same template, as on AWS
    (real templates rely on it; issue 22)."""

    def __init__(self, body: str, params: VtlMap) -> None:
        self._body = body
        self._params = params
        self._live: Any = _UNPARSED

    @property
    def body(self) -> str:
        return self._body or "{}"  # AWS-recorded: an empty body reads as {}

    def _document(self) -> Any:
        if self._live is _UNPARSED:
            try:
                self._live = _wrap(json.loads(self._body or "{}"))
            except ValueError:
                self._live = MISSING
        return self._live

    def _find(self, path: Any) -> Any:
        document = self._document()
        if document is MISSING:
            return MISSING
        try:
            return jsonpath_find(document, str(path) if path else "$")
        except JsonPathError as exc:
            raise TemplateRenderError(str(exc)) from None

    def path(self, path: Any) -> Any:
        found = self._find(path)
        return VTL_NULL if found is None or found is MISSING else found   # the live value itself

    def json(self, path: Any = "$") -> str:
        found = self._find(path)
        # A miss prints an empty JSON string, as LocalStack does (AWS: UNCONFIRMED).
        return json.dumps("" if found is MISSING else found, separators=(",", ":"), ensure_ascii=False,
                          default=_json_default)

    def params(self, name: Any = None) -> Any:
        if name is None:
            return self._params
        key = str(name)
        for location in ("path", "querystring"):
            if (value := dict.get(self._params[location], key)) is not None:
                return value
        headers: VtlMap = self._params["header"]
        if (value := dict.get(headers, key)) is not None:
            return value
        lowered = key.lower()
        return next((v for k, v in headers.items() if k.lower() == lowered), "")


# --------------------------------------------------------------------------------------------
# Airspeed: Java methods on the plain values templates create themselves ({}, 'text', [...]).


def _java_replacement(replacement: str) -> str:
    """Java's ``$1`` group references -> Python's ``\\g<1>``; other backslashes kept literal."""
    return re.sub(r"\\(.)|\$(\d+)", lambda m: m[1] if m[1] is not None else f"\\g<{m[2]}>", replacement)


def _register_java_methods() -> None:
    table: dict[type, dict[str, Callable[..., Any]]] = airspeed.operators.__additional_methods__
    table[str].update(
        {
            "toLowerCase": str.lower,
            "toUpperCase": str.upper,
            "trim": str.strip,
            "toString": str,
            "isEmpty": lambda s: not s,
            "equals": lambda s, other: s == other,
            "equalsIgnoreCase": lambda s, other: isinstance(other, str) and s.lower() == other.lower(),
            "endsWith": str.endswith,
            "indexOf": lambda s, sub: s.find(sub),
            "lastIndexOf": lambda s, sub: s.rfind(sub),
            "charAt": lambda s, i: s[i],
            "replaceAll": lambda s, pattern, repl: regex.sub(pattern, _java_replacement(repl), s,
                                                             timeout=PATTERN_TIMEOUT_S),
            "replaceFirst": lambda s, pattern, repl: regex.sub(pattern, _java_replacement(repl), s, count=1,
                                                               timeout=PATTERN_TIMEOUT_S),
        }
    )
    table[dict].update(
        {
            "toString": _map_text,
            "size": len,
            "isEmpty": lambda d: not d,
            "containsKey": lambda d, key: key in d,
            "containsValue": lambda d, value: value in d.values(),
            "entrySet": lambda d: [_Entry(k, v) for k, v in d.items()],
            "remove": lambda d, key: d.pop(key, None),
        }
    )
    # airspeed looks methods up by exact class: our wrappers get the tables of their bases.
    table[VtlMap] = table[dict]
    table[VtlList] = {**table[list], "toString": VtlList.__str__}


_register_java_methods()


# --------------------------------------------------------------------------------------------
# Limits: API Gateway bounds every template; so does this server

FOREACH_LIMIT = 1000                 # iterations of one #foreach (AWS documents 1,000)
OUTPUT_LIMIT = 10 * 1024 * 1024      # characters of output, or of one value #set makes (API Gateway's 10 MB)
RENDER_BUDGET_S = 1.0                # of one render
PATTERN_TIMEOUT_S = 0.1              # of one replaceAll / replaceFirst
_render = threading.local()          # .deadline of the render under way on this thread


def _check(stream: Any) -> None:
    deadline = getattr(_render, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateRenderError(f"the mapping template ran past its time budget of {RENDER_BUDGET_S:g} s")
    if stream.tell() > OUTPUT_LIMIT:
        raise TemplateRenderError(f"the mapping template's output passed {OUTPUT_LIMIT} characters")


def _foreach(self: Any, stream: Any, namespace: Any, loader: Any) -> None:
    """airspeed's #foreach, stopping after FOREACH_LIMIT iterations and within the render's limits."""
    iterable = self.value.calculate(namespace, loader)
    if iterable is None:
        return
    if hasattr(iterable, "keys"):
        iterable = iterable.keys()
    try:
        iter(iterable)
    except TypeError:
        raise ValueError(f"value for ${self.loop_var_name} is not iterable in #foreach: {iterable}") from None
    length = min(len(iterable), FOREACH_LIMIT) if hasattr(iterable, "__len__") else FOREACH_LIMIT
    for counter, item in enumerate(iterable, 1):
        if counter > FOREACH_LIMIT:
            break
        _check(stream)
        local = airspeed.operators.LocalNamespace(namespace)
        local["velocityCount"] = counter
        local["velocityHasNext"] = counter < length
        local["foreach"] = {"count": counter, "index": counter - 1, "hasNext": counter < length,
                            "first": counter == 1, "last": counter == length}
        local[self.loop_var_name] = item
        self.block.evaluate(stream, local, loader)


_assign = airspeed.operators.Assignment.evaluate_raw


def _bounded_assignment(self: Any, stream: Any, namespace: Any, loader: Any) -> Any:
    """#set, refusing a text value past OUTPUT_LIMIT (`#set($s = "$s$s")` thirty times is 1 GB)."""
    _check(stream)
    result = _assign(self, stream, namespace, loader)
    name = self.root_term
    value = namespace[name] if not self.terms and name in namespace else None
    if isinstance(value, str) and len(value) > OUTPUT_LIMIT:
        raise TemplateRenderError(f"the mapping template set ${name} to more than {OUTPUT_LIMIT} characters")
    return result


def _range(self: Any, namespace: Any, loader: Any) -> range:
    """`[a..b]`, its ends numbers or numeric text (`[1..$input.params('n')]`), as a lazy range: a
    #foreach over it stops at FOREACH_LIMIT however far it reaches."""
    def number(value: Any) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise TemplateRenderError(f"a range end must be a whole number, not {value!r}") from None
    start, end = number(self.value1.calculate(namespace, loader)), number(self.value2.calculate(namespace, loader))
    return range(start, end - 1, -1) if end < start else range(start, end + 1)


airspeed.operators.ForeachDirective.evaluate_raw = _foreach
airspeed.operators.Range.calculate = _range
airspeed.operators.Assignment.evaluate_raw = _bounded_assignment


# --------------------------------------------------------------------------------------------
# Templates


@dataclass(frozen=True, slots=True)
class ContextOverrides:
    """What a template set under ``$context.requestOverride`` / ``$context.responseOverride``."""

    request_headers: dict[str, str] = field(default_factory=dict)
    request_path: dict[str, str] = field(default_factory=dict)
    request_querystring: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    response_status: int | None = None


@dataclass(frozen=True, slots=True)
class VtlContext:
    """Everything a template can read; ``overrides`` carries a previous template's (MOCK)."""

    body: str = ""
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    overrides: ContextOverrides = field(default_factory=ContextOverrides)


@dataclass(frozen=True, slots=True)
class RenderResult:
    text: str
    overrides: ContextOverrides


def _status(value: Any) -> int | None:
    """``responseOverride.status`` counts only as an integer 100..599 (AWS ignores the rest)."""
    if isinstance(value, bool):
        return None
    try:
        status = int(value)
    except (TypeError, ValueError):
        return None
    return status if 100 <= status <= 599 else None


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): _java_text(v) for k, v in value.items() if v is not None and not isinstance(v, _VtlNull)}


def _context_map(vtl: VtlContext) -> VtlMap:
    context = _map_of(vtl.context)
    done = vtl.overrides
    context["requestOverride"] = VtlMap(
        header=VtlMap(done.request_headers), path=VtlMap(done.request_path),
        querystring=VtlMap(done.request_querystring),
    )  # fmt: skip
    context["responseOverride"] = VtlMap(header=VtlMap(done.response_headers), status=done.response_status)
    return context


def _overrides(context: VtlMap) -> ContextOverrides:
    request = context["requestOverride"] if isinstance(context["requestOverride"], Mapping) else {}
    response = context["responseOverride"] if isinstance(context["responseOverride"], Mapping) else {}
    return ContextOverrides(
        request_headers=_strings(request.get("header")),
        request_path=_strings(request.get("path")),
        request_querystring=_strings(request.get("querystring")),
        response_headers=_strings(response.get("header")),
        response_status=_status(response.get("status")),
    )


_PARAM_REFERENCE = re.compile(r"""\$input\.params\((?:'([^'$#\\]*)'|"([^"$#\\]*)")\)""")


def simple_parts(text: str) -> tuple[str | tuple[str], ...] | None:
    """A template that is only literal text and `$input.params('name')` references (the guide's
    `{"num": "$input.params('num')"}`): its pieces, literal strings and 1-tuples naming a
    parameter; None for any other template (a `$` or `#` left in the text)."""
    if "\\" in text:   # a backslash may escape a reference: VTL decides
        return None
    parts: list[str | tuple[str]] = []
    last = 0
    for match in _PARAM_REFERENCE.finditer(text):
        if text[match.end():match.end() + 1] in (".", "["):   # a method or index on the value: VTL's
            return None
        parts.append(text[last:match.start()])
        parts.append((match[1] if match[1] is not None else match[2],))
        last = match.end()
    parts.append(text[last:])
    if any("$" in part or "#" in part for part in parts if isinstance(part, str)):
        return None
    return tuple(part for part in parts if part != "")


def param_value(name: str, path: Mapping[str, str], query: Mapping[str, str],
                headers: Iterable[tuple[str, str]]) -> str:
    """`$input.params(name)` as `_Input.params` answers it: path, then query string, then headers
    (exact, then any case; the last of repeated headers), else ''."""
    if (value := path.get(name)) is not None or (value := query.get(name)) is not None:
        return str(value)
    by_name = dict(headers)
    if (value := by_name.get(name)) is not None:
        return str(value)
    lowered = name.lower()
    return next((str(v) for k, v in by_name.items() if k.lower() == lowered), "")


class CompiledTemplate:
    """A parsed template; ``render`` may be called concurrently (no state is kept between calls).

    A template of literal text and `$input.params('x')` only is rendered without VTL
    (``render_params``): the same text, in a fraction of the time (the guide's template costs 20 us
    through airspeed on the request path)."""

    __slots__ = ("_template", "text", "_overrides", "_uses_context", "simple", "heavy")

    def __init__(self, text: str, template: Any, fast: bool = True) -> None:
        self.text = text
        self._template = template
        # Only a template that mentions an override can set one: the others skip reading them back.
        self._overrides = "Override" in text
        # Wrapping $context for VTL costs more than rendering the guide's template: only when used.
        self._uses_context = "context" in text
        self.simple = simple_parts(text) if fast else None
        # a loop can take a while even within its limits: the data plane renders it off the event loop
        self.heavy = "#foreach" in text.lower()

    def render_params(self, path: Mapping[str, str], query: Mapping[str, str],
                      headers: Iterable[tuple[str, str]]) -> str:
        """A simple template's text (``simple`` is not None)."""
        assert self.simple is not None
        return "".join(part if isinstance(part, str) else param_value(part[0], path, query, headers)
                       for part in self.simple)

    def render(self, variables: VtlContext) -> str:
        return self.render_with_overrides(variables).text

    def render_with_overrides(self, variables: VtlContext) -> RenderResult:
        context = _context_map(variables) if self._uses_context else VtlMap()
        params = VtlMap(
            path=VtlMap(variables.path_params), querystring=VtlMap(variables.query), header=VtlMap(variables.headers)
        )
        namespace = {
            "input": _Input(variables.body, params),
            "util": _Util(),
            "context": context,
            "stageVariables": VtlMap(variables.stage_variables),
        }
        _render.deadline = time.monotonic() + RENDER_BUDGET_S
        try:
            text = self._template.merge(namespace)
        except TemplateRenderError:
            raise
        except Exception as exc:  # airspeed's own and whatever a value's method raised
            cause = exc.__cause__ if isinstance(exc.__cause__, TemplateRenderError) else None
            raise TemplateRenderError(str(cause or exc)) from None
        finally:
            _render.deadline = None
        if len(text) > OUTPUT_LIMIT:
            raise TemplateRenderError(f"the mapping template's output passed {OUTPUT_LIMIT} characters")
        return RenderResult(str(text), _overrides(context) if self._overrides else variables.overrides)


def compile_template(text: str) -> CompiledTemplate:
    """Parse a template once; raise ``TemplateSyntaxError`` (with line and column) if it is broken."""
    template = airspeed.Template(text)
    try:
        template.ensure_compiled()
    except airspeed.TemplateSyntaxError as exc:
        raise TemplateSyntaxError(str(exc).split(": ", 1)[-1], exc.line, exc.column) from None
    except RecursionError:
        raise TemplateSyntaxError("template nested too deeply", 1, 1) from None
    return CompiledTemplate(text, template)
