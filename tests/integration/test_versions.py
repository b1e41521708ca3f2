"""Published versions and aliases through boto3 against the real server: publish, qualifiers in
every place AWS takes one, weighted aliases, deletion rules, per-qualifier policies, tags."""

from __future__ import annotations

import base64
import json
import os
import signal
import time

import pytest
import requests

from tests.conftest import boto_client, create_function, error_of, function_instances, unique, zip_of

MODEL = "def handler(event, context):\n    return {'model': '%s', 'version': context.function_version}\n"
ACCOUNT_ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def settle(lam, name: str) -> None:  # type: ignore[no-untyped-def]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})


def new_code(lam, name: str, model: str) -> None:  # type: ignore[no-untyped-def]
    lam.update_function_code(FunctionName=name, ZipFile=zip_of(MODEL % model))
    settle(lam, name)


def answer(lam, name: str, **kw) -> tuple[dict, str]:  # type: ignore[no-untyped-def]
    out = lam.invoke(FunctionName=name, **kw)
    return json.loads(out["Payload"].read()), out.get("ExecutedVersion", "")


@pytest.fixture
def two_versions(lam):  # type: ignore[no-untyped-def]
    name = unique("model")
    create_function(lam, name, MODEL % "champion")
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    new_code(lam, name, "challenger")
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    return name


