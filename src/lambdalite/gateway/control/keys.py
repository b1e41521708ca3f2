"""API keys, usage plans and usage plan keys (`/apikeys`, `/usageplans`): account-wide objects.

Each is one document in its wire shape (a plan also keeps `keys`, the ids of its API keys), written
to the store before it is swapped in. After every change a new `usage.KeyTable` is published to the
listeners (the data plane), so the request path looks keys up without asking the store anything.

AWS's texts as recorded in LocalStack's AWS snapshots (`test_apigateway_extended`,
`test_apigateway_common::TestUsagePlans`); where none was recorded, the text is named UNCONFIRMED
in docs/api-keys.md.
"""

from __future__ import annotations

import copy
import datetime as dt
import secrets
import string
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import BadRequestException, ConflictException, NotFoundException, ValidationError
from ...store import Database
from ..usage import PERIODS, KeyTable, UsageMeter, build_key_table, plan_limits
from . import patch
from .ids import API_ID_LENGTH, new_id, now

KEYS, PLANS = "api_keys", "usage_plans"
NO_KEY = "Invalid API Key identifier specified"
NO_PLAN = "Invalid Usage Plan ID specified"
NO_PLAN_KEY = "Invalid Usage Plan Key identifier specified"   # UNCONFIRMED (moto's text)
VALUE_ALPHABET = string.ascii_letters + string.digits
KEY_PATHS = "[/description, /enabled, /name, /customerId]"
MAX_NAME, MAX_DESCRIPTION, MIN_VALUE, MAX_VALUE = 1024, 125, 20, 128


