"""CloudFormation's intrinsic functions, conditions, parameters and reference cycles. Pure.

A `Resolver` is given everything a template's values can refer to (parameter values including the
pseudo parameters, each resource's Ref value and attributes, Mappings, Conditions) and turns a value
into plain data. It never raises: every problem is collected in `problems`, named by the `where` the
caller gives ("Resource MyFunction", "Output ApiUrl"), so one deploy reports all of them at once.
`Ref AWS::NoValue` resolves to `NO_VALUE`, which the enclosing mapping or list drops.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "NO_VALUE",
    "Context",
    "Resolver",
    "find_cycles",
    "pseudo_parameters",
    "referenced_names",
    "resolve_parameters",
]


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_UNSUPPORTED_REASONS = {
    "Fn::ImportValue": "there are no cross-stack exports",
    "Fn::GetAZs": "there are no availability zones",
    "Fn::Cidr": "there are no networks",
    "Fn::Transform": "only AWS::Include is supported, and the client must send the included file",
}
ParameterValue = str | list[str]


def pseudo_parameters(*, region: str, account: str, stack_name: str, stack_id: str) -> dict[str, ParameterValue]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
    }


@dataclass
class Context:
    parameters: dict[str, ParameterValue]            # declared and pseudo parameters -> value
    refs: dict[str, str]                             # resource logical id -> Ref value
    attributes: dict[str, dict[str, str]]            # resource logical id -> attribute -> value
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)   # the template's Conditions, unresolved


class Resolver:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.problems: list[str] = []
        self._conditions: dict[str, bool] = {}
        self._evaluating: list[str] = []
        self._functions: dict[str, Callable[[Any, str], Any]] = {
            "Ref": self._ref, "Fn::GetAtt": self._get_att, "Fn::Sub": self._sub, "Fn::Join": self._join,
            "Fn::Select": self._select, "Fn::Split": self._split, "Fn::If": self._if,
            "Fn::FindInMap": self._find_in_map, "Fn::Base64": self._base64,
            "Fn::Equals": self._condition_function, "Fn::And": self._condition_function,
            "Fn::Or": self._condition_function, "Fn::Not": self._condition_function,
        }  # fmt: skip

    # ---------------------------------------------------------------------------------------- values

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item, where) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        name = _intrinsic_name(value)
        if name is None:
            out = {key: self.resolve(item, where) for key, item in value.items()}
            return {key: item for key, item in out.items() if item is not NO_VALUE}
        function = self._functions.get(name)
        if function is None:
            reason = _UNSUPPORTED_REASONS.get(name, "Lambdalite does not implement it")
            return self._problem(f"{where}: unsupported intrinsic function {name} ({reason}): replace it with "
                                 "a literal value or a supported function")
        if name in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"):
            return function(value, where)
        return function(value[name], where)

    def text(self, value: Any, where: str) -> str | None:
        """`value` resolved and required to be a string (numbers and booleans are written out, as CFN does)."""
        resolved = self.resolve(value, where)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, str | int | float):
            return str(resolved)
        if resolved is not None and resolved is not NO_VALUE:
            self._problem(f"{where}: expected a string, got {type(resolved).__name__} {resolved!r}")
        return None

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)

    def _ref(self, name: Any, where: str) -> Any:
        if not isinstance(name, str):
            return self._problem(f"{where}: Ref takes a name, not {name!r}")
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.context.parameters:
            return self.context.parameters[name]
        if name in self.context.refs:
            return self.context.refs[name]
        return self._problem(f"{where}: Ref to '{name}', which is neither a parameter nor a resource of this "
                             "template: declare it or fix the name")

    def _get_att(self, args: Any, where: str) -> Any:
        if isinstance(args, str):
            args = args.split(".", 1)
        if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], str):
            return self._problem(f"{where}: Fn::GetAtt takes [resource, attribute], not {args!r}")
        resource, attribute = args[0], self.text(args[1], where)
        if resource not in self.context.refs:
            return self._problem(f"{where}: Fn::GetAtt of '{resource}', which is not a resource of this template: "
                                 "declare it or fix the name")
        value = self.context.attributes.get(resource, {}).get(attribute or "")
        if value is None:
            return self._problem(f"{where}: attribute {resource}.{attribute} is not supported (supported: Arn of "
                                 "functions and roles, RootResourceId of REST APIs)")
        return value

    def _sub(self, args: Any, where: str) -> Any:
        if isinstance(args, str):
            text, variables = args, {}
        elif isinstance(args, list) and len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], dict):
            text, variables = args[0], {k: self.resolve(v, where) for k, v in args[1].items()}
        else:
            return self._problem(f"{where}: Fn::Sub takes a string or [string, {{variables}}], not {args!r}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # `${!Literal}` writes `${Literal}`
            name = name.strip()
            if name in variables:
                value = variables[name]
            elif "." in name and name not in self.context.parameters:
                value = self._get_att(name.split(".", 1), where)
            else:
                value = self._ref(name, where)
            return _sub_text(value)

        return _SUB_VARIABLE.sub(replace, text)

    def _join(self, args: Any, where: str) -> Any:
        if not isinstance(args, list) or len(args) != 2:
            return self._problem(f"{where}: Fn::Join takes [separator, [values]], not {args!r}")
        separator, items = self.text(args[0], where) or "", self.resolve(args[1], where)
        if not isinstance(items, list):
            return self._problem(f"{where}: Fn::Join needs a list of values, got {items!r}")
        return separator.join(_sub_text(item) for item in items)

    def _select(self, args: Any, where: str) -> Any:
        if not isinstance(args, list) or len(args) != 2:
            return self._problem(f"{where}: Fn::Select takes [index, [values]], not {args!r}")
        index, items = self.resolve(args[0], where), self.resolve(args[1], where)
        try:
            return items[int(index)]
        except (TypeError, ValueError, IndexError, KeyError):
            return self._problem(f"{where}: Fn::Select index {index!r} is not in {items!r}")

    def _split(self, args: Any, where: str) -> Any:
        if not isinstance(args, list) or len(args) != 2:
            return self._problem(f"{where}: Fn::Split takes [separator, string], not {args!r}")
        separator, text = self.text(args[0], where), self.text(args[1], where)
        if not separator or text is None:
            return None
        return text.split(separator)

    def _if(self, args: Any, where: str) -> Any:
        if not isinstance(args, list) or len(args) != 3 or not isinstance(args[0], str):
            return self._problem(f"{where}: Fn::If takes [condition name, value if true, value if false]")
        chosen = args[1] if self.condition(args[0], where) else args[2]
        return self.resolve(chosen, where)

    def _find_in_map(self, args: Any, where: str) -> Any:
        if not isinstance(args, list) or len(args) != 3:
            return self._problem(f"{where}: Fn::FindInMap takes [map, top-level key, second-level key]")
        keys = [self.text(arg, where) for arg in args]
        value: Any = self.context.mappings
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return self._problem(f"{where}: Fn::FindInMap {keys}: no such entry in Mappings")
            value = value[key]
        return value

    def _base64(self, arg: Any, where: str) -> Any:
        text = self.text(arg, where)
        return None if text is None else base64.b64encode(text.encode()).decode()

    def _condition_function(self, value: Any, where: str) -> bool:
        return self.condition_value(value, where)

    # ------------------------------------------------------------------------------------ conditions

    def condition(self, name: str, where: str) -> bool:
        """The value of the named condition of the template's Conditions section."""
        if name in self._conditions:
            return self._conditions[name]
        if name not in self.context.conditions:
            self._problem(f"{where}: condition '{name}' is not declared under Conditions")
            return False
        if name in self._evaluating:
            cycle = " -> ".join([*self._evaluating[self._evaluating.index(name):], name])
            self._problem(f"Conditions: circular reference {cycle}")
            return False
        self._evaluating.append(name)
        result = self.condition_value(self.context.conditions[name], f"Condition {name}")
        self._evaluating.pop()
        self._conditions[name] = result
        return result

    def condition_value(self, value: Any, where: str) -> bool:
        name = _intrinsic_name(value) if isinstance(value, dict) else None
        if isinstance(value, dict) and "Condition" in value and len(value) == 1:
            return self.condition(str(value["Condition"]), where)
        args = value.get(name) if isinstance(value, dict) and name else None
        if name == "Fn::Equals" and isinstance(args, list) and len(args) == 2:
            left, right = (self.resolve(arg, where) for arg in args)
            return _sub_text(left) == _sub_text(right)
        if name in ("Fn::And", "Fn::Or") and isinstance(args, list) and args:
            results = [self.condition_value(arg, where) for arg in args]
            return all(results) if name == "Fn::And" else any(results)
        if name == "Fn::Not" and isinstance(args, list) and len(args) == 1:
            return not self.condition_value(args[0], where)
        resolved = self.resolve(value, where)
        if isinstance(resolved, bool):
            return resolved
        if isinstance(resolved, str) and resolved.lower() in ("true", "false"):
            return resolved.lower() == "true"
        self._problem(f"{where}: {value!r} is not a condition (Fn::Equals, Fn::And, Fn::Or, Fn::Not or a "
                      "Condition name)")
        return False