def test_publish_snapshots_latest_and_numbers_are_never_reused(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("pub")
    created = create_function(lam, name, MODEL % "a")
    latest = lam.get_function_configuration(FunctionName=name)
    one = lam.publish_version(FunctionName=name, Description="first")
    assert one["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert one["Version"] == "1" and one["FunctionArn"] == f"{ACCOUNT_ARN}{name}:1"
    assert one["CodeSha256"] == created["CodeSha256"] and one["Description"] == "first"
    assert one["State"] == "Active" and one["RevisionId"] != latest["RevisionId"]
    again = lam.publish_version(FunctionName=name)   # nothing changed: the same version, no new one
    assert again["Version"] == "1" and again["RevisionId"] == one["RevisionId"]
    lam.update_function_configuration(FunctionName=name, Timeout=9)
    settle(lam, name)
    two = lam.publish_version(FunctionName=name)
    assert two["Version"] == "2" and two["Timeout"] == 9
    lam.delete_function(FunctionName=name, Qualifier="2")
    lam.update_function_configuration(FunctionName=name, Timeout=10)
    settle(lam, name)
    assert lam.publish_version(FunctionName=name)["Version"] == "3"   # 2 is gone but not reused
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "3"]
    assert versions[0]["FunctionArn"] == f"{ACCOUNT_ARN}{name}:$LATEST"
    assert [v["Timeout"] for v in versions] == [10, 3, 10]
    page = lam.list_versions_by_function(FunctionName=name, MaxItems=2)
    assert [v["Version"] for v in page["Versions"]] == ["$LATEST", "1"]
    rest = lam.list_versions_by_function(FunctionName=name, Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["3"] and "NextMarker" not in rest


def test_a_version_is_immutable_and_answers_by_its_qualifier(lam, two_versions) -> None:  # type: ignore[no-untyped-def]
    name = two_versions
    assert answer(lam, name, Qualifier="1") == ({"model": "champion", "version": "1"}, "1")
    assert answer(lam, f"{name}:2") == ({"model": "challenger", "version": "2"}, "2")
    assert answer(lam, name) == ({"model": "challenger", "version": "$LATEST"}, "$LATEST")
    new_code(lam, name, "third")   # $LATEST moves on; the versions do not
    assert answer(lam, name, Qualifier="1")[0]["model"] == "champion"
    assert answer(lam, name)[0]["model"] == "third"
    conf = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert conf["Version"] == "1" and conf["FunctionArn"] == f"{ACCOUNT_ARN}{name}:1"
    assert lam.get_function_configuration(FunctionName=f"{ACCOUNT_ARN}{name}:2")["Version"] == "2"
    code, status, message = error_of(lam.get_function, FunctionName=name, Qualifier="9")
    assert (code, status, message) == ("ResourceNotFoundException", 404, f"Function not found: {ACCOUNT_ARN}{name}:9")
    code, status, _ = error_of(lam.invoke, FunctionName=name, Qualifier="9")
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_publish_refuses_a_stale_code_sha_or_revision(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("stale")
    created = create_function(lam, name, MODEL % "a")
    code, status, message = error_of(lam.publish_version, FunctionName=name, CodeSha256="abc")
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message == (f"CodeSHA256 (abc) is different from current CodeSHA256 in $LATEST ({created['CodeSha256']}). "
                       "Please try again with the CodeSHA256 in $LATEST.")
    code, status, _ = error_of(lam.publish_version, FunctionName=name, RevisionId=created["RevisionId"])
    assert (code, status) == ("PreconditionFailedException", 412)   # the move to Active changed it
    assert lam.list_versions_by_function(FunctionName=name)["Versions"][1:] == []   # nothing published


def test_publish_on_create_and_on_update_code(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaVersions::test_publish_version_on_create "create_response"
    # (version 1 under the unqualified ARN, being created) and test_publish_with_update
    # "update_function_code_result" (the version's ARN, being created); neither has LastUpdateStatus.
    name = unique("autopub")
    out = create_function(lam, name, MODEL % "a", wait=False, Publish=True)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (out["Version"], out["FunctionArn"]) == ("1", f"{ACCOUNT_ARN}{name}")
    assert (out["State"], out["StateReason"], out["StateReasonCode"]) == (
        "Pending", "The function is being created.", "Creating")
    assert "LastUpdateStatus" not in out
    assert lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["State"] == "Active"
    out = lam.update_function_code(FunctionName=name, ZipFile=zip_of(MODEL % "b"), Publish=True)
    assert (out["Version"], out["FunctionArn"]) == ("2", f"{ACCOUNT_ARN}{name}:2")
    assert (out["State"], out["StateReasonCode"]) == ("Pending", "Creating") and "LastUpdateStatus" not in out
    assert answer(lam, name, Qualifier="2")[0]["model"] == "b"


def test_a_new_description_on_latest_is_a_new_version(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaVersions::test_version_lifecycle "second_publish_response"
    # (only $LATEST's Description changed: version 2, with that Description) and "third_publish_response"
    # (nothing changed, a Description given: version 2 again, as it was).
    name = unique("desc")
    create_function(lam, name, MODEL % "a", Description="No version :(")
    assert lam.publish_version(FunctionName=name, Description="First version description :)")["Version"] == "1"
    lam.update_function_configuration(FunctionName=name, Description="Second version :))")
    settle(lam, name)
    second = lam.publish_version(FunctionName=name)
    assert (second["Version"], second["Description"]) == ("2", "Second version :))")
    third = lam.publish_version(FunctionName=name, Description="Third version description :)))")
    assert (third["Version"], third["Description"], third["RevisionId"]) == (
        "2", "Second version :))", second["RevisionId"])


def test_deleting_versions(lam, two_versions) -> None:  # type: ignore[no-untyped-def]
    name = two_versions
    code, status, message = error_of(lam.delete_function, FunctionName=name, Qualifier="$LATEST")
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message == "$LATEST version cannot be deleted without deleting the function."
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    for version in ("1", "2"):
        code, status, message = error_of(lam.delete_function, FunctionName=name, Qualifier=version)
        assert (code, status) == ("ResourceConflictException", 409)
        assert message == "Unable to delete version because the following aliases reference it: [live]"
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {}})
    lam.delete_function(FunctionName=name, Qualifier="2")
    code, status, _ = error_of(lam.invoke, FunctionName=name, Qualifier="2")
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert answer(lam, name, Qualifier="live")[1] == "1"
    code, status, message = error_of(lam.delete_function, FunctionName=name, Qualifier="live")
    assert (code, status, message) == ("InvalidParameterValueException", 400,
                                       "Deletion of aliases is not currently supported.")
    lam.delete_function(FunctionName=name, Qualifier="2")   # already gone: as on AWS, not an error
    lam.delete_function(FunctionName=name)   # the whole function: versions and aliases with it
    code, status, _ = error_of(lam.get_alias, FunctionName=name, Name="live")
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_alias_lifecycle(lam, two_versions) -> None:  # type: ignore[no-untyped-def]
    name = two_versions
    made = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="prod")
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert made["AliasArn"] == f"{ACCOUNT_ARN}{name}:live"
    assert (made["Name"], made["FunctionVersion"], made["Description"]) == ("live", "1", "prod")
    assert "RoutingConfig" not in made
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["RevisionId"] == made["RevisionId"]
    updated = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert updated["FunctionVersion"] == "2" and updated["Description"] == "prod"
    assert updated["RevisionId"] != made["RevisionId"]
    code, status, _ = error_of(lam.update_alias, FunctionName=name, Name="live", FunctionVersion="1",
                               RevisionId=made["RevisionId"])
    assert (code, status) == ("PreconditionFailedException", 412)
    assert answer(lam, name, Qualifier="live") == ({"model": "challenger", "version": "2"}, "2")
    conf = lam.get_function_configuration(FunctionName=name, Qualifier="live")
    assert conf["Version"] == "2" and conf["FunctionArn"] == f"{ACCOUNT_ARN}{name}:live"
    lam.create_alias(FunctionName=name, Name="dev", FunctionVersion="$LATEST")
    lam.create_alias(FunctionName=name, Name="old", FunctionVersion="1")
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["dev", "live", "old"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]] == ["old"]
    page = lam.list_aliases(FunctionName=name, MaxItems=2)
    rest = lam.list_aliases(FunctionName=name, Marker=page["NextMarker"])
    assert [a["Name"] for a in page["Aliases"] + rest["Aliases"]] == ["dev", "live", "old"]
    out = lam.delete_alias(FunctionName=name, Name="old")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    code, status, message = error_of(lam.get_alias, FunctionName=name, Name="old")
    assert (code, status, message) == ("ResourceNotFoundException", 404,
                                       f"Cannot find alias arn: {ACCOUNT_ARN}{name}:old")
    code, status, _ = error_of(lam.invoke, FunctionName=name, Qualifier="old")
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_a_weighted_alias_splits_invocations(lam, two_versions) -> None:  # type: ignore[no-untyped-def]
    name = two_versions
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    ran = [answer(lam, name, Qualifier="live") for _ in range(300)]
    assert all(body["version"] == executed for body, executed in ran)   # the header tells which ran
    share = sum(1 for _, v in ran if v == "2") / len(ran)
    assert 0.3 - 0.1 < share < 0.3 + 0.1   # a 99.9% binomial bound is +-0.087 at n=300
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.3}}