class KeyService:
    def __init__(self, db: Database, account: str,
                 stage_exists: Callable[[str, str], bool] = lambda api, stage: False) -> None:
        self.db = db
        self.account = account
        self.stage_exists = stage_exists   # (api id, stage name) -> whether that REST API has that stage
        self.keys: dict[str, dict[str, Any]] = {}
        self.plans: dict[str, dict[str, Any]] = {}
        self._listeners: list[Callable[[KeyTable], None]] = []
        self.table = KeyTable()
        self.on_key_left: Callable[[str, str], None] = lambda plan_id, key_id: None

    def load(self) -> None:
        self.keys = {k["id"]: k for k in self.db.load_usage_objects(KEYS)}
        self.plans = {p["id"]: p for p in self.db.load_usage_objects(PLANS)}
        self._publish()

    def on_change(self, listener: Callable[[KeyTable], None]) -> None:
        self._listeners.append(listener)

    def _publish(self) -> None:
        self.table = build_key_table(self.keys, self.plans)
        for listener in self._listeners:
            listener(self.table)

    def _save(self, table: str, document: dict[str, Any]) -> None:
        self.db.put_usage_object(table, document["id"], document)
        (self.keys if table == KEYS else self.plans)[document["id"]] = document
        self._publish()

    # API keys ---------------------------------------------------------------------------------------
    def create_api_key(self, body: dict[str, Any]) -> dict[str, Any]:
        key = self._new_key(body, new_id(API_ID_LENGTH, self.keys))
        self._save(KEYS, key)
        return render_key(key, with_value=True)

    def _new_key(self, body: dict[str, Any], key_id: str) -> dict[str, Any]:
        name, value = body.get("name"), body.get("value")
        _check_key_fields(name, body.get("description"))
        if value:
            if len(str(value)) < MIN_VALUE:
                raise BadRequestException("API Key value should be at least 20 characters")
            if len(str(value)) > MAX_VALUE:
                raise BadRequestException("API Key value exceeds maximum size of 128 characters")
            if any(k["value"] == value and k["id"] != key_id for k in self.keys.values()):
                raise ConflictException("API Key already exists")   # UNCONFIRMED (moto's text)
        else:   # AWS generates 40 letters and digits (moto's observation, reference 1.5)
            value = "".join(secrets.choice(VALUE_ALPHABET) for _ in range(40))
        created = now()
        key: dict[str, Any] = {"id": key_id, "value": str(value),
                               "enabled": bool(body.get("enabled", False)), "createdDate": created,
                               "lastUpdatedDate": created, "stageKeys": _stage_keys(body.get("stageKeys"))}
        for member in ("name", "description", "customerId"):
            if body.get(member):
                key[member] = str(body[member])
        if body.get("tags"):
            key["tags"] = dict(body["tags"])
        return key

    def get_api_key(self, key_id: str, include_value: bool) -> dict[str, Any]:
        return render_key(self._key(key_id), with_value=include_value, with_tags=True)

    def get_api_keys(self, name_query: str | None, customer_id: str | None,
                     include_values: bool) -> list[dict[str, Any]]:
        """Keys whose name starts with `name_query` (case-sensitive, AWS-recorded), newest first."""
        keys = sorted(self.keys.values(), key=lambda k: (-k["createdDate"], k["id"]))
        return [render_key(k, with_value=include_values) for k in keys
                if (not name_query or str(k.get("name") or "").startswith(name_query))
                and (not customer_id or k.get("customerId") == customer_id)]

    def update_api_key(self, key_id: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
        key = copy.deepcopy(self._key(key_id))
        for op in patch.check_ops(operations, "updateApiKeyInput"):
            kind, path, value = op["op"], str(op.get("path")), op.get("value")
            if path not in ("/description", "/enabled", "/name", "/customerId") or kind != "replace":
                raise BadRequestException(f"Invalid patch path  '{path}' specified for op '{kind}'. "
                                          f"Must be one of: {KEY_PATHS}")
            if path == "/enabled":
                key["enabled"] = patch.to_bool(value)   # AWS-recorded: anything but "true" is false
            else:
                _check_key_fields(value if path == "/name" else None, value if path == "/description" else None)
                patch.set_scalar(key, path[1:], "replace", value or None)
        key["lastUpdatedDate"] = now()
        self._save(KEYS, key)
        return render_key(key, with_value=False, with_tags=True)

    def delete_api_key(self, key_id: str) -> None:
        self._key(key_id)
        for plan in list(self.plans.values()):
            if key_id in (plan.get("keys") or []):
                self._drop_plan_key(plan, key_id)
        self.db.delete_usage_object(KEYS, key_id)
        del self.keys[key_id]
        self._publish()

    def _key(self, key_id: str) -> dict[str, Any]:
        key = self.keys.get(key_id)
        if key is None:
            raise NotFoundException(NO_KEY)
        return key

    # usage plans ------------------------------------------------------------------------------------
    def create_usage_plan(self, body: dict[str, Any]) -> dict[str, Any]:
        plan = self._new_plan(body, new_id(CHILD_PLAN_ID_LENGTH, self.plans))
        self._save(PLANS, plan)
        return render_plan(plan)

    def _new_plan(self, body: dict[str, Any], plan_id: str) -> dict[str, Any]:
        plan: dict[str, Any] = {"id": plan_id, "name": str(body.get("name") or ""), "apiStages": []}
        if not plan["name"]:
            raise BadRequestException("Invalid usage plan name specified")   # UNCONFIRMED
        if body.get("description"):
            plan["description"] = str(body["description"])
        for stage in body.get("apiStages") or []:
            plan["apiStages"].append(self._api_stage(stage))
        if body.get("throttle"):
            plan["throttle"] = _throttle(body["throttle"])
        if body.get("quota"):
            plan["quota"] = _quota(body["quota"])
        if body.get("productCode"):
            plan["productCode"] = str(body["productCode"])
        if body.get("tags"):
            plan["tags"] = dict(body["tags"])
        plan["keys"] = []
        return plan

    def _api_stage(self, given: Any) -> dict[str, Any]:
        """An apiStages entry checked against the stages that exist. The text is the one CloudFormation
        reports (`API Stage not found: {api}:{stage}`, public deploy logs); its status UNCONFIRMED."""
        if not isinstance(given, Mapping) or not given.get("apiId") or not given.get("stage"):
            raise BadRequestException("Invalid API Stage specified")
        api_id, stage = str(given["apiId"]), str(given["stage"])
        if not self.stage_exists(api_id, stage):
            raise BadRequestException(f"API Stage not found: {api_id}:{stage}")
        out: dict[str, Any] = {"apiId": api_id, "stage": stage}
        if given.get("throttle"):
            out["throttle"] = {path: _throttle(t) for path, t in dict(given["throttle"]).items()}
        return out

    def get_usage_plan(self, plan_id: str) -> dict[str, Any]:
        return render_plan(self._plan(plan_id), with_tags=True)

    def get_usage_plans(self, key_id: str | None) -> list[dict[str, Any]]:
        plans = sorted(self.plans.values(), key=lambda p: (p["name"], p["id"]))
        return [render_plan(p) for p in plans if not key_id or key_id in (p.get("keys") or [])]

    def update_usage_plan(self, plan_id: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
        plan = copy.deepcopy(self._plan(plan_id))
        for op in patch.check_ops(operations, "updateUsagePlanInput"):
            self._patch_plan(plan, op["op"], str(op.get("path")), op.get("value"))
        self._save(PLANS, plan)
        return render_plan(plan, with_tags=True)

    def _patch_plan(self, plan: dict[str, Any], kind: str, path: str, value: Any) -> None:
        parts = patch.split_path(path)
        if path in ("/name", "/description", "/productCode") and kind == "replace":
            patch.set_scalar(plan, path[1:], kind, value)
        elif parts and parts[0] == "apiStages":
            self._patch_stages(plan, kind, value)
        elif len(parts) == 2 and parts[0] in ("throttle", "quota") and kind == "replace":
            section = dict(plan.get(parts[0]) or {})
            section[parts[1]] = value
            plan[parts[0]] = _throttle(section) if parts[0] == "throttle" else _quota(section)
        elif path in ("/throttle", "/quota") and kind == "remove":
            plan.pop(path[1:], None)
        else:
            raise BadRequestException(f"Invalid patch path {path}")   # UNCONFIRMED text

    def _patch_stages(self, plan: dict[str, Any], kind: str, value: Any) -> None:
        """`add`/`remove` `/apiStages` with value `{apiId}:{stage}` (AWS-recorded errors)."""
        api_id, colon, stage = str(value or "").partition(":")
        if not value or not colon or not api_id or not stage or kind not in ("add", "remove"):
            raise BadRequestException("Invalid API Stage specified")
        listed = {"apiId": api_id, "stage": stage}
        present = [s for s in plan["apiStages"] if (s["apiId"], s["stage"]) == (api_id, stage)]
        if kind == "remove":
            if not present:
                raise NotFoundException(f"Invalid API Stage {{api: {api_id}, stage: {stage}}} specified for "
                                        f"usageplan {plan['id']}")
            plan["apiStages"] = [s for s in plan["apiStages"] if s not in present]
        elif not present:
            if not self.stage_exists(api_id, stage):
                raise NotFoundException(f"Invalid API Stage {{api: {api_id}, stage: {stage}}} specified for "
                                        f"usageplan {plan['id']}")
            plan["apiStages"].append(listed)

    def delete_usage_plan(self, plan_id: str) -> None:
        plan = self._plan(plan_id)
        for key_id in plan.get("keys") or []:
            self.on_key_left(plan_id, key_id)
        self.db.delete_usage_object(PLANS, plan_id)
        del self.plans[plan_id]
        self._publish()

    def _plan(self, plan_id: str) -> dict[str, Any]:
        plan = self.plans.get(plan_id)
        if plan is None:
            raise NotFoundException(NO_PLAN)
        return plan

    def get_usage(self, plan_id: str, meter: UsageMeter, start: str, end: str,
                  key_id: str | None) -> dict[str, Any]:
        """GetUsage: per key, one `[used, remaining]` per UTC day from `start` to `end` (YYYY-MM-DD); on
        the wire the map is `values` (boto3 shows it as `items`). Remaining is the quota left in the
        period holding that day, as far as this server run has counted."""
        plan = self._plan(plan_id)
        try:
            first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError:
            raise BadRequestException("Invalid startDate or endDate: use YYYY-MM-DD") from None   # UNCONFIRMED
        if last < first:
            raise BadRequestException("The endDate must not be before the startDate")   # UNCONFIRMED
        limits = plan_limits(plan)
        values: dict[str, list[list[int]]] = {}
        for kid in plan.get("keys") or []:
            if key_id and kid != key_id:
                continue
            daily = meter.daily(plan_id, kid)
            remaining = (limits.quota_limit - meter.used(limits, kid)) if limits.quota_limit is not None else 0
            days = (last - first).days + 1
            values[kid] = [[daily.get((first + dt.timedelta(days=i)).isoformat(), 0), max(remaining, 0)]
                           for i in range(min(days, 366))]
        return {"usagePlanId": plan_id, "startDate": start, "endDate": end, "values": values}

    # usage plan keys --------------------------------------------------------------------------------
    def create_usage_plan_key(self, plan_id: str, body: dict[str, Any]) -> dict[str, Any]:
        plan = copy.deepcopy(self._plan(plan_id))
        if body.get("keyType") != "API_KEY":
            raise BadRequestException("Invalid key type specified: only API_KEY is supported")   # UNCONFIRMED
        key = self._key(str(body.get("keyId") or ""))
        if key["id"] in plan["keys"]:
            raise ConflictException("Usage Plan Key already exists")   # UNCONFIRMED
        stages = {(s["apiId"], s["stage"]) for s in plan["apiStages"]}
        for other in self.plans.values():
            clash = stages & {(s["apiId"], s["stage"]) for s in other["apiStages"]}
            if other["id"] != plan_id and key["id"] in (other.get("keys") or []) and clash:
                api_id, stage = sorted(clash)[0]
                raise ConflictException(f"API Key {key['id']} is already associated with another usage plan "
                                        f"({other['id']}) for stage {api_id}:{stage}")   # UNCONFIRMED text
        plan["keys"].append(key["id"])
        self._save(PLANS, plan)
        return render_plan_key(key)

    def get_usage_plan_keys(self, plan_id: str, name_query: str | None) -> list[dict[str, Any]]:
        """AWS-recorded: an unknown plan lists nothing (200), it is not a 404."""
        plan = self.plans.get(plan_id) or {}
        keys = [self.keys[k] for k in plan.get("keys") or [] if k in self.keys]
        keys.sort(key=lambda k: (-k["createdDate"], k["id"]))
        return [render_plan_key(k) for k in keys if not name_query or str(k.get("name") or "").startswith(name_query)]

    def get_usage_plan_key(self, plan_id: str, key_id: str) -> dict[str, Any]:
        plan = self._plan(plan_id)
        key = self._key(key_id)
        if key_id not in plan["keys"]:
            raise NotFoundException(NO_PLAN_KEY)
        return render_plan_key(key)

    def delete_usage_plan_key(self, plan_id: str, key_id: str) -> None:
        plan = self._plan(plan_id)
        self._key(key_id)
        if key_id not in plan["keys"]:
            raise NotFoundException(NO_PLAN_KEY)
        self._drop_plan_key(plan, key_id)
        self._publish()

    def _drop_plan_key(self, plan: dict[str, Any], key_id: str) -> None:
        changed = {**plan, "keys": [k for k in plan["keys"] if k != key_id]}
        self.db.put_usage_object(PLANS, plan["id"], changed)
        self.plans[plan["id"]] = changed
        self.on_key_left(plan["id"], key_id)

    # stacks (AWS::ApiGateway::ApiKey / UsagePlan / UsagePlanKey): upserts by the id the plan chose ------
    def put_api_key(self, key_id: str, body: dict[str, Any]) -> None:
        """A stack's key: its value is kept across deployments unless the template gives one."""
        existing = self.keys.get(key_id)
        key = self._new_key({**body, "value": body.get("value") or (existing or {}).get("value")}, key_id)
        if existing is not None:
            key["createdDate"] = existing["createdDate"]
        self._save(KEYS, key)

    def put_usage_plan(self, plan_id: str, body: dict[str, Any], key_ids: list[str]) -> None:
        """A stack's plan with exactly the keys its UsagePlanKeys name (they must exist)."""
        for key_id in key_ids:
            self._key(key_id)
        plan = {**self._new_plan(body, plan_id), "keys": list(key_ids)}
        for key_id in set(self.plans.get(plan_id, {}).get("keys") or []) - set(key_ids):
            self.on_key_left(plan_id, key_id)
        self._save(PLANS, plan)

    def saved(self, table: str, object_id: str) -> dict[str, Any] | None:
        found = (self.keys if table == KEYS else self.plans).get(object_id)
        return copy.deepcopy(found) if found is not None else None

    def restore(self, table: str, object_id: str, saved: dict[str, Any] | None) -> None:
        """Put back what `saved` returned (a stack rolling back), or remove what was not there."""
        if saved is None:
            self.db.delete_usage_object(table, object_id)
            (self.keys if table == KEYS else self.plans).pop(object_id, None)
            self._publish()
        else:
            self._save(table, saved)

    def forget_missing(self, api_ids: set[str]) -> None:
        """Stages of REST APIs that are gone leave every plan (a deleted API takes its stages along)."""
        changed_any = False
        for plan in list(self.plans.values()):
            kept = [s for s in plan["apiStages"] if s["apiId"] in api_ids]
            if len(kept) != len(plan["apiStages"]):
                changed = {**plan, "apiStages": kept}
                self.db.put_usage_object(PLANS, plan["id"], changed)
                self.plans[plan["id"]] = changed
                changed_any = True
        if changed_any:
            self._publish()


CHILD_PLAN_ID_LENGTH = 6   # usage plan ids are 6 characters (`7ex1a2`), API key ids 10 (`c4gja270ha`)


def render_key(key: Mapping[str, Any], with_value: bool, with_tags: bool = False) -> dict[str, Any]:
    """An ApiKey: `value` only when asked for (includeValue), `tags` on Get/Update (AWS-recorded)."""
    out = {k: copy.deepcopy(v) for k, v in key.items() if k != "value" or with_value}
    if with_tags:
        out.setdefault("tags", {})
    return out


def render_plan(plan: Mapping[str, Any], with_tags: bool = False) -> dict[str, Any]:
    """A UsagePlan without Lambdalite's `keys`; `tags` on Get/Update (AWS-recorded), not on lists."""
    out = {k: copy.deepcopy(v) for k, v in plan.items() if k != "keys"}
    if with_tags:
        out.setdefault("tags", {})
    elif "tags" in out and not out["tags"]:
        del out["tags"]
    return out


def render_plan_key(key: Mapping[str, Any]) -> dict[str, Any]:
    """A UsagePlanKey: `{id, type, value, name}` (AWS-recorded: create-usage-plan-key)."""
    out = {"id": key["id"], "type": "API_KEY", "value": key["value"]}
    if key.get("name"):
        out["name"] = key["name"]
    return out


def _check_key_fields(name: Any, description: Any) -> None:
    if name is not None and len(str(name)) > MAX_NAME:
        raise BadRequestException("Invalid API Key name, can be at most 1024 characters.")
    if description is not None and len(str(description)) > MAX_DESCRIPTION:
        raise BadRequestException("Invalid API Key description specified.")


def _stage_keys(given: Any) -> list[str]:
    return [f"{s.get('restApiId')}/{s.get('stageName')}" for s in given or [] if isinstance(s, Mapping)]


def _throttle(given: Mapping[str, Any]) -> dict[str, Any]:
    """`{burstLimit: int, rateLimit: float}` (AWS-recorded: rateLimit is rendered 10.0)."""
    out: dict[str, Any] = {}
    if given.get("burstLimit") is not None:
        out["burstLimit"] = patch.to_int(given["burstLimit"])
    if given.get("rateLimit") is not None:
        out["rateLimit"] = patch.to_float(given["rateLimit"])
    if any(v < 0 for v in out.values()):
        raise BadRequestException("Throttle limits must be zero or more")   # UNCONFIRMED text
    return out


def _quota(given: Mapping[str, Any]) -> dict[str, Any]:
    """`{limit, offset (0 by default, AWS-recorded), period}`; the period's enum as Coral words it."""
    period = str(given.get("period") or "")
    if period not in PERIODS:
        raise ValidationError(f"1 validation error detected: Value '{period}' at 'usagePlan.quota.period' failed "
                              f"to satisfy constraint: Member must satisfy enum value set: [DAY, WEEK, MONTH]")
    limit = patch.to_int(given.get("limit"))
    if limit <= 0:
        raise BadRequestException("Quota limit must be greater than 0")   # UNCONFIRMED text
    return {"limit": limit, "offset": patch.to_int(given.get("offset") or 0), "period": period}

