"""Template text (YAML or JSON) -> a plain dict with CloudFormation's short tags in their long forms. Pure.

`!GetAtt A.B` -> `{"Fn::GetAtt": ["A", "B"]}`, `!Ref X` -> `{"Ref": "X"}`, `!Condition C` ->
`{"Condition": "C"}`, every other `!Name` -> `{"Fn::Name": ...}`. Timestamps stay text (an unquoted
`Version: 2012-10-17` in a policy is a string to CloudFormation, a date to plain YAML). Every refusal
is a `Problems` saying where and what to do.

YAML aliases are resolved (as SAM CLI resolves them), but a document they expand past
`MAX_VALUES` values is refused before anything walks it: a 749-byte "billion laughs" template would
otherwise be 10^8 values to every step after the parser. Nesting too deep for the parser is refused too.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from ..errors import Problems

__all__ = ["MAX_VALUES", "SHORT_TAGS", "TemplateTooLarge", "load_template"]

MAX_VALUES = 500_000   # as OpenAPI imports (gateway.control.openapi): far past any real template

SHORT_TAGS = (
    "Ref", "Condition", "GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "Not", "And", "Or",
    "FindInMap", "Base64", "Cidr", "GetAZs", "ImportValue", "Transform",
)  # fmt: skip


class _Duplicate:
    def __init__(self, node: yaml.MappingNode, key: str, first_line: int, line: int) -> None:
        self.node, self.key, self.first_line, self.line = node, key, first_line, line


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that knows CloudFormation's tags and remembers duplicate keys instead of keeping the last."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[_Duplicate] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if isinstance(key, str) and key in seen:
                self.duplicates.append(_Duplicate(node, key, seen[key], line))
            elif isinstance(key, str):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _construct_tag(loader: _TemplateLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if suffix not in SHORT_TAGS:
        mark = node.start_mark
        raise yaml.constructor.ConstructorError(None, None, f"unknown tag !{suffix}", mark)
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # `!GetAtt A.B.C` names attribute `B.C` of A, as CloudFormation reads it
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return {name: value}


def _construct_text(loader: _TemplateLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_TemplateLoader.add_multi_constructor("!", _construct_tag)
_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)


class TemplateTooLarge(yaml.YAMLError):
    """A document its aliases expand past MAX_VALUES values, or nested too deeply to read."""


def check_expansion(document: Any) -> None:
    """TemplateTooLarge when `document`, its aliases expanded, holds more than MAX_VALUES values (a
    walk that stops at the limit: a billion-laughs document costs MAX_VALUES steps, not 10^8)."""
    budget = MAX_VALUES
    pending = [document]
    while pending:
        value = pending.pop()
        budget -= 1
        if isinstance(value, dict):
            budget -= len(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        if budget < 0:
            raise TemplateTooLarge(f"its YAML aliases expand it past {MAX_VALUES:,} values (a 'billion laughs' "
                                   "document?): write the repeated parts out, or nest fewer aliases")


def load_document(text: str) -> Any:
    """A YAML or JSON document with CloudFormation's short tags, as `lambdalite deploy` reads a
    template or an included file on the client: raises yaml.YAMLError (TemplateTooLarge for one its
    aliases make huge); duplicate keys are left for `load_template` on the server to report."""
    try:
        document = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise TemplateTooLarge("it is nested too deeply to read") from None
    check_expansion(document)
    return document


def load_template(text: str) -> dict[str, Any]:
    """The template as a dict; `Problems` when it is not YAML/JSON, not a mapping, has no Resources,
    or names two resources (or any two keys of one mapping) alike."""
    document = _load_json(text)
    if document is None:
        document = _load_yaml(text)
    if not isinstance(document, dict):
        kind = "empty" if document is None else f"a {type(document).__name__}"
        raise Problems([f"Template: valid YAML but not a mapping (it is {kind}): a template is a mapping "
                             "with at least a Resources section"])
    resources = document.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise Problems(["Template: no Resources section (or it is empty): declare at least one resource "
                             "under Resources"])
    return document


def _load_json(text: str) -> Any:
    """JSON templates, with their duplicate keys refused; None when the text is not JSON (then YAML reads it)."""
    if not text.lstrip().startswith("{"):
        return None
    problems: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                problems.append(f"Template: the key '{key}' appears twice in one mapping: keep only one")
            out[key] = value
        return out

    try:
        document = json.loads(text, object_pairs_hook=pairs)
    except ValueError:
        return None
    except RecursionError:
        raise Problems(["Template: nested too deeply to read: flatten it"]) from None
    if problems:
        raise Problems(problems)
    return document


def _load_yaml(text: str) -> Any:
    loader = _TemplateLoader(text)
    try:
        root = loader.get_single_node()
        document = loader.construct_document(root) if root is not None else None
        check_expansion(document)
    except TemplateTooLarge as error:
        raise Problems([f"Template: {error}"]) from None
    except RecursionError:
        raise Problems(["Template: nested too deeply to read: flatten it"]) from None
    except yaml.YAMLError as error:
        raise Problems([_yaml_problem(error)]) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        resources = _resources_node(root)
        raise Problems([_duplicate_problem(dup, dup.node is resources) for dup in loader.duplicates])
    return document


def _resources_node(root: yaml.Node | None) -> yaml.Node | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    for key_node, value_node in root.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "Resources":
            found: yaml.Node = value_node
            return found
    return None


def _duplicate_problem(dup: _Duplicate, in_resources: bool) -> str:
    if in_resources:
        return (f"Resources: two resources have the logical id '{dup.key}' (lines {dup.first_line} and "
                f"{dup.line}): give each resource its own logical id")
    return (f"Template line {dup.line}: the key '{dup.key}' appears twice in one mapping (first at line "
            f"{dup.first_line}): keep only one")


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    what = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    detail = f"{what} ({context})" if context else str(what)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
    return f"Template: YAML error at {where}: {detail}: fix the template's syntax there"