@pytest.mark.parametrize(("alias", "code", "status", "text"), [
    ({"Name": "2024", "FunctionVersion": "1"}, "ValidationException", 400,
     "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy "
     "regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"),
    ({"Name": "x", "FunctionVersion": "7"}, "ResourceNotFoundException", 404, "Function not found: "),
    ({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 2}}},
     "ValidationException", 400,
     "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy "
     "constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member "
     "must have value greater than or equal to 0.0, Member must not be null]"),
    ({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": -1}}},
     "ValidationException", 400, "Value '{2=-1.0}' at 'routingConfig.additionalVersionWeights'"),
    ({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}}},
     "InvalidParameterValueException", 400, "Number of items in AdditionalVersionWeights cannot be greater than 1"),
    ({"Name": "x", "FunctionVersion": "$LATEST", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}}},
     "InvalidParameterValueException", 400, "$LATEST is not supported for an alias pointing to more than 1 version"),
    ({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.1}}},
     "InvalidParameterValueException", 400,
     "Invalid function version 1. Function version 1 is already included in routing configuration."),
    ({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"$LATEST": 0.5}}},
     "ValidationException", 400,
     "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to "
     "satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
     "Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]"),
    ({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"9": 0.1}}},
     "ResourceNotFoundException", 404, "Function not found: "),
])
def test_bad_aliases_are_refused_and_change_nothing(server, lam, two_versions, alias, code, status, text) -> None:  # type: ignore[no-untyped-def]
    name = two_versions
    unchecked = boto_client(server.base, parameter_validation=False)   # what the SDK would refuse itself
    got = error_of(unchecked.create_alias, FunctionName=name, **alias)
    assert got[:2] == (code, status) and text in got[2], got
    assert lam.list_aliases(FunctionName=name)["Aliases"] == []


