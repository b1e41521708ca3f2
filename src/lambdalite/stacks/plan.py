"""A template -> a `StackPlan`: loaded, SAM-expanded, every intrinsic resolved, every problem collected. Pure.

Stages: `template.load_template` (syntax), `intrinsics.resolve_parameters`, `sam.expand` (SAM ->
CloudFormation), then one pass over the expanded resources that names each one (physical ids are
decided before any value is resolved, so Outputs and permissions resolve in the plan itself), checks
for cycles, and turns each supported resource into its planned operation. Any problem anywhere is
collected; if there is one, `Problems` lists them all, each naming its resource or section.

Resource types (the issue: "listed in one clear warning, or refused where ignoring it would change
behaviour"): the supported ones are planned; `_IGNORED` types are listed in ONE warning because the
stack serves the same requests without them (logs, alarms, IAM policies that are not enforced anyway,
resource groups); API keys and usage plans are planned (`cfn_usage`). Function versions and aliases
(SAM's AutoPublishAlias expands into both) are planned: a Version's number is decided here, before anything is resolved
(kept from the previous deployment, or the function's next free number), so that an Alias, an
Output or an integration URI that names it resolves in the plan. Every other type is refused: an
event source, queue, table or HTTP API that silently did not exist would break the application while
the deploy claimed success.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .. import errors
from ..access import RolePolicy
from ..errors import Problems
from ..functions.names import function_arn
from ..gateway import accesslog
from ..gateway.control.openapi import OpenApiImportError, parse_openapi
from ..gateway.httpapi import routes_from_openapi
from ..invoke import cron
from ..observe.spending import parse_amount
from . import cfn_api, cfn_usage
from .intrinsics import Context, Resolver, find_cycles, pseudo_parameters, resolve_parameters
from .model import (
    PlannedAlias,
    PlannedApi,
    PlannedEventConfig,
    PlannedFunction,
    PlannedHttpApi,
    PlannedLayer,
    PlannedPermission,
    PlannedResource,
    PlannedRole,
    PlannedSchedule,
    PlannedVersion,
    StackPlan,
    TrafficShift,
)
from .sam import CODE_BUCKET, expand, normalise_path
from .template import load_template

__all__ = ["build_plan", "default_function_name"]

FUNCTION = "AWS::Lambda::Function"
LAYER = "AWS::Lambda::LayerVersion"
PERMISSION = "AWS::Lambda::Permission"
ROLE = "AWS::IAM::Role"
REST_API = "AWS::ApiGateway::RestApi"
DEPLOYMENT = "AWS::ApiGateway::Deployment"
STAGE = "AWS::ApiGateway::Stage"
API_RESOURCE = "AWS::ApiGateway::Resource"
METHOD = "AWS::ApiGateway::Method"
VERSION = "AWS::Lambda::Version"
ALIAS = "AWS::Lambda::Alias"
RULE = "AWS::Events::Rule"
SCHEDULE = "AWS::Scheduler::Schedule"
EVENT_CONFIG = "AWS::Lambda::EventInvokeConfig"
HTTP_API = "AWS::ApiGatewayV2::Api"
HTTP_STAGE = "AWS::ApiGatewayV2::Stage"
HTTP_ROUTE = "AWS::ApiGatewayV2::Route"
HTTP_INTEGRATION = "AWS::ApiGatewayV2::Integration"
HTTP_DEPLOYMENT = "AWS::ApiGatewayV2::Deployment"   # stages here deploy on every change; kept as a name only
# A queue or a topic has no service here: one named as an async destination (or a dead-letter
# queue) is a sink whose records Lambdalite keeps per function (GET /_lambdalite/failed).
QUEUE, TOPIC = "AWS::SQS::Queue", "AWS::SNS::Topic"
# CodeDeploy's application and deployment group have no operation of their own: an alias's
# UpdatePolicy names the group, whose DeploymentConfigName says how the alias shifts (_shift).
CODEDEPLOY = frozenset({"AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup"})
_SUPPORTED = frozenset({FUNCTION, LAYER, PERMISSION, ROLE, REST_API, DEPLOYMENT, STAGE, API_RESOURCE, METHOD,
                        VERSION, ALIAS, RULE, SCHEDULE, EVENT_CONFIG, QUEUE, TOPIC, HTTP_API, HTTP_STAGE,
                        HTTP_ROUTE, HTTP_INTEGRATION, HTTP_DEPLOYMENT, *cfn_usage.TYPES}) | CODEDEPLOY
# (layer name, content hex, the previous deployment's ARN or None) -> the layer version's ARN
LayerVersions = Callable[[str, str, "str | None"], str]
# (function name, the previous deployment's version ARN or None) -> (version number, whether it exists)
FunctionVersions = Callable[[str, "str | None"], "tuple[str, bool]"]
_IGNORED = frozenset({
    "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::Logs::LogGroup", "AWS::CloudWatch::Alarm",
    "AWS::ApiGateway::Account",
    "AWS::ResourceGroups::Group", "AWS::ApplicationInsights::Application",
    "AWS::CloudFormation::WaitConditionHandle",
})  # fmt: skip
# CloudFormation properties of AWS::Lambda::Function that CreateFunction takes under the same name.
_FUNCTION_FIELDS = frozenset({
    "FunctionName", "Runtime", "Handler", "Role", "Description", "Timeout", "MemorySize", "Environment",
    "Architectures", "Layers", "EphemeralStorage", "TracingConfig", "DeadLetterConfig", "VpcConfig",
    "LoggingConfig", "SnapStart", "FileSystemConfigs", "PackageType", "CodeSigningConfigArn",
})  # fmt: skip
_MAX_FUNCTION_NAME = 64


def _reserved_concurrency(value: Any) -> int | None:
    """ReservedConcurrentExecutions as CloudFormation takes it (a number, or a Ref's string of one);
    None when absent, -1 when it is not a whole number 0 or more."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return -1


DEFAULT_ROLLBACK_RATE = 0.05
_SHIFT = re.compile(r"(?:CodeDeployDefault\.Lambda)?(?:(Canary)(\d+)Percent(\d+)Minutes?|(Linear)(\d+)Percent"
                    r"Every(\d+)Minutes?|(AllAtOnce))")


def shift_steps(config: str) -> tuple[tuple[float, float], ...] | None:
    """CodeDeploy's predefined Lambda configs as (share to the new version, seconds) steps before all
    of it moves: Canary10Percent5Minutes is ((0.1, 300),); Linear10PercentEvery1Minute is 10%, 20%,
    ... 90%, a minute each; AllAtOnce is none. None: not such a config."""
    m = _SHIFT.fullmatch(config)
    if m is None:
        return None
    if m.group(7):
        return ()
    if m.group(1):
        percent, minutes = int(m.group(2)), int(m.group(3))
        return ((percent / 100, minutes * 60.0),) if 0 < percent < 100 else None
    percent, minutes = int(m.group(5)), int(m.group(6))
    if not 0 < percent < 100:
        return None
    return tuple((p / 100, minutes * 60.0) for p in range(percent, 100, percent))


def _first_function_versions() -> FunctionVersions:
    """Without a server at hand (tests, tools): each function's versions are new, from 1."""
    taken: dict[str, int] = {}

    def version(name: str, previous: str | None) -> tuple[str, bool]:
        taken[name] = taken.get(name, 0) + 1
        return str(taken[name]), False
    return version


def _first_versions(region: str, account: str) -> LayerVersions:
    """Without a server's layers at hand (tests, tools): every layer is new, at version 1."""
    def version(name: str, digest: str, previous: str | None) -> str:
        return previous or f"arn:aws:lambda:{region}:{account}:layer:{name}:1"
    return version


def default_function_name(stack_name: str, logical_id: str) -> str:
    """`<stack>-<LogicalId>` cut to 64 characters: deterministic, so a redeploy keeps the name."""
    return f"{stack_name}-{logical_id}"[:_MAX_FUNCTION_NAME]


def build_plan(
    template_text: str,
    *,
    stack_name: str,
    parameters: dict[str, str],
    region: str,
    account: str,
    code: dict[str, str],
    includes: dict[str, Any],
    physical_ids: dict[str, str],
    new_api_id: Callable[[], str],
    test_events: dict[str, dict[str, str]],
    layer_version: LayerVersions | None = None,
    function_version: FunctionVersions | None = None,
) -> StackPlan:
    """The plan of `template_text` deployed as `stack_name`; `Problems` listing every problem otherwise.

    `physical_ids` may also hold `AWS::StackId` and `<RestApi>.RootResourceId` of the previous deployment.
    """
    template = load_template(template_text)
    values, shown, problems = resolve_parameters(template.get("Parameters"), parameters)
    stack_id = physical_ids.get("AWS::StackId") or (
        f"arn:aws:cloudformation:{region}:{account}:stack/{stack_name}/"
        f"{uuid.uuid5(uuid.NAMESPACE_URL, f'{account}/{region}/{stack_name}')}"
    )
    pseudo = pseudo_parameters(region=region, account=account, stack_name=stack_name, stack_id=stack_id)
    try:
        expanded = expand(template, code=code, includes=includes, parameter_values={**values, **pseudo},
                          region=region)
    except Problems as failed:
        raise Problems(problems + failed.problems) from None
    events = {normalise_path(path): found for path, found in test_events.items()}
    planner = _Planner(expanded.template, stack_name, region, account, physical_ids, new_api_id,
                       layer_version or _first_versions(region, account),
                       function_version or _first_function_versions())
    planner.problems += problems + expanded.problems
    plan = planner.run({**values, **pseudo}, shown,
                       {lid: events.get(path, {}) for lid, path in expanded.code_paths.items()})
    if planner.problems:
        raise Problems(planner.problems)
    return plan


class _Planner:
    def __init__(self, template: dict[str, Any], stack_name: str, region: str, account: str,
                 physical_ids: dict[str, str], new_api_id: Callable[[], str], layer_version: LayerVersions,
                 function_version: FunctionVersions) -> None:
        self.template = template
        self.resources: dict[str, dict[str, Any]] = {
            str(lid): r if isinstance(r, dict) else {} for lid, r in template["Resources"].items()
        }
        self.stack_name, self.region, self.account = stack_name, region, account
        self.physical_ids, self.new_api_id, self.layer_version = physical_ids, new_api_id, layer_version
        self.function_version = function_version
        self.existing_versions: set[str] = set()   # Version logical ids an earlier deployment published
        self.resolver: Resolver = Resolver(Context({}, {}, {}, {}, {}))   # run() sets the template's
        self.problems: list[str] = []
        self.ignored: list[str] = []
        self.warnings: list[str] = []
        self.refs: dict[str, str] = {}
        self.attributes: dict[str, dict[str, str]] = {}

    # ------------------------------------------------------------------------------------------- run

    def run(self, values: dict[str, Any], shown: dict[str, str], events: dict[str, dict[str, str]]) -> StackPlan:
        self._check_types()
        resolver = Resolver(Context(values, {}, {}, _dict(self.template.get("Mappings")),
                                    _dict(self.template.get("Conditions"))))
        self.resolver = resolver
        self._name_resources(resolver)
        resolver.context.refs, resolver.context.attributes = self.refs, self.attributes
        self._name_versions_and_aliases(resolver)
        self._check_dependencies()
        active = {lid: r for lid, r in self.resources.items() if self._active(resolver, lid, r)}
        resolved = {lid: _dict(resolver.resolve(_dict(r.get("Properties")), f"Resource {lid}"))
                    for lid, r in active.items() if r.get("Type") in _SUPPORTED}
        functions = [self._function(lid, props, events.get(lid, {}))
                     for lid, props in resolved.items() if active[lid]["Type"] == FUNCTION]
        layers = [self._layer(lid, props, active[lid])
                  for lid, props in resolved.items() if active[lid]["Type"] == LAYER]
        permissions = [self._permission(lid, props) for lid, props in resolved.items()
                       if active[lid]["Type"] == PERMISSION]
        versions = [self._version(lid, props, active[lid]) for lid, props in resolved.items()
                    if active[lid]["Type"] == VERSION]
        aliases = [self._alias(lid, props, active[lid]) for lid, props in resolved.items()
                   if active[lid]["Type"] == ALIAS]
        schedules = [self._schedule(lid, props, active[lid]["Type"]) for lid, props in resolved.items()
                     if active[lid]["Type"] in (RULE, SCHEDULE)]
        event_configs = [self._event_config(lid, props) for lid, props in resolved.items()
                         if active[lid]["Type"] == EVENT_CONFIG]
        roles = [self._role(lid, props) for lid, props in resolved.items() if active[lid]["Type"] == ROLE]
        apis = self._apis(active, resolved)
        http_apis = self._http_apis(active, resolved)
        usage = cfn_usage.plan_usage({lid: (str(active[lid]["Type"]), props) for lid, props in resolved.items()
                                      if active[lid]["Type"] in cfn_usage.TYPES}, self.refs, self.problems)
        outputs = self._outputs(resolver)
        self.problems += [p for p in resolver.problems if p not in self.problems]
        if self.ignored:
            self.warnings.insert(0, "not supported yet, ignored: " + ", ".join(self.ignored))
        return StackPlan(
            stack_name=self.stack_name,
            functions=[f for f in functions if f is not None],
            apis=apis,
            permissions=[p for p in permissions if p is not None],
            resources=[PlannedResource(lid, str(r.get("Type")), self.refs.get(lid, lid), r.get("Type") in _SUPPORTED)
                       for lid, r in active.items()],
            outputs=outputs, parameters=shown, warnings=self.warnings, expanded_template=self.template,
            description=self.template.get("Description") if isinstance(self.template.get("Description"), str)
            else None,
            layers=[layer for layer in layers if layer is not None],
            versions=[v for v in versions if v is not None],
            aliases=[a for a in aliases if a is not None],
            schedules=[x for x in schedules if x is not None],
            event_configs=[c for c in event_configs if c is not None],
            roles=roles,
            http_apis=http_apis,
            usage=usage,
        )

    def _check_types(self) -> None:
        for lid, resource in self.resources.items():
            kind = resource.get("Type")
            if kind in _SUPPORTED:
                continue
            if kind in _IGNORED:
                self.ignored.append(f"{lid} ({kind})")
            elif not isinstance(kind, str):
                self.problems.append(f"Resource {lid}: no Type: give the resource a Type such as {FUNCTION}")
            else:
                self.problems.append(
                    f"Resource {lid}: resource type '{kind}' is unknown or not supported by Lambdalite; ignoring "
                    "it would change what the stack does, so the deploy is refused (supported: "
                    "AWS::Serverless::Function, AWS::Serverless::Api, " + ", ".join(sorted(_SUPPORTED)) + ")")

    def _active(self, resolver: Resolver, lid: str, resource: dict[str, Any]) -> bool:
        condition = resource.get("Condition")
        return not isinstance(condition, str) or resolver.condition(condition, f"Resource {lid}")

    def _check_dependencies(self) -> None:
        for lid, resource in self.resources.items():
            depends = resource.get("DependsOn", [])
            for name in [depends] if isinstance(depends, str) else depends if isinstance(depends, list) else []:
                if name not in self.resources:
                    self.problems.append(f"Resource {lid}: DependsOn '{name}', which is not a resource of this "
                                         "template: declare it or fix the name")
        for cycle in find_cycles(self.resources):
            self.problems.append("Resources: circular reference " + " -> ".join(cycle) + " (through Ref, "
                                 "Fn::GetAtt, Fn::Sub or DependsOn): break the cycle")

    # ---------------------------------------------------------------------------------------- naming

    def _name_resources(self, resolver: Resolver) -> None:
        for lid, resource in self.resources.items():
            kind, props = resource.get("Type"), _dict(resource.get("Properties"))
            previous = self.physical_ids.get(lid)
            if kind == FUNCTION:
                given = resolver.text(props["FunctionName"], f"Resource {lid}") if "FunctionName" in props else None
                name = given or previous or default_function_name(self.stack_name, lid)
                self.refs[lid] = name
                self.attributes[lid] = {"Arn": function_arn(self.region, self.account, name)}
            elif kind == ROLE:
                given = resolver.text(props["RoleName"], f"Resource {lid}") if "RoleName" in props else None
                name = given or f"{self.stack_name}-{lid}"[:64]
                self.refs[lid] = name
                self.attributes[lid] = {"Arn": f"arn:aws:iam::{self.account}:role/{name}", "RoleId": name}
            elif kind in (REST_API, STAGE, HTTP_API, HTTP_STAGE):
                self._name_api_resource(resolver, lid, str(kind), props, previous)
            elif kind == LAYER:
                layer_name = resolver.text(props["LayerName"], f"Resource {lid}") if "LayerName" in props else None
                content = _dict(props.get("Content"))
                digest = str(content.get("S3Key")) if content.get("S3Bucket") == CODE_BUCKET else ""
                self.refs[lid] = self.layer_version(layer_name or lid, digest, previous)
            elif kind in (API_RESOURCE, DEPLOYMENT, HTTP_ROUTE, HTTP_INTEGRATION, HTTP_DEPLOYMENT):
                self.refs[lid] = previous or _stable_id(f"{self.stack_name}/{lid}", 6 if kind != HTTP_ROUTE else 7)
            elif kind in cfn_usage.TYPES:
                self.refs[lid] = previous or _stable_id(f"{self.stack_name}/{lid}", cfn_usage.id_length(str(kind)))
            elif kind in (VERSION, ALIAS):
                continue   # named once the functions are (_name_versions_and_aliases)
            elif kind in (QUEUE, TOPIC, RULE, SCHEDULE):
                self._name_event_resource(resolver, lid, str(kind), props)
            else:
                self.refs[lid] = previous or f"{self.stack_name}-{lid}"

    def _name_api_resource(self, resolver: Resolver, lid: str, kind: str, props: dict[str, Any],
                           previous: str | None) -> None:
        """A REST or HTTP API's id (kept from the previous deployment) and attributes; a stage's name."""
        if kind in (STAGE, HTTP_STAGE):
            self.refs[lid] = resolver.text(props.get("StageName"), f"Resource {lid}") or lid
            return
        api_id = previous or self.new_api_id()
        self.refs[lid] = api_id
        if kind == REST_API:
            root = self.physical_ids.get(f"{lid}.RootResourceId") or _stable_id(api_id, 10)
            self.attributes[lid] = {"RootResourceId": root}
        else:
            self.attributes[lid] = {"ApiId": api_id,
                                    "ApiEndpoint": f"https://{api_id}.execute-api.{self.region}.amazonaws.com"}

    def _name_event_resource(self, resolver: Resolver, lid: str, kind: str, props: dict[str, Any]) -> None:
        """A queue's, topic's, rule's or schedule's Ref and attributes, as CloudFormation gives them."""
        if kind in (RULE, SCHEDULE):
            given = resolver.text(props["Name"], f"Resource {lid}") if "Name" in props else None
            name = given or f"{self.stack_name}-{lid}"[:64]
            self.refs[lid] = name
            arn = (f"arn:aws:events:{self.region}:{self.account}:rule/{name}" if kind == RULE else
                   f"arn:aws:scheduler:{self.region}:{self.account}:schedule/default/{name}")
            self.attributes[lid] = {"Arn": arn}
            return
        key = "QueueName" if kind == QUEUE else "TopicName"
        given = resolver.text(props[key], f"Resource {lid}") if key in props else None
        name = given or f"{self.stack_name}-{lid}"[:80]
        if kind == QUEUE:
            url = f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}"
            self.refs[lid] = url
            self.attributes[lid] = {"Arn": f"arn:aws:sqs:{self.region}:{self.account}:{name}", "QueueName": name,
                                    "QueueUrl": url}
        else:
            arn = f"arn:aws:sns:{self.region}:{self.account}:{name}"
            self.refs[lid] = arn
            self.attributes[lid] = {"TopicArn": arn, "TopicName": name}

    def _name_versions_and_aliases(self, resolver: Resolver) -> None:
        """A Version's number and an Alias's ARN, decided before any value is resolved (functions are
        named by now: a Version or Alias names its function by Ref or ARN)."""
        for lid, resource in self.resources.items():
            kind = resource.get("Type")
            if kind not in (VERSION, ALIAS):
                continue
            props = _dict(resource.get("Properties"))
            target = props.get("FunctionName")
            name = self._function_of(resolver.text(target, f"Resource {lid}")) if target is not None else None
            if not name:
                if target is None:
                    self.problems.append(f"Resource {lid}: a {kind} needs FunctionName")
                continue
            if kind == VERSION:
                number, existing = self.function_version(name, self.physical_ids.get(lid))
                if existing:
                    self.existing_versions.add(lid)
                self.refs[lid] = function_arn(self.region, self.account, name, number)
                self.attributes[lid] = {"Version": number}
            else:
                alias = resolver.text(props.get("Name"), f"Resource {lid}") if "Name" in props else None
                if not alias:
                    self.problems.append(f"Resource {lid}: an AWS::Lambda::Alias needs Name")
                    continue
                self.refs[lid] = function_arn(self.region, self.account, name, alias)

    @staticmethod
    def _function_of(target: str | None) -> str | None:
        """The function name in a FunctionName (a name, or an ARN without its qualifier)."""
        if not target:
            return None
        if ":function:" in target:
            return target.split(":function:", 1)[1].split(":", 1)[0]
        return target.split(":", 1)[0]

    def _version(self, lid: str, props: dict[str, Any], resource: dict[str, Any]) -> PlannedVersion | None:
        name = self._function_of(props.get("FunctionName") if isinstance(props.get("FunctionName"), str) else None)
        if name is None or lid not in self.refs:
            return None
        provisioned = self._provisioned(lid, props)
        description = props.get("Description")
        return PlannedVersion(lid, name, self.attributes[lid]["Version"], lid in self.existing_versions,
                              description if isinstance(description, str) else None,
                              retain=resource.get("DeletionPolicy") == "Retain"
                              or resource.get("UpdateReplacePolicy") == "Retain",
                              provisioned=provisioned)

    def _alias(self, lid: str, props: dict[str, Any], resource: dict[str, Any]) -> PlannedAlias | None:
        name = self._function_of(props.get("FunctionName") if isinstance(props.get("FunctionName"), str) else None)
        if name is None or lid not in self.refs:
            return None
        version = props.get("FunctionVersion")
        if not isinstance(version, str) or not (version.isdigit() or version == "$LATEST"):
            self.problems.append(f"Resource {lid}: FunctionVersion must be a version number (e.g. !GetAtt "
                                 f"MyVersion.Version) or $LATEST, not {version!r}")
            return None
        raw = _dict(resource.get("Properties")).get("FunctionVersion")
        source = raw.get("Fn::GetAtt") if isinstance(raw, dict) else None
        version_from = str(source[0]) if isinstance(source, list) and source and \
            _dict(self.resources.get(str(source[0]))).get("Type") == VERSION else None
        weights = _dict(_dict(props.get("RoutingConfig")).get("AdditionalVersionWeights"))
        if isinstance(_dict(props.get("RoutingConfig")).get("AdditionalVersionWeights"), list):
            # CloudFormation's form: [{FunctionVersion, FunctionWeight}]
            weights = {str(w.get("FunctionVersion")): w.get("FunctionWeight")
                       for w in props["RoutingConfig"]["AdditionalVersionWeights"] if isinstance(w, dict)}
        shift = self._shift(lid, resource, name) if "UpdatePolicy" in resource else None
        description = props.get("Description")
        return PlannedAlias(lid, name, str(self.refs[lid]).rsplit(":", 1)[1], version, version_from,
                            {str(k): v for k, v in weights.items()},
                            description if isinstance(description, str) else "",
                            provisioned=self._provisioned(lid, props), shift=shift, shadow=self._shadow_of(name))

    def _shadow_of(self, function: str) -> tuple[str, str | None] | None:
        """Metadata: {Lambdalite: {ShadowVersion: "2", ShadowCompare: body.class}} on the function."""
        for lid, resource in self.resources.items():
            if resource.get("Type") == FUNCTION and self.refs.get(lid) == function:
                own = _dict(_dict(resource.get("Metadata")).get("Lambdalite"))
                if "ShadowVersion" not in own:
                    return None
                version = self.resolver.text(own["ShadowVersion"], f"Resource {lid}")
                compare = own.get("ShadowCompare")
                if version is None or not (version.isdigit() or version == "$LATEST"):
                    self.problems.append(f"Resource {lid}: Metadata Lambdalite ShadowVersion must be a version "
                                         f"number (or $LATEST), not {own['ShadowVersion']!r}")
                    return None
                if compare is not None and not isinstance(compare, str):
                    self.problems.append(f"Resource {lid}: Metadata Lambdalite ShadowCompare must be a dotted path "
                                         "such as body.class")
                    return None
                return version, compare
        return None

    def _shift(self, lid: str, resource: dict[str, Any], function: str) -> TrafficShift | None:
        """The alias's UpdatePolicy (SAM's DeploymentPreference) and its CodeDeploy deployment group."""
        where = f"Resource {lid}"
        update = _dict(_dict(resource.get("UpdatePolicy")).get("CodeDeployLambdaAliasUpdate"))
        group_ref = update.get("DeploymentGroupName")
        group_lid = group_ref.get("Ref") if isinstance(group_ref, dict) else None
        group = _dict(_dict(self.resources.get(str(group_lid))).get("Properties"))
        config = self.resolver.text(group.get("DeploymentConfigName"), where) if group else None
        if not config:
            self.problems.append(f"{where}: its UpdatePolicy names no CodeDeploy deployment group with a "
                                 "DeploymentConfigName")
            return None
        steps = shift_steps(config)
        if steps is None:
            self.problems.append(f"{where}: DeploymentPreference Type {config} is not one of CodeDeploy's "
                                 "predefined Lambda configs (CanaryNPercentMMinutes, LinearNPercentEveryMMinutes, "
                                 "AllAtOnce)")
            return None
        hooks = {key: self.resolver.text(update[key], where) if key in update else None
                 for key in ("BeforeAllowTrafficHook", "AfterAllowTrafficHook")}
        return TrafficShift(config.removeprefix("CodeDeployDefault.Lambda"), steps,
                            self._rollback_rate(function), hooks["BeforeAllowTrafficHook"],
                            hooks["AfterAllowTrafficHook"])

    def _rollback_rate(self, function: str) -> float:
        """Metadata: {Lambdalite: {RollbackOnErrorRate: 0.05}} on the function (0.05 when absent)."""
        for lid, resource in self.resources.items():
            if resource.get("Type") == FUNCTION and self.refs.get(lid) == function:
                value = _dict(_dict(resource.get("Metadata")).get("Lambdalite")).get("RollbackOnErrorRate")
                if value is None:
                    return DEFAULT_ROLLBACK_RATE
                if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
                    return float(value)
                self.problems.append(f"Resource {lid}: Metadata Lambdalite RollbackOnErrorRate must be a number "
                                     f"from 0 to 1, not {value!r}")
        return DEFAULT_ROLLBACK_RATE

    def _schedule(self, lid: str, props: dict[str, Any], kind: str) -> PlannedSchedule | None:
        """A rule or schedule that invokes a function of this stack on a schedule."""
        where = f"Resource {lid}"
        if kind == RULE:
            if "EventPattern" in props or "ScheduleExpression" not in props:
                self.problems.append(f"{where}: only schedule rules (ScheduleExpression) are supported; event "
                                     "patterns need an event source Lambdalite does not have")
                return None
            listed = props.get("Targets")
            targets: list[Any] = listed if isinstance(listed, list) else []
        else:
            targets = [props.get("Target")]
        enabled = props.get("State", "ENABLED") != "DISABLED"
        if len(targets) != 1 or not isinstance(targets[0], dict) or ":function:" not in str(targets[0].get("Arn")):
            self.problems.append(f"{where}: a schedule needs exactly one target, a Lambda function of this stack")
            return None
        target = targets[0]
        name, _, qualifier = str(target["Arn"]).split(":function:", 1)[1].partition(":")
        expression, timezone = str(props["ScheduleExpression"]), props.get("ScheduleExpressionTimezone")
        try:
            cron.parse(expression, timezone if isinstance(timezone, str) else None)
        except cron.ScheduleError as e:
            self.problems.append(f"{where}: ScheduleExpression {e}")
            return None
        given = target.get("Input")
        return PlannedSchedule(lid, self.refs[lid], self.attributes[lid]["Arn"], expression, name, qualifier or None,
                               timezone if isinstance(timezone, str) else None, enabled,
                               given if isinstance(given, str) else None)

    def _event_config(self, lid: str, props: dict[str, Any]) -> PlannedEventConfig | None:
        target = props.get("FunctionName")
        name = self._function_of(target if isinstance(target, str) else None)
        if name is None:
            self.problems.append(f"Resource {lid}: an AWS::Lambda::EventInvokeConfig needs FunctionName")
            return None
        qualifier = props.get("Qualifier") if isinstance(props.get("Qualifier"), str) else "$LATEST"
        body: dict[str, Any] = {k: props[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                                                       "DestinationConfig") if k in props}
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):   # CloudFormation gives strings too
            if isinstance(body.get(key), str) and body[key].isdigit():
                body[key] = int(body[key])
        return PlannedEventConfig(lid, name, str(qualifier), body)

    def _provisioned(self, lid: str, props: dict[str, Any]) -> int | None:
        config = props.get("ProvisionedConcurrencyConfig")
        if config is None:
            return None
        value = _dict(config).get("ProvisionedConcurrentExecutions")
        number = int(value) if isinstance(value, str) and value.strip().isdigit() else value
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            self.problems.append(f"Resource {lid}: ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions "
                                 f"must be a whole number 1 or more, not {value!r}")
            return None
        return number

    # ------------------------------------------------------------------------------------- functions

    def _function(self, lid: str, props: dict[str, Any], events: dict[str, str]) -> PlannedFunction | None:
        where = f"Resource {lid}"
        problems = [f"{where}: a function needs {key} (none given, and no Globals supply it)"
                    for key in ("Handler", "Runtime") if not props.get(key) and props.get("PackageType") != "Image"]
        if props.get("PackageType") == "Image":
            problems.append(f"{where}: PackageType Image is not supported: use a zip (CodeUri) function")
        code = _dict(props.get("Code"))
        sha = code.get("S3Key") if code.get("S3Bucket") == CODE_BUCKET else None
        inline = code.get("ZipFile") if isinstance(code.get("ZipFile"), str) else None
        if sha is None and inline is None:
            problems.append(f"{where}: Code must be a local folder (CodeUri) or inline code (InlineCode / "
                            f"ZipFile); {code or 'nothing'} cannot be fetched")
        self.problems += problems
        if problems:
            return None
        create: dict[str, Any] = {key: value for key, value in props.items() if key in _FUNCTION_FIELDS}
        create["FunctionName"] = self.refs[lid]
        create.setdefault("Role", f"arn:aws:iam::{self.account}:role/{self.stack_name}-{lid}"[:140])
        if "KmsKeyArn" in props:
            create["KMSKeyArn"] = props["KmsKeyArn"]
        if isinstance(props.get("Tags"), list):
            create["Tags"] = {str(t.get("Key")): str(t.get("Value")) for t in props["Tags"] if isinstance(t, dict)}
        reserved = _reserved_concurrency(props.get("ReservedConcurrentExecutions"))
        if reserved == -1:
            self.problems.append(f"{where}: ReservedConcurrentExecutions must be a whole number 0 or more, "
                                 f"not {props['ReservedConcurrentExecutions']!r}")
            return None
        extra = sorted(set(props) - _FUNCTION_FIELDS - {"Code", "KmsKeyArn", "Tags", "ReservedConcurrentExecutions"})
        self.ignored += [f"{lid}.{key}" for key in extra]
        return PlannedFunction(lid, self.refs[lid], create, code_sha256=sha, inline_code=inline,
                               test_events=dict(events), reserved_concurrency=reserved,
                               monthly_budget=self._budget(lid))

    def _budget(self, lid: str) -> float | None:
        """Metadata: {Lambdalite: {MonthlyBudget: 0.50}} on the function: its monthly budget in dollars."""
        own = _dict(_dict(_dict(self.resources.get(lid)).get("Metadata")).get("Lambdalite"))
        if "MonthlyBudget" not in own:
            return None
        try:
            return parse_amount(own["MonthlyBudget"])
        except errors.ServiceError as e:
            self.problems.append(f"Resource {lid}: Metadata Lambdalite MonthlyBudget: {e.message}")
            return None

    def _role(self, lid: str, props: dict[str, Any]) -> PlannedRole:
        """What the role states: its inline policies' statements (SAM's `Policies`, its policy templates
        expanded) and its managed policies; the server judges its functions' calls by them."""
        statements: list[dict[str, Any]] = []
        for policy in props.get("Policies") or []:
            document = _dict(_dict(policy).get("PolicyDocument"))
            listed = document.get("Statement")
            for statement in [listed] if isinstance(listed, dict) else listed if isinstance(listed, list) else []:
                if isinstance(statement, dict):
                    statements.append(statement)
        managed = tuple(str(a) for a in props.get("ManagedPolicyArns") or [] if isinstance(a, str))
        role = PlannedRole(lid, self.attributes[lid]["Arn"], tuple(statements), managed)
        for arn in RolePolicy(role.statements, role.managed).unknown_managed():
            self.warnings.append(f"{lid} (AWS::IAM::Role): the managed policy {arn} grants nothing on this server "
                                 "(docs/security.md lists the ones it knows)")
        return role

    def _permission(self, lid: str, props: dict[str, Any]) -> PlannedPermission | None:
        target, action, principal = props.get("FunctionName"), props.get("Action"), props.get("Principal")
        if any(props.get(key) is None and key in props for key in ("FunctionName", "Action", "Principal")):
            return None  # a value that did not resolve: its problem is already listed
        if not isinstance(target, str) or not isinstance(action, str) or not isinstance(principal, str):
            self.problems.append(f"Resource {lid}: a permission needs FunctionName, Action and Principal")
            return None
        rest = target.split(":function:", 1)[1] if ":function:" in target else target
        name, _, qualifier = rest.partition(":")
        statement: dict[str, Any] = {"StatementId": f"{self.stack_name}-{lid}"[:100], "Action": action,
                                     "Principal": principal}
        for key in ("SourceArn", "SourceAccount", "EventSourceToken", "FunctionUrlAuthType", "PrincipalOrgID"):
            if key in props:
                statement[key] = props[key]
        return PlannedPermission(lid, name, statement, qualifier or None)

    def _layer(self, lid: str, props: dict[str, Any], resource: dict[str, Any]) -> PlannedLayer | None:
        where = f"Resource {lid}"
        content = _dict(props.get("Content"))
        if content.get("S3Bucket") != CODE_BUCKET:
            self.problems.append(f"{where}: a layer's content must be a local folder (ContentUri); "
                                 f"{content or 'nothing'} cannot be fetched")
            return None
        build = _dict(resource.get("Metadata")).get("BuildMethod")
        if build is not None and not (isinstance(build, str) and re.fullmatch(r"python3\.\d+", build)):
            self.problems.append(f"{where}: Metadata BuildMethod {build!r} is not supported: use python3.X (the "
                                 "layer's requirements.txt is installed), or leave it out (the folder as it is)")
            return None
        publish: dict[str, Any] = {key: props[key] for key in (
            "Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo") if key in props}
        arn = self.refs[lid]
        return PlannedLayer(lid, arn.split(":layer:", 1)[1].rsplit(":", 1)[0], arn, str(content.get("S3Key")),
                            publish, build_method=build, retain=resource.get("DeletionPolicy") != "Delete")

    # ------------------------------------------------------------------------------------------ APIs

    def _apis(self, active: dict[str, dict[str, Any]], resolved: dict[str, dict[str, Any]]) -> list[PlannedApi]:
        by_id = {self.refs[lid]: lid for lid, r in active.items() if r.get("Type") == REST_API}
        stages: dict[str, dict[str, dict[str, str]]] = {lid: {} for lid in by_id.values()}
        for lid, props in resolved.items():
            kind = active[lid]["Type"]
            if kind not in (DEPLOYMENT, STAGE):
                continue
            api = by_id.get(str(props.get("RestApiId")))
            stage = props.get("StageName")
            if api is None:
                self.problems.append(f"Resource {lid}: RestApiId must name a REST API of this stack (Ref)")
            elif isinstance(stage, str) and stage:
                variables = props.get("Variables") if kind == STAGE else \
                    _dict(props.get("StageDescription")).get("Variables")
                stages[api].setdefault(stage, {}).update({str(k): str(v) for k, v in _dict(variables).items()})
        methods = [(lid, props) for lid, props in resolved.items() if active[lid]["Type"] == METHOD]
        paths = [(lid, props) for lid, props in resolved.items() if active[lid]["Type"] == API_RESOURCE]
        return [api for api in (self._api(lid, resolved[lid], stages[lid], paths, methods) for lid in by_id.values())
                if api is not None]

    def _api(self, lid: str, props: dict[str, Any], stages: dict[str, dict[str, str]],
             paths: list[tuple[str, dict[str, Any]]], methods: list[tuple[str, dict[str, Any]]]) -> PlannedApi | None:
        api_id = self.refs[lid]
        body = props.get("Body")
        if body is None and "BodyS3Location" in props:
            self.problems.append(f"Resource {lid}: BodyS3Location is not supported: put the definition in Body "
                                 "(or DefinitionBody / a local DefinitionUri with SAM)")
            return None
        if body is None:
            mine = [(m, p) for m, p in methods if p.get("RestApiId") == api_id]
            built = cfn_api.build_definition(
                str(props.get("Name") or lid), self.attributes[lid]["RootResourceId"],
                {self.refs[r]: p for r, p in paths if p.get("RestApiId") == api_id}, mine)
            self.problems += [f"Resource {lid}: {p}" for p in built.problems]
            self.warnings += [f"Resource {lid}: {w}" for w in built.warnings]
            body = built.definition
        if not isinstance(body, dict) or not self._valid_definition(lid, body):
            if not isinstance(body, dict):
                self.problems.append(f"Resource {lid}: the OpenAPI definition (Body) must be a mapping")
            return None
        title = _dict(body.get("info")).get("title")
        name = str(props.get("Name") or title or lid)
        binary = [str(t).replace("~1", "/") for t in props.get("BinaryMediaTypes") or []]
        return PlannedApi(lid, api_id, name, body, stages, binary)

    def _http_apis(self, active: dict[str, dict[str, Any]],
                   resolved: dict[str, dict[str, Any]]) -> list[PlannedHttpApi]:
        by_id = {self.refs[lid]: lid for lid, r in active.items() if r.get("Type") == HTTP_API}
        stages: dict[str, dict[str, dict[str, str]]] = {lid: {} for lid in by_id.values()}
        settings: dict[str, dict[str, dict[str, Any]]] = {lid: {} for lid in by_id.values()}
        by_route: dict[str, dict[str, dict[str, Any]]] = {lid: {} for lid in by_id.values()}
        logs: dict[str, dict[str, dict[str, Any]]] = {lid: {} for lid in by_id.values()}
        parts: dict[str, list[tuple[str, str, dict[str, Any]]]] = {lid: [] for lid in by_id.values()}
        for lid, props in resolved.items():
            kind = active[lid]["Type"]
            if kind not in (HTTP_STAGE, HTTP_ROUTE, HTTP_INTEGRATION, HTTP_DEPLOYMENT):
                continue
            api, stage = by_id.get(str(props.get("ApiId"))), props.get("StageName")
            if api is None:
                self.problems.append(f"Resource {lid}: ApiId must name an HTTP API of this stack (Ref)")
            elif kind in (HTTP_ROUTE, HTTP_INTEGRATION):
                parts[api].append((lid, str(kind), props))
            elif kind == HTTP_STAGE and isinstance(stage, str) and stage:
                stages[api][stage] = {str(k): str(v) for k, v in _dict(props.get("StageVariables")).items()}
                settings[api][stage] = _dict(props.get("DefaultRouteSettings"))
                by_route[api][stage] = _dict(props.get("RouteSettings"))
                logs[api][stage] = self._access_log(lid, props.get("AccessLogSettings"))
        out = []
        for api_id, lid in by_id.items():
            planned = self._http_api(lid, api_id, resolved[lid], parts[lid], stages[lid])
            if planned is not None:
                out.append(replace(planned, stage_settings=settings[lid], route_settings=by_route[lid],
                                   access_logs={k: v for k, v in logs[lid].items() if v}))
        return out

    def _access_log(self, lid: str, given: Any) -> dict[str, Any]:
        try:
            accesslog.settings_of(given)
        except ValueError as e:
            self.problems.append(f"Resource {lid}: AccessLogSettings: {e}")
            return {}
        return _dict(given)

    def _http_api(self, lid: str, api_id: str, props: dict[str, Any], parts: list[tuple[str, str, dict[str, Any]]],
                  stages: dict[str, dict[str, str]]) -> PlannedHttpApi | None:
        body = props.get("Body")
        unsupported = [key for key in ("BodyS3Location", "ProtocolType") if key in props
                       and not (key == "ProtocolType" and props[key] == "HTTP")]
        if unsupported:
            self.problems.append(f"Resource {lid}: an HTTP API is made here from an OpenAPI 3 Body (SAM's "
                                 "DefinitionBody, or the routes of HttpApi events), its Routes and "
                                 f"Integrations, or a Target; {', '.join(unsupported)} is not supported yet")
            return None
        if body is not None and not isinstance(body, dict):
            self.problems.append(f"Resource {lid}: Body must be an OpenAPI 3 mapping")
            return None
        body = self._http_body(lid, props, body, parts)
        if body is None:
            return None
        if "Target" in props:   # quick create: API Gateway makes the $default stage itself
            stages.setdefault("$default", {})
        try:
            routes_from_openapi(body)
        except ValueError as e:
            self.problems.append(f"Resource {lid}: its OpenAPI definition cannot be served: {e}")
            return None
        name = str(props.get("Name") or _dict(body.get("info")).get("title") or lid)
        description = props.get("Description")
        cors = props.get("CorsConfiguration")
        if cors is not None and not isinstance(cors, dict):
            self.problems.append(f"Resource {lid}: CorsConfiguration must be a mapping (AllowOrigins, ...)")
            return None
        return PlannedHttpApi(lid, api_id, name, body, stages, description if isinstance(description, str) else None,
                              cors)

    def _http_body(self, lid: str, props: dict[str, Any], body: dict[str, Any] | None,
                   parts: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any] | None:
        """The API's OpenAPI 3 definition: its Body, with the routes of its hand-written
        AWS::ApiGatewayV2::Route and Integration resources and of a quick-create Target added (each
        route an operation with its `x-amazon-apigateway-integration`)."""
        definition: dict[str, Any] = copy.deepcopy(body) if body is not None else {"openapi": "3.0.1", "paths": {}}
        integrations = {self.refs[i]: p for i, kind, p in parts if kind == HTTP_INTEGRATION}
        routes: list[tuple[str, str, dict[str, Any]]] = []   # (resource, route key, integration)
        if "Target" in props:
            routes.append((lid, str(props.get("RouteKey") or "$default"),
                           {"IntegrationType": "AWS_PROXY", "IntegrationUri": props["Target"],
                            "PayloadFormatVersion": "2.0"}))
        for route_lid, kind, route in parts:
            if kind != HTTP_ROUTE:
                continue
            target = str(route.get("Target") or "")
            integration = integrations.get(target.removeprefix("integrations/"))
            if not target.startswith("integrations/") or integration is None:
                self.problems.append(f"Resource {route_lid}: Target must be integrations/{{IntegrationId}} of an "
                                     "AWS::ApiGatewayV2::Integration of the same API (!Join ['/', [integrations, "
                                     "!Ref TheIntegration]])")
                return None
            routes.append((route_lid, str(route.get("RouteKey") or ""), integration))
        if not routes and body is None:
            self.problems.append(f"Resource {lid}: an HTTP API needs a Body, Routes (AWS::ApiGatewayV2::Route with "
                                 "its Integration) or a Target; it has none")
            return None
        paths = definition.setdefault("paths", {})
        for route_lid, key, integration in routes:
            if integration.get("IntegrationType") != "AWS_PROXY":
                self.problems.append(f"Resource {route_lid}: IntegrationType {integration.get('IntegrationType')!r}"
                                     " is not supported yet (AWS_PROXY, a Lambda function, is)")
                return None
            method, _, path = key.partition(" ")
            operation = {"x-amazon-apigateway-integration": {
                "type": "aws_proxy", "uri": integration.get("IntegrationUri"),
                "payloadFormatVersion": str(integration.get("PayloadFormatVersion") or "2.0"),
                **({"timeoutInMillis": integration["TimeoutInMillis"]} if "TimeoutInMillis" in integration else {})}}
            verb = "x-amazon-apigateway-any-method" if method in ("ANY", "$default") else method.lower()
            paths.setdefault("/$default" if key == "$default" else path or key, {})[verb] = operation
        return definition

    def _valid_definition(self, lid: str, body: dict[str, Any]) -> bool:
        try:
            imported = parse_openapi(json.dumps(body))
        except OpenApiImportError as error:
            self.problems.append(f"Resource {lid}: the OpenAPI definition does not import: {error.message}")
            return False
        except (TypeError, ValueError) as error:
            self.problems.append(f"Resource {lid}: the OpenAPI definition is not JSON data: {error}")
            return False
        self.warnings += [f"Resource {lid}: {warning}" for warning in imported.warnings]
        return True

    # --------------------------------------------------------------------------------------- outputs

    def _outputs(self, resolver: Resolver) -> dict[str, dict[str, str]]:
        outputs: dict[str, dict[str, str]] = {}
        for name, output in _dict(self.template.get("Outputs")).items():
            where = f"Output {name}"
            output = _dict(output)
            condition = output.get("Condition")
            if isinstance(condition, str) and not resolver.condition(condition, where):
                continue
            value = resolver.text(output.get("Value"), where)
            if value is None:
                continue
            entry = {"OutputValue": value}
            if "Description" in output:
                entry["Description"] = resolver.text(output["Description"], where) or ""
            export = _dict(output.get("Export")).get("Name")
            if export is not None:
                entry["ExportName"] = resolver.text(export, where) or ""
            outputs[str(name)] = entry
        return outputs


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _stable_id(seed: str, length: int) -> str:
    """A deterministic API-Gateway-style id ([a-z0-9]) derived from `seed`."""
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    chars = []
    for _ in range(length):
        digest, index = divmod(digest, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)

