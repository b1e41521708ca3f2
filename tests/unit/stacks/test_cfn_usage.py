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