def test_a_duplicate_alias_is_a_conflict_and_a_missing_one_cannot_be_updated(lam, two_versions) -> None:  # type: ignore[no-untyped-def]
    name = two_versions
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    code, status, message = error_of(lam.create_alias, FunctionName=name, Name="live", FunctionVersion="2")
    assert (code, status, message) == ("ResourceConflictException", 409,
                                       f"Alias already exists: {ACCOUNT_ARN}{name}:live")
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    code, status, message = error_of(lam.update_alias, FunctionName=name, Name="nope", FunctionVersion="1")
    assert (code, status, message) == ("ResourceNotFoundException", 404, f"Alias not found: {ACCOUNT_ARN}{name}:nope")
    code, status, _ = error_of(lam.update_alias, FunctionName=name, Name="live",
                               RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "RoutingConfig" not in lam.get_alias(FunctionName=name, Name="live")


def test_an_alias_of_a_missing_function_names_the_version(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaAlias::test_notfound_and_invalid_routingconfigs
    # "routing_config_exc_fn_doesnotexist": the function's ARN with the alias's target version.
    name = unique("nofn")
    assert error_of(lam.create_alias, FunctionName=name, Name="custom", FunctionVersion="1",
                    RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}}) == (
        "ResourceNotFoundException", 404, f"Function not found: {ACCOUNT_ARN}{name}:1")


def test_permissions_on_a_missing_alias_and_a_first_one_on_an_alias(lam, two_versions) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaPermissions::test_permission_exceptions
    # "add_permission_fn_alias_doesnotexist", "remove_permission_fn_alias_doesnotexist" (an alias name is
    # named as an alias), "add_permission_fn_qualifier_valid_doesnotexist" (not an alias name: a function);
    # test_lambda_permission_fn_versioning "add_permission_alias_revision_exception" and the add that follows
    # it (a first statement on an alias takes the alias's RevisionId).
    name = two_versions
    grant = {"Action": "lambda:InvokeFunction", "StatementId": "s3", "Principal": "s3.amazonaws.com"}
    missing = ("ResourceNotFoundException", 404, f"Cannot find alias arn: {ACCOUNT_ARN}{name}:alias-doesnotexist")
    assert error_of(lam.add_permission, FunctionName=f"{name}:alias-doesnotexist", **grant) == missing
    assert error_of(lam.remove_permission, FunctionName=name, StatementId="s3",
                    Qualifier="alias-doesnotexist") == missing
    assert error_of(lam.add_permission, FunctionName=name, Qualifier="valid-with-$-but-doesnotexist", **grant) == (
        "ResourceNotFoundException", 404, f"Function not found: {ACCOUNT_ARN}{name}:valid-with-$-but-doesnotexist")
    alias = lam.create_alias(FunctionName=name, Name="permission-alias", FunctionVersion="1")
    assert error_of(lam.add_permission, FunctionName=name, Qualifier="permission-alias", RevisionId="wrong",
                    **grant) == (
        "PreconditionFailedException", 412, "The Revision Id provided does not match the latest Revision Id. "
        "Call the GetPolicy API to retrieve the latest Revision Id")
    lam.add_permission(FunctionName=f"{name}:permission-alias", Qualifier="permission-alias",
                       RevisionId=alias["RevisionId"], **grant)
    policy = lam.get_policy(FunctionName=name, Qualifier="permission-alias")
    assert policy["RevisionId"] != alias["RevisionId"]
    assert json.loads(policy["Policy"])["Statement"][0]["Resource"] == f"{ACCOUNT_ARN}{name}:permission-alias"


