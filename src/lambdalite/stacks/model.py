"""The plan of a stack: what `plan.build_plan` produces and `service.StackService` applies.

Everything is resolved: no intrinsic function is left anywhere in a plan. Physical ids (function
names, REST API ids) are decided before planning (kept from the previous deployment of the stack,
or allocated fresh) and passed in, so Outputs and permissions can be resolved in the plan itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlannedFunction:
    logical_id: str
    name: str                          # physical FunctionName
    create: dict[str, Any]             # CreateFunction body without Code (FunctionName, Runtime, Handler, Role, ...)
    code_sha256: str | None = None     # hex SHA-256 of the zip the client uploaded (CodeUri)
    inline_code: str | None = None     # InlineCode: becomes index.py
    test_events: dict[str, str] = field(default_factory=dict)   # name -> event JSON text (events/*.json)
    reserved_concurrency: int | None = None   # ReservedConcurrentExecutions (None: no reservation)
    monthly_budget: float | None = None       # Metadata Lambdalite MonthlyBudget (None: left as it is)


@dataclass(frozen=True)
class PlannedLayer:
    logical_id: str
    name: str                          # LayerName
    arn: str                           # the layer version's ARN, version decided before planning
    code_sha256: str                   # hex SHA-256 of the zip the client uploaded (ContentUri)
    publish: dict[str, Any]            # PublishLayerVersion body without Content
    build_method: str | None = None    # Metadata BuildMethod: python3.X installs the layer's requirements.txt
    retain: bool = True                # DeletionPolicy: a replaced version stays unless it is Delete

    @property
    def version(self) -> int:
        return int(self.arn.rsplit(":", 1)[1])


@dataclass(frozen=True)
class PlannedVersion:
    """AWS::Lambda::Version (SAM's AutoPublishAlias makes one per code change): published once, when
    its logical id is new to the stack; kept when it leaves the template if DeletionPolicy is Retain."""

    logical_id: str
    function_name: str
    number: str                        # the version the plan expects (the next free one, or the one kept)
    existing: bool                     # published by an earlier deployment of this stack, still there
    description: str | None = None
    retain: bool = False
    provisioned: int | None = None     # ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions


@dataclass(frozen=True)
class TrafficShift:
    """SAM's DeploymentPreference on an alias (CodeDeploy's job on AWS): how a new version takes the
    alias's traffic, and when it goes back by itself."""

    config: str                        # CodeDeploy's config name, e.g. Canary10Percent5Minutes
    steps: tuple[tuple[float, float], ...]   # (share of calls to the new version, seconds) before 100%
    rollback_error_rate: float = 0.05  # the new version's error rate over a step that rolls back
    pre_hook: str | None = None        # PreTraffic hook function: must succeed before any traffic moves
    post_hook: str | None = None       # PostTraffic hook function: must succeed once all traffic moved


@dataclass(frozen=True)
class PlannedAlias:
    logical_id: str
    function_name: str
    name: str
    version: str                       # the version number it points at (or $LATEST)
    version_from: str | None = None    # the logical id of this stack's Version resource it came from
    weights: dict[str, float] = field(default_factory=dict)
    description: str = ""
    provisioned: int | None = None
    shift: TrafficShift | None = None
    shadow: tuple[str, str | None] | None = None   # Metadata Lambdalite ShadowVersion (and ShadowCompare)


@dataclass(frozen=True)
class PlannedSchedule:
    """AWS::Events::Rule with a ScheduleExpression (SAM `Schedule`) or AWS::Scheduler::Schedule (SAM
    `ScheduleV2`): a function invoked asynchronously on a schedule."""

    logical_id: str
    name: str
    arn: str                           # the rule's or schedule's ARN (the event's `resources`)
    expression: str                    # rate(...) or cron(...), checked
    function: str
    qualifier: str | None = None
    timezone: str | None = None        # ScheduleExpressionTimezone (ScheduleV2)
    enabled: bool = True
    input: str | None = None           # the target's Input: the function gets exactly this JSON

    def to_document(self) -> dict[str, Any]:
        return {"logical_id": self.logical_id, "name": self.name, "arn": self.arn, "expression": self.expression,
                "function": self.function, "qualifier": self.qualifier, "timezone": self.timezone,
                "enabled": self.enabled, "input": self.input}


