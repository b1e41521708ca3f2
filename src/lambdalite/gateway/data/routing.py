"""REST API routing: which (resource, method) pair serves a request.

Pure: compiled once per deployment from the resources (GetResources shape), then matched per
request. The rules copied from API Gateway (reference section 1.2, traps 1-8):

- the path is matched without the stage; a trailing slash is ignored (``/hello/`` is ``/hello``);
- at each level a literal segment beats ``{param}``, which beats a greedy ``{name+}``;
- resolution is on the (resource, method) PAIR: when the most specific resource has no method for
  the verb (and no ``ANY``), matching backtracks to less specific resources, typically ``/{proxy+}``;
- a concrete verb beats ``ANY``; ``ANY`` stands for exactly the seven verbs below, and there is no
  automatic HEAD-for-GET nor OPTIONS;
- ``{proxy+}`` needs at least one segment (``/{proxy+}`` does not match ``/``);
- path parameter values are NOT percent-decoded (AWS leaves ``%2B`` as is); a greedy value keeps
  inner double slashes and loses the trailing slash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ANY_METHODS", "RouteMatch", "RouteTable", "compile_route_table"]

ANY_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})


@dataclass(frozen=True, slots=True)
class RouteMatch:
    resource_id: str
    resource_path: str
    http_method_key: str  # the verb the method is declared under, or "ANY"
    method: Any           # the method as given to compile_route_table, or what its `compile` made of it
    path_parameters: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Resource:
    id: str
    path: str
    methods: Mapping[str, Any]

    def method_for(self, verb: str) -> tuple[str, Any] | None:
        if verb in self.methods:
            return verb, self.methods[verb]
        if verb in ANY_METHODS and "ANY" in self.methods:
            return "ANY", self.methods["ANY"]
        return None


@dataclass(slots=True)
class _Node:
    resource: _Resource | None = None
    literals: dict[str, _Node] = field(default_factory=dict)
    params: list[tuple[str, _Node]] = field(default_factory=list)
    greedy: list[tuple[str, _Resource]] = field(default_factory=list)


def _split(path: str) -> list[str]:
    """Segments of a path, trailing slashes ignored, inner empty segments (``//``) kept."""
    trimmed = path.rstrip("/")
    if not trimmed:
        return []
    return trimmed[1:].split("/") if trimmed.startswith("/") else trimmed.split("/")


class RouteTable:
    """An immutable, compiled route table; ``match`` is safe to call from any thread."""

    __slots__ = ("_literal", "_root")

    def __init__(self, root: _Node, literal: dict[str, _Resource]) -> None:
        self._root = root
        self._literal = literal

    def match(self, http_method: str, path: str) -> RouteMatch | None:
        verb = http_method.upper()
        segments = _split(path)
        # Fast path: a resource without variables is the first candidate the search would try.
        literal = self._literal.get("/" + "/".join(segments))
        if literal is not None and (found := literal.method_for(verb)) is not None:
            return RouteMatch(literal.id, literal.path, found[0], found[1], {})
        return _search(self._root, segments, 0, verb, {})


def _search(node: _Node, segments: list[str], index: int, verb: str, params: dict[str, str]) -> RouteMatch | None:
    if index == len(segments):
        return _accept(node.resource, verb, params)
    segment = segments[index]
    child = node.literals.get(segment) if segment else None
    if child is not None and (found := _search(child, segments, index + 1, verb, params)) is not None:
        return found
    if segment:
        for name, param_child in node.params:
            found = _search(param_child, segments, index + 1, verb, {**params, name: segment})
            if found is not None:
                return found
    rest = "/".join(segments[index:])
    for name, resource in node.greedy:
        found = _accept(resource, verb, {**params, name: rest})
        if found is not None:
            return found
    return None


def _accept(resource: _Resource | None, verb: str, params: dict[str, str]) -> RouteMatch | None:
    if resource is None:
        return None
    found = resource.method_for(verb)
    if found is None:
        return None
    return RouteMatch(resource.id, resource.path, found[0], found[1], params)


def _variable(segment: str) -> tuple[str, bool] | None:
    """``{name}`` -> (name, False); ``{name+}`` -> (name, True); a literal -> None."""
    if len(segment) > 2 and segment.startswith("{") and segment.endswith("}"):
        inner = segment[1:-1]
        return (inner[:-1], True) if inner.endswith("+") else (inner, False)
    return None


def _child(node: _Node, segment: str) -> _Node:
    variable = _variable(segment)
    if variable is None:
        return node.literals.setdefault(segment, _Node())
    for name, existing in node.params:
        if name == variable[0]:
            return existing
    created = _Node()
    node.params.append((variable[0], created))
    return created


def _insert(root: _Node, resource: _Resource, literal: dict[str, _Resource]) -> None:
    segments = _split(resource.path)
    node = root
    for position, segment in enumerate(segments):
        variable = _variable(segment)
        if variable is not None and variable[1]:
            if position == len(segments) - 1:  # a greedy part must be last; others can never match
                node.greedy.append((variable[0], resource))
            return
        node = _child(node, segment)
    node.resource = resource
    if all(_variable(segment) is None for segment in segments):
        literal["/" + "/".join(segments)] = resource


def compile_route_table(resources: list[dict[str, Any]],
                        compile: Callable[[Mapping[str, Any]], Any] | None = None) -> RouteTable:
    """Compile GetResources-shaped resources (``id``, ``path``, ``resourceMethods``) once; each method
    is kept as given, or as what ``compile(method)`` makes of it."""
    root = _Node()
    literal: dict[str, _Resource] = {}
    for raw in resources:
        methods = raw.get("resourceMethods") or {}
        resource = _Resource(str(raw["id"]), str(raw.get("path") or "/"),
                             {k.upper(): compile(v) if compile else v for k, v in methods.items()})
        _insert(root, resource, literal)
    return RouteTable(root, literal)
