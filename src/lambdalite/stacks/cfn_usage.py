"""AWS::ApiGateway::ApiKey, UsagePlan and UsagePlanKey (as SAM's `Auth: {ApiKeyRequired, UsagePlan}`
expands into, or written by hand) -> planned upserts of API keys and usage plans. Pure.

Their physical ids are decided in the plan (kept from the previous deployment, else derived from the
stack and logical id), so a redeploy updates the same key and plan: a partner's key value survives
every deploy. A UsagePlanKey is not an operation of its own: the plan it names is put with exactly
the keys its UsagePlanKeys name.
"""

from __future__ import annotations

from typing import Any

from .model import PlannedUsage

API_KEY = "AWS::ApiGateway::ApiKey"
USAGE_PLAN = "AWS::ApiGateway::UsagePlan"
USAGE_PLAN_KEY = "AWS::ApiGateway::UsagePlanKey"
TYPES = (API_KEY, USAGE_PLAN, USAGE_PLAN_KEY)


def id_length(kind: str) -> int:
    """API key ids have 10 characters, usage plan ids 6 (AWS's, reference 1.5/13.1)."""
    return 10 if kind == API_KEY else 6


def plan_usage(resources: dict[str, tuple[str, dict[str, Any]]], refs: dict[str, str],
               problems: list[str]) -> list[PlannedUsage]:
    """`resources`: logical id -> (type, resolved properties) of the three types; keys first, then plans."""
    keys_of: dict[str, list[str]] = {}
    for lid, (kind, props) in resources.items():
        if kind != USAGE_PLAN_KEY:
            continue
        if str(props.get("KeyType") or "API_KEY") != "API_KEY":
            problems.append(f"Resource {lid}: KeyType must be API_KEY")
        keys_of.setdefault(str(props.get("UsagePlanId")), []).append(str(props.get("KeyId")))
    out = [PlannedUsage(lid, API_KEY, refs[lid], _key_body(props))
           for lid, (kind, props) in resources.items() if kind == API_KEY]
    for lid, (kind, props) in resources.items():
        if kind == USAGE_PLAN:
            out.append(PlannedUsage(lid, USAGE_PLAN, refs[lid], _plan_body(props),
                                    tuple(keys_of.pop(refs[lid], []))))
    for plan_id in keys_of:
        problems.append(f"UsagePlanKey: UsagePlanId {plan_id} is not a usage plan of this stack (Ref one)")
    return out


def _key_body(props: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"enabled": str(props.get("Enabled", False)).lower() == "true"}
    for prop, member in (("Name", "name"), ("Description", "description"), ("Value", "value"),
                         ("CustomerId", "customerId")):
        if props.get(prop) not in (None, ""):
            body[member] = str(props[prop])
    stage_keys = [{"restApiId": s.get("RestApiId"), "stageName": s.get("StageName")}
                  for s in props.get("StageKeys") or [] if isinstance(s, dict)]
    if stage_keys:
        body["stageKeys"] = stage_keys
    return body


def _plan_body(props: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"name": str(props.get("UsagePlanName") or "usage-plan")}
    if props.get("Description"):
        body["description"] = str(props["Description"])
    body["apiStages"] = [{"apiId": str(s.get("ApiId")), "stage": str(s.get("Stage"))}
                         for s in props.get("ApiStages") or [] if isinstance(s, dict)]
    quota = props.get("Quota")
    if isinstance(quota, dict) and quota:
        body["quota"] = {"limit": quota.get("Limit"), "offset": quota.get("Offset", 0), "period": quota.get("Period")}
    throttle = props.get("Throttle")
    if isinstance(throttle, dict) and throttle:
        body["throttle"] = {k: v for k, v in (("burstLimit", throttle.get("BurstLimit")),
                                               ("rateLimit", throttle.get("RateLimit"))) if v is not None}
    return body