@dataclass(frozen=True)
class PlannedEventConfig:
    """AWS::Lambda::EventInvokeConfig (SAM's EventInvokeConfig): retries, age and destinations of a
    function's async invocations."""

    logical_id: str
    function: str
    qualifier: str
    body: dict[str, Any]               # PutFunctionEventInvokeConfig's body


@dataclass(frozen=True)
class PlannedApi:
    logical_id: str
    api_id: str                        # physical id (pre-allocated, 10 chars [a-z0-9])
    name: str
    definition: dict[str, Any]         # the OpenAPI document to import (PutRestApi mode=overwrite)
    stages: dict[str, dict[str, str]]  # stage name -> stage variables
    binary_media_types: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlannedHttpApi:
    """AWS::ApiGatewayV2::Api with its OpenAPI 3 Body (SAM's HttpApi; or one made from its hand-written
    AWS::ApiGatewayV2::Routes and Integrations, or its quick-create Target), and its Stages."""

    logical_id: str
    api_id: str                        # physical id (pre-allocated, 10 chars [a-z0-9])
    name: str
    definition: dict[str, Any]         # OpenAPI 3, intrinsics resolved
    stages: dict[str, dict[str, str]]  # stage name -> stage variables
    description: str | None = None
    cors: dict[str, Any] | None = None                   # CorsConfiguration (CloudFormation's)
    stage_settings: dict[str, dict[str, Any]] = field(default_factory=dict)   # stage -> DefaultRouteSettings
    route_settings: dict[str, dict[str, Any]] = field(default_factory=dict)   # stage -> RouteSettings by key
    access_logs: dict[str, dict[str, Any]] = field(default_factory=dict)      # stage -> AccessLogSettings


@dataclass(frozen=True)
class PlannedUsage:
    """An API key or a usage plan put by id after the APIs (stacks/cfn_usage.py)."""

    logical_id: str
    kind: str                          # AWS::ApiGateway::ApiKey | AWS::ApiGateway::UsagePlan
    physical_id: str
    body: dict[str, Any]               # CreateApiKey's / CreateUsagePlan's body
    key_ids: tuple[str, ...] = ()      # a plan's keys (its UsagePlanKeys)


@dataclass(frozen=True)
class PlannedPermission:
    logical_id: str
    function_name: str
    statement: dict[str, Any]          # AddPermission body (StatementId, Action, Principal, SourceArn?)
    qualifier: str | None = None       # a version or alias (the FunctionName was a qualified ARN)


@dataclass(frozen=True)
class PlannedRole:
    """An AWS::IAM::Role: what it states (its inline policies' statements, its managed policy ARNs)."""

    logical_id: str
    arn: str
    statements: tuple[dict[str, Any], ...] = ()
    managed: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedResource:
    """Every resource of the expanded template, for DescribeStackResources and `lambdalite ls`."""

    logical_id: str
    type: str
    physical_id: str
    supported: bool = True             # False: kept and reported (a warning), not acted on


@dataclass(frozen=True)
class StackPlan:
    stack_name: str
    functions: list[PlannedFunction]
    apis: list[PlannedApi]
    permissions: list[PlannedPermission]
    resources: list[PlannedResource]
    outputs: dict[str, dict[str, str]]     # name -> {"OutputValue": ..., "Description"?: ..., "ExportName"?: ...}
    parameters: dict[str, str]             # resolved parameter values (NoEcho ones masked as "****")
    warnings: list[str]
    expanded_template: dict[str, Any]      # the CloudFormation after SAM's expansion, intrinsics unresolved
    description: str | None = None
    layers: list[PlannedLayer] = field(default_factory=list)
    versions: list[PlannedVersion] = field(default_factory=list)
    aliases: list[PlannedAlias] = field(default_factory=list)
    schedules: list[PlannedSchedule] = field(default_factory=list)
    event_configs: list[PlannedEventConfig] = field(default_factory=list)
    http_apis: list[PlannedHttpApi] = field(default_factory=list)
    usage: list[PlannedUsage] = field(default_factory=list)
    roles: list[PlannedRole] = field(default_factory=list)