def _intrinsic_name(value: dict[str, Any]) -> str | None:
    if len(value) != 1:
        return None
    (key,) = value
    return key if isinstance(key, str) and (key == "Ref" or key.startswith("Fn::")) else None


def _sub_text(value: Any) -> str:
    if value is None or value is NO_VALUE:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_sub_text(item) for item in value)
    return str(value)


# ---------------------------------------------------------------------------------------- parameters


def resolve_parameters(
    declared: Any, overrides: dict[str, str]
) -> tuple[dict[str, ParameterValue], dict[str, str], list[str]]:
    """(values, values as shown with NoEcho masked, problems) for the template's Parameters section."""
    declared = declared if isinstance(declared, dict) else {}
    values: dict[str, ParameterValue] = {}
    shown: dict[str, str] = {}
    problems = [f"Parameters: '{name}' is not declared in the template's Parameters: remove the override "
                "or declare it" for name in overrides if name not in declared]
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        raw = overrides.get(name, spec.get("Default"))
        if raw is None:
            problems.append(f"Parameter {name} has no value: give it a Default in the template or pass "
                            f"--parameter-overrides {name}=VALUE")
            continue
        text = _sub_text(raw)
        found = _check_parameter(name, spec, text)
        problems += found
        if not found:
            kind = str(spec.get("Type", "String"))
            is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
            values[name] = [item.strip() for item in text.split(",")] if is_list else text
            shown[name] = "****" if str(spec.get("NoEcho", "")).lower() == "true" else text
    return values, shown, problems


