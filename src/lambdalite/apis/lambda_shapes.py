"""AWS's response shapes for the Lambda API (pure): FunctionConfiguration and friends."""

from __future__ import annotations

from typing import Any

from ..functions.model import FunctionVersion

# Keys that ListFunctions leaves out (use GetFunction for them), as AWS does.
NOT_IN_LIST = {"State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
               "LastUpdateStatusReasonCode", "RuntimeVersionConfig"}


def configuration(fn: FunctionVersion, arn: str, region: str, *, creating: bool = False) -> dict[str, Any]:
    """FunctionConfiguration as AWS renders it; `creating` is CreateFunction's own answer."""
    c = fn.config
    out: dict[str, Any] = {
        "FunctionName": fn.name,
        "FunctionArn": arn,
        "Runtime": fn.runtime,
        "Role": fn.role,
        "Handler": fn.handler,
        "CodeSize": fn.code_size,
        "Description": c.get("Description", ""),
        "Timeout": fn.timeout,
        "MemorySize": fn.memory_size,
        "LastModified": fn.last_modified,
        "CodeSha256": fn.code_sha256,
        "Version": fn.version,
    }
    if c.get("Environment") is not None:
        out["Environment"] = {"Variables": fn.variables}
    for key in ("VpcConfig", "DeadLetterConfig", "KMSKeyArn"):
        if c.get(key):
            out[key] = c[key]
    out["TracingConfig"] = c.get("TracingConfig") or {"Mode": "PassThrough"}
    out["RevisionId"] = fn.revision_id
    if c.get("Layers"):
        out["Layers"] = c["Layers"]
    out["State"] = fn.state
    if fn.state_reason:
        out["StateReason"] = fn.state_reason
        out["StateReasonCode"] = fn.state_reason_code
    if not creating:
        out["LastUpdateStatus"] = fn.last_update_status
        if fn.last_update_status_reason:
            out["LastUpdateStatusReason"] = fn.last_update_status_reason
            out["LastUpdateStatusReasonCode"] = fn.last_update_status_reason_code
    out["PackageType"] = c.get("PackageType", "Zip")
    out["Architectures"] = list(c.get("Architectures") or ["x86_64"])
    out["EphemeralStorage"] = c.get("EphemeralStorage") or {"Size": 512}
    out["SnapStart"] = c.get("SnapStart") or {"ApplyOn": "None", "OptimizationStatus": "Off"}
    out["RuntimeVersionConfig"] = {
        "RuntimeVersionArn": f"arn:aws:lambda:{region}::runtime:lambdalite-{fn.runtime}"}
    out["LoggingConfig"] = c.get("LoggingConfig") or {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{fn.name}"}
    return out


def being_created(version: FunctionVersion, arn: str, region: str) -> dict[str, Any]:
    """The version `Publish: true` made, as CreateFunction / UpdateFunctionCode answer it: AWS says the
    version is still being created (State Pending, no LastUpdateStatus; AWS-recorded in
    test_publish_version_on_create "create_response" and test_publish_with_update
    "update_function_code_result"). Here it is already Active; GetFunction says so."""
    out = configuration(version, arn, region, creating=True)
    out.update(State="Pending", StateReason="The function is being created.", StateReasonCode="Creating")
    return out


def list_entry(fn: FunctionVersion, arn: str, region: str) -> dict[str, Any]:
    full = configuration(fn, arn, region)
    return {k: v for k, v in full.items() if k not in NOT_IN_LIST}


def alias(a: Any, arn: str) -> dict[str, Any]:
    """AliasConfiguration."""
    out: dict[str, Any] = {"AliasArn": arn, "Name": a.name, "FunctionVersion": a.function_version,
                           "Description": a.description, "RevisionId": a.revision_id}
    if a.weights:
        out["RoutingConfig"] = {"AdditionalVersionWeights": dict(a.weights)}
    return out


def provisioned(c: Any, arn: str | None = None) -> dict[str, Any]:
    """A provisioned concurrency config (Put/Get), with its FunctionArn in ListProvisionedConcurrencyConfigs."""
    out: dict[str, Any] = {"FunctionArn": arn} if arn is not None else {}
    out.update({"RequestedProvisionedConcurrentExecutions": c.requested,
                "AvailableProvisionedConcurrentExecutions": c.allocated,
                "AllocatedProvisionedConcurrentExecutions": c.allocated,
                "Status": c.status, "LastModified": c.last_modified})
    if c.status_reason:
        out["StatusReason"] = c.status_reason
    return out
