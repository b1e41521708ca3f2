"""AWS::ApiGateway::ApiKey / UsagePlan / UsagePlanKey -> planned upserts (`stacks.cfn_usage`): pure."""

from __future__ import annotations

from lambdalite.stacks.cfn_usage import API_KEY, USAGE_PLAN, USAGE_PLAN_KEY, plan_usage
from lambdalite.stacks.model import PlannedUsage


def test_keys_come_first_and_a_plan_holds_the_keys_its_usage_plan_keys_name() -> None:
    problems: list[str] = []
    planned = plan_usage({
        "Plan": (USAGE_PLAN, {"UsagePlanName": "partners", "ApiStages": [{"ApiId": "abc", "Stage": "prod"}],
                              "Quota": {"Limit": 100, "Period": "MONTH"}, "Throttle": {"RateLimit": 5}}),
        "Key": (API_KEY, {"Enabled": True, "Name": "ada", "StageKeys": [{"RestApiId": "abc", "StageName": "prod"}]}),
        "PlanKey": (USAGE_PLAN_KEY, {"KeyId": "key0000001", "KeyType": "API_KEY", "UsagePlanId": "plan01"}),
    }, {"Plan": "plan01", "Key": "key0000001", "PlanKey": "pk0001"}, problems)
    assert problems == []
    assert planned == [
        PlannedUsage("Key", API_KEY, "key0000001", {"enabled": True, "name": "ada",
                                                    "stageKeys": [{"restApiId": "abc", "stageName": "prod"}]}),
        PlannedUsage("Plan", USAGE_PLAN, "plan01", {"name": "partners", "apiStages": [{"apiId": "abc",
                                                                                        "stage": "prod"}],
                                                     "quota": {"limit": 100, "offset": 0, "period": "MONTH"},
                                                     "throttle": {"rateLimit": 5}}, ("key0000001",)),
    ]


def test_a_usage_plan_key_naming_no_plan_of_the_stack_is_a_problem() -> None:
    problems: list[str] = []
    plan_usage({"PlanKey": (USAGE_PLAN_KEY, {"KeyId": "k", "KeyType": "API_KEY", "UsagePlanId": "elsewhere"})},
               {"PlanKey": "pk0001"}, problems)
    assert problems == ["UsagePlanKey: UsagePlanId elsewhere is not a usage plan of this stack (Ref one)"]


def test_the_iris_partners_example_plans_a_key_and_a_plan_for_its_stage() -> None:
    import itertools
    from pathlib import Path

    from lambdalite.stacks.plan import build_plan

    template = Path(__file__).resolve().parents[3] / "examples" / "iris" / "partners" / "template.yaml"
    ids = (f"api{n:07d}" for n in itertools.count())
    planned = build_plan(template.read_text(), stack_name="iris-partners", parameters={}, region="us-east-1",
                         account="000000000000", code={"../app": "a" * 64}, includes={}, physical_ids={},
                         new_api_id=lambda: next(ids), test_events={})
    api_id = planned.apis[0].api_id
    key, plan = planned.usage
    assert (key.kind, key.body["enabled"]) == (API_KEY, True)
    assert plan.kind == USAGE_PLAN and plan.key_ids == (key.physical_id,)
    assert plan.body["apiStages"] == [{"apiId": api_id, "stage": "partners"}]
    assert (plan.body["quota"], plan.body["throttle"]) == ({"limit": 1000, "offset": 0, "period": "DAY"},
                                                           {"burstLimit": 10, "rateLimit": 5})
    assert planned.outputs["ApiKeyId"]["OutputValue"] == key.physical_id
    operation = planned.apis[0].definition["paths"]["/predict"]["post"]
    assert operation["security"] == [{"api_key": []}]