def test_permissions_are_kept_per_qualifier(lam, two_versions) -> None:  # type: ignore[no-untyped-def]
    name = two_versions
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    for qualifier in ("live", "1", None):
        extra = {"Qualifier": qualifier} if qualifier else {}
        lam.add_permission(FunctionName=name, StatementId="gw", Action="lambda:InvokeFunction",
                           Principal="apigateway.amazonaws.com", **extra)   # the same Sid, three policies
    policy = json.loads(lam.get_policy(FunctionName=name, Qualifier="live")["Policy"])
    assert [s["Resource"] for s in policy["Statement"]] == [f"{ACCOUNT_ARN}{name}:live"]
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert [s["Resource"] for s in policy["Statement"]] == [f"{ACCOUNT_ARN}{name}"]
    lam.delete_alias(FunctionName=name, Name="live")
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    code, status, _ = error_of(lam.get_policy, FunctionName=name, Qualifier="live")
    assert (code, status) == ("ResourceNotFoundException", 404)   # its policy went with the old alias


def test_tags(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("tags")
    create_function(lam, name, MODEL % "a", Tags={"team": "ml"})
    arn = f"{ACCOUNT_ARN}{name}"
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "ml"}
    before = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    lam.tag_resource(Resource=arn, Tags={"stage": "prod", "team": "ds"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "ds", "stage": "prod"}
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] != before   # as AWS: a change
    assert lam.get_function(FunctionName=name)["Tags"] == {"team": "ds", "stage": "prod"}
    lam.untag_resource(Resource=arn, TagKeys=["team", "absent"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"stage": "prod"}
    code, status, _ = error_of(lam.list_tags, Resource=f"{ACCOUNT_ARN}nope-{name}")
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, status, message = error_of(lam.tag_resource, Resource=f"{arn}:1", Tags={"a": "b"})
    assert (code, status, message) == ("InvalidParameterValueException", 400, "Tags on function aliases and "
                                       "versions are not supported. Please specify a function ARN.")
    code, status, message = error_of(lam.tag_resource, Resource=arn, Tags={f"k{i}": "v" for i in range(50)})
    assert (code, status, message) == ("InvalidParameterValueException", 400, "Number of tags exceeds resource tag "
                                       "limit.")
    assert lam.list_tags(Resource=arn)["Tags"] == {"stage": "prod"}


PROVISIONED = """
import os
BOOTED = os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]
def handler(event, context):
    return {"type": BOOTED, "pid": os.getpid()}
"""


def wait_ready(lam, name: str, qualifier: str) -> dict:  # type: ignore[no-untyped-def]
    for _ in range(300):
        got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if got["Status"] != "IN_PROGRESS":
            return got
        time.sleep(0.1)
    raise AssertionError(f"provisioned concurrency on {name}:{qualifier} stayed IN_PROGRESS")


def test_provisioned_instances_are_ready_before_the_first_call(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("prov")
    create_function(lam, name, PROVISIONED)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    put = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=2)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202 and put["Status"] == "IN_PROGRESS"
    assert put["RequestedProvisionedConcurrentExecutions"] == 2 and put["AllocatedProvisionedConcurrentExecutions"] == 0
    got = wait_ready(lam, name, "live")
    assert got["Status"] == "READY" and got["AvailableProvisionedConcurrentExecutions"] == 2
    ready = function_instances(server.base, name)
    assert len(ready) == 2                                   # started before any call
    out = lam.invoke(FunctionName=name, Qualifier="live", LogType="Tail")
    body = json.loads(out["Payload"].read())
    assert body["type"] == "provisioned-concurrency" and body["pid"] in ready
    tail = base64.b64decode(out["LogResult"]).decode()
    assert "Init Duration" not in tail                       # its first answer had no init
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{ACCOUNT_ARN}{name}:live"]
    assert answer(lam, name)[0]["type"] == "on-demand"       # $LATEST is another version's pool
    out = lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    code, status, message = error_of(lam.get_provisioned_concurrency_config, FunctionName=name, Qualifier="live")
    assert (code, status, message) == ("ProvisionedConcurrencyConfigNotFoundException", 404,
                                       "No Provisioned Concurrency Config found for this function")
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")   # idempotent, as on AWS


def test_a_provisioned_instance_that_dies_is_replaced(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("provdie")
    create_function(lam, name, PROVISIONED)
    lam.publish_version(FunctionName=name)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
    assert wait_ready(lam, name, "1")["Status"] == "READY"
    [first] = function_instances(server.base, name)
    os.kill(first, signal.SIGKILL)
    for _ in range(100):
        now = function_instances(server.base, name)
        if now and first not in now:
            break
        time.sleep(0.1)
    assert len(now) == 1 and first not in now


def test_provisioned_concurrency_that_fails_its_init_is_failed(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("provfail")
    create_function(lam, name, "import os\nif os.environ['AWS_LAMBDA_INITIALIZATION_TYPE'] != 'on-demand':\n"
                               "    raise RuntimeError('no model here')\ndef handler(e, c):\n    return 1\n")
    lam.publish_version(FunctionName=name)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
    got = wait_ready(lam, name, "1")
    assert got["Status"] == "FAILED" and "no model here" in got["StatusReason"]


def test_bad_provisioned_concurrency_is_refused(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("provbad")
    create_function(lam, name, PROVISIONED)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    cases = [
        (dict(Qualifier="$LATEST", ProvisionedConcurrentExecutions=1), ("InvalidParameterValueException", 400,
         "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")),
        (dict(Qualifier="9", ProvisionedConcurrentExecutions=1), ("ResourceNotFoundException", 404,
         f"Function not found: {ACCOUNT_ARN}{name}:9")),
        (dict(Qualifier="noalias", ProvisionedConcurrentExecutions=1), ("ResourceNotFoundException", 404,
         f"Cannot find alias arn: {ACCOUNT_ARN}{name}:noalias")),
        (dict(Qualifier="1", ProvisionedConcurrentExecutions=0), ("ValidationException", 400,
         "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy "
         "constraint: Member must have value greater than or equal to 1")),
    ]
    unchecked = boto_client(server.base, parameter_validation=False)
    for args, expected in cases:
        assert error_of(unchecked.put_provisioned_concurrency_config, FunctionName=name, **args) == expected, args
    code, status, message = error_of(lam.get_provisioned_concurrency_config, FunctionName=name, Qualifier="$LATEST")
    assert (code, status, message) == ("InvalidParameterValueException", 400,
                                       "The function resource provided must be an alias or a published version.")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    code, status, message = error_of(lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="1",
                                     ProvisionedConcurrentExecutions=2)
    assert (code, status, message) == ("InvalidParameterValueException", 400, "Requested Provisioned Concurrency "
                                       "should not be greater than the reservedConcurrentExecution for function")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=2)
    code, status, message = error_of(lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="1",
                                     ProvisionedConcurrentExecutions=1)
    assert (code, status, message) == ("ResourceConflictException", 409,
                                       "Version is pointed by a Provisioned Concurrency alias")
    code, status, message = error_of(lam.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=1)
    assert (code, status, message) == ("InvalidParameterValueException", 400, " ReservedConcurrentExecutions  1 "
                                       "should not be lower than function's total provisioned concurrency [2].")
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{ACCOUNT_ARN}{name}:live"]   # nothing else was kept
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5


SHADOWED = """
import time
def handler(event, context):
    x = event["x"]
    if %(fails)s:
        raise ValueError("challenger broke")
    if %(hangs)s:
        time.sleep(5)
    return x * 2 if x < %(right_below)d else x * 3
"""


def traffic(server, name: str, alias: str = "live") -> dict:  # type: ignore[no-untyped-def]
    r = requests.get(f"{server.base}/_lambdalite/traffic", params={"function": name, "alias": alias}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def shadow_settled(server, name: str, done: int) -> dict:  # type: ignore[no-untyped-def]
    """The traffic view once `done` shadow calls have been dealt with (run, dropped or missing)."""
    deadline = time.monotonic() + 30
    while True:
        view = traffic(server, name)
        shadow = view["shadow"] or {}
        if shadow and shadow["ran"] + shadow["dropped"] + shadow["shadowMissing"] >= done:
            return view
        assert time.monotonic() < deadline, view
        time.sleep(0.05)


def publish_model(lam, name: str, **kw) -> str:  # type: ignore[no-untyped-def]
    params = {"fails": "False", "hangs": "False", "right_below": 100, **kw}
    lam.update_function_code(FunctionName=name, ZipFile=zip_of(SHADOWED % params))
    settle(lam, name)
    return lam.publish_version(FunctionName=name)["Version"]


def test_shadow_traffic_is_compared_and_never_changes_the_callers_answer(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("shadow")
    create_function(lam, name, SHADOWED % {"fails": "False", "hangs": "False", "right_below": 100}, Timeout=1)
    champion = lam.publish_version(FunctionName=name)["Version"]
    challenger = publish_model(lam, name, right_below=5)   # wrong from x = 5 on
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=champion)
    set_shadow = requests.put(f"{server.base}/_lambdalite/functions/{name}/aliases/live/shadow",
                              json={"Version": challenger}, timeout=10)
    assert set_shadow.status_code == 200 and set_shadow.json()["ShadowVersion"] == challenger
    for x in range(10):
        out = lam.invoke(FunctionName=name, Qualifier="live", Payload=json.dumps({"x": x}))
        assert json.loads(out["Payload"].read()) == x * 2 and out["ExecutedVersion"] == champion
    view = shadow_settled(server, name, 10)
    assert view["versions"][champion]["invocations"] == 10 and view["versions"][champion]["errors"] == 0
    assert set(view["versions"]) == {champion}                       # the shadow's runs are not the alias's
    shadow = view["shadow"]
    assert (shadow["version"], shadow["ran"], shadow["equal"], shadow["different"]) == (challenger, 10, 5, 5)
    assert shadow["agreement"] == 0.5 and shadow["shadowP50Ms"] is not None
    sample = shadow["samples"][0]
    assert sample["verdict"] == "different" and json.loads(sample["request"]) == {"x": 5}
    assert (sample["primary"], sample["shadow"]) == ("10", "15")

    lam.update_alias(FunctionName=name, Name="live", FunctionVersion=champion)   # an update keeps the shadow
    broken = publish_model(lam, name, fails="True")
    requests.put(f"{server.base}/_lambdalite/functions/{name}/aliases/live/shadow", json={"Version": broken},
                 timeout=10)
    out = lam.invoke(FunctionName=name, Qualifier="live", Payload=json.dumps({"x": 1}))
    assert "FunctionError" not in out and json.loads(out["Payload"].read()) == 2
    assert shadow_settled(server, name, 1)["shadow"]["shadowErrors"] == 1

    hangs = publish_model(lam, name, hangs="True")
    requests.put(f"{server.base}/_lambdalite/functions/{name}/aliases/live/shadow", json={"Version": hangs},
                 timeout=10)
    started = time.monotonic()
    out = lam.invoke(FunctionName=name, Qualifier="live", Payload=json.dumps({"x": 1}))
    assert json.loads(out["Payload"].read()) == 2 and time.monotonic() - started < 0.9   # not waiting for it
    assert shadow_settled(server, name, 1)["shadow"]["shadowTimeouts"] == 1

    lam.delete_function(FunctionName=name, Qualifier=hangs)   # a shadow may go: it is only counted
    out = lam.invoke(FunctionName=name, Qualifier="live", Payload=json.dumps({"x": 1}))
    assert json.loads(out["Payload"].read()) == 2
    assert shadow_settled(server, name, 1)["shadow"]["shadowMissing"] == 1
    gone = requests.delete(f"{server.base}/_lambdalite/functions/{name}/aliases/live/shadow", timeout=10)
    assert gone.json()["ShadowVersion"] is None


def test_bad_shadows_are_refused(server, lam, two_versions) -> None:  # type: ignore[no-untyped-def]
    name = two_versions
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    url = f"{server.base}/_lambdalite/functions/{name}/aliases/live/shadow"
    for body, status, fragment in (({"Version": "1"}, 400, "already serves alias live"),
                                   ({"Version": "2"}, 400, "already serves alias live"),
                                   ({"Version": "9"}, 404, "Function not found"),
                                   ({"Version": "x"}, 400, "version number"),
                                   ({}, 400, '{"Version": "2"}')):
        r = requests.put(url, json=body, timeout=10)
        assert r.status_code == status and fragment in r.json()["message" if status == 400 else "Message"], r.text
    r = requests.put(f"{server.base}/_lambdalite/functions/{name}/aliases/nope/shadow", json={"Version": "2"},
                     timeout=10)
    assert r.status_code == 404 and "Alias not found" in r.text
    assert traffic(server, name)["shadowVersion"] is None


def test_the_cli_shows_champion_and_challenger_side_by_side(server, lam, two_versions) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_cli import cli
    name = two_versions
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    done = cli(server, "alias", name, "live", "--version", "1", "--shadow", "2")
    assert done.returncode == 0 and "shadowed by version 2" in done.stderr, done.stderr
    for _ in range(4):
        lam.invoke(FunctionName=name, Qualifier="live")
    shadow_settled(server, name, 4)
    done = cli(server, "traffic", name, "live")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{name}:live -> version 1; 4 calls counted"
    assert lines[1].split() == ["VERSION", "CALLS", "SHARE", "ERRORS", "P50", "MS", "P99", "MS"]
    assert lines[2].split()[:4] == ["1", "4", "100.0%", "0"]
    assert lines[3].startswith("shadow: version 2: 4 run of 4 (0 dropped under load), agreement 0.0%")
    assert "  different: {} -> " in done.stdout                        # champion vs challenger answers
    assert cli(server, "alias", name, "live", "--version", "1", "--no-shadow").returncode == 0
    assert traffic(server, name)["shadowVersion"] is None


PROXY_MODEL = ("def handler(event, context):\n"
               "    return {'statusCode': 200, 'body': '%s ' + context.function_version + ' ' + "
               "context.invoked_function_arn.rsplit(':', 1)[1]}\n")


def test_stage_variables_send_each_stage_to_its_alias(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("staged")
    create_function(lam, name, PROXY_MODEL % "champion")
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=zip_of(PROXY_MODEL % "challenger"))
    settle(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.create_alias(FunctionName=name, Name="dev", FunctionVersion="2")
    gw = boto_client(server.base, "apigateway")
    api = gw.create_rest_api(name=name)["id"]
    root = next(r["id"] for r in gw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    res = gw.create_resource(restApiId=api, parentId=root, pathPart="predict")["id"]
    gw.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE")
    uri = (f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{ACCOUNT_ARN}{name}:"
           "${stageVariables.alias}/invocations")
    gw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="AWS_PROXY",
                       integrationHttpMethod="POST", uri=uri)
    deployment = gw.create_deployment(restApiId=api, stageName="PRD", variables={"alias": "live"})["id"]
    gw.create_stage(restApiId=api, stageName="DEV", deploymentId=deployment, variables={"alias": "dev"})
    for alias in ("live", "dev"):   # each alias a stage may pick lets the API in (the permission is the alias's)
        lam.add_permission(FunctionName=name, Qualifier=alias, StatementId="apigateway",
                           Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                           SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api}/*/GET/predict")

    def get(stage: str) -> str:
        return requests.get(f"{server.base}/restapis/{api}/{stage}/_user_request_/predict", timeout=30).text

    assert get("PRD") == "champion 1 live" and get("DEV") == "challenger 2 dev"
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")    # promote: the stage follows
    assert get("PRD") == "challenger 2 live"
    gw.update_stage(restApiId=api, stageName="DEV", patchOperations=[
        {"op": "replace", "path": "/variables/alias", "value": "nope"}])
    r = requests.get(f"{server.base}/restapis/{api}/DEV/_user_request_/predict", timeout=30)
    assert r.status_code == 500                                         # no such alias: API Gateway's 500