def _check_parameter(name: str, spec: dict[str, Any], text: str) -> list[str]:
    kind = str(spec.get("Type", "String"))
    if "SSM::Parameter" in kind:
        return [f"Parameter {name}: type {kind} needs SSM Parameter Store, which Lambdalite lacks: use String"]
    items = text.split(",") if kind == "CommaDelimitedList" or kind.startswith("List<") else [text]
    problems: list[str] = []
    allowed = spec.get("AllowedValues")
    if isinstance(allowed, list) and any(item not in [_sub_text(a) for a in allowed] for item in items):
        problems.append(f"Parameter {name}: '{text}' is not one of the AllowedValues {allowed}")
    if kind in ("Number", "List<Number>") and not all(_is_number(item) for item in items):
        problems.append(f"Parameter {name}: '{text}' is not a Number")
    pattern = spec.get("AllowedPattern")
    if isinstance(pattern, str) and not all(re.fullmatch(pattern, item) for item in items):
        message = spec.get("ConstraintDescription") or f"it must match AllowedPattern {pattern}"
        problems.append(f"Parameter {name}: '{text}' is refused: {message}")
    return problems


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -------------------------------------------------------------------------------------------- cycles


def referenced_names(value: Any) -> set[str]:
    """Every name a value refers to through Ref, Fn::GetAtt and Fn::Sub (parameters included)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_names(item)
    elif isinstance(value, dict):
        name = _intrinsic_name(value)
        args = value.get(name) if name else None
        if name == "Ref" and isinstance(args, str):
            found.add(args)
        elif name == "Fn::GetAtt":
            first = args.split(".", 1)[0] if isinstance(args, str) else (args[0] if isinstance(args, list) else None)
            if isinstance(first, str):
                found.add(first)
        elif name == "Fn::Sub":
            found |= _sub_names(args)
        else:
            for item in value.values():
                found |= referenced_names(item)
    return found


def _sub_names(args: Any) -> set[str]:
    text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1]) if isinstance(args, list) and \
        len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], dict) else ("", {})
    names = {m.strip().split(".", 1)[0] for m in _SUB_VARIABLE.findall(text) if not m.startswith("!")}
    return (names - set(variables)) | referenced_names(list(variables.values()))


def find_cycles(resources: dict[str, Any]) -> list[list[str]]:
    """Cycles among resources through references and DependsOn, each as [A, B, ..., A]."""
    edges: dict[str, list[str]] = {}
    for lid, resource in resources.items():
        body = resource if isinstance(resource, dict) else {}
        depends = body.get("DependsOn", [])
        names = referenced_names(body.get("Properties", {})) | set([depends] if isinstance(depends, str) else depends)
        edges[lid] = sorted(name for name in names if name in resources)
    cycles: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for target in edges[node]:
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target):], target]
                if frozenset(cycle) not in seen_sets:
                    seen_sets.add(frozenset(cycle))
                    cycles.append(cycle)
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = 2

    for lid in resources:
        if lid not in state:
            visit(lid, [])
    return cycles
