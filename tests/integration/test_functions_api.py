"""The Lambda control plane through boto3 against the real server: shapes, states, paging, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from tests.conftest import ROLE, boto_client, create_function, error_of, unique, zip_of

HELLO = "def handler(event, context):\n    return {'hello': event.get('name', 'world')}\n"
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


def test_create_answers_pending_then_active_with_aws_fields(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("shape")
    code = zip_of(HELLO)
    out = create_function(lam, name, HELLO, wait=False, Description="d", Timeout=7, MemorySize=256)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert out["State"] == "Pending" and out["StateReasonCode"] == "Creating"
    assert out["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert out["CodeSize"] == len(code)
    assert DATE.match(out["LastModified"])
    assert out["Architectures"] == ["x86_64"] and out["EphemeralStorage"] == {"Size": 512}
    assert out["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert out["Version"] == "$LATEST" and out["PackageType"] == "Zip"
    assert (out["Timeout"], out["MemorySize"], out["Description"]) == (7, 256, "d")
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    got = lam.get_function(FunctionName=name)
    conf = got["Configuration"]
    assert conf["State"] == "Active" and conf["LastUpdateStatus"] == "Successful"
    assert "StateReason" not in conf
    assert conf["RevisionId"] != out["RevisionId"]  # the transition to Active is a change
    assert got["Code"]["RepositoryType"] == "S3"
    assert requests.get(got["Code"]["Location"], timeout=10).content == code
    same = lam.get_function_configuration(FunctionName=name)
    assert same["RevisionId"] == conf["RevisionId"]


def test_function_arn_forms_and_region_conflicts(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("arn")
    create_function(lam, name, HELLO)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    for ref in (name, arn, f"000000000000:function:{name}", f"{arn}:$LATEST"):
        assert lam.get_function_configuration(FunctionName=ref)["FunctionName"] == name
    code, status, message = error_of(lam.get_function, FunctionName=arn.replace("us-east-1", "eu-west-1"))
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message == "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
    code, status, message = error_of(lam.invoke, FunctionName=f"{name}:$LATEST", Qualifier="1")
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message == "The derived qualifier from the function name does not match the specified qualifier."


def test_unknown_function_everywhere_is_404_with_the_full_arn(lam) -> None:  # type: ignore[no-untyped-def]
    arn = "arn:aws:lambda:us-east-1:000000000000:function:no-such-fn"
    for call in (lam.get_function, lam.get_function_configuration, lam.delete_function):
        code, status, message = error_of(call, FunctionName="no-such-fn")
        assert (code, status, message) == ("ResourceNotFoundException", 404, f"Function not found: {arn}")
    code, status, message = error_of(lam.invoke, FunctionName="no-such-fn", Qualifier="live")
    assert (code, status, message) == ("ResourceNotFoundException", 404, f"Function not found: {arn}:live")
    # Invoke names the version it looked for (AWS-recorded, LocalStack's test_lambda_api snapshots)
    code, status, message = error_of(lam.invoke, FunctionName="no-such-fn")
    assert (code, status, message) == ("ResourceNotFoundException", 404, f"Function not found: {arn}:$LATEST")


NAME_PATTERN = ("(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
                "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?")
QUALIFIER_PATTERN = "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def constraint(value: str, field: str, rule: str) -> str:
    return f"Value '{value}' at '{field}' failed to satisfy constraint: Member must {rule}"


@pytest.mark.parametrize(("call", "args", "code", "parts"), [   # AWS-recorded answers (LocalStack's snapshots)
    ("invoke", {"FunctionName": "my-function!"}, "ValidationException",
     [constraint("my-function!", "functionName", f"satisfy regular expression pattern: {NAME_PATTERN}")]),
    ("delete_function", {"FunctionName": "my-function", "Qualifier": "invalid!"}, "ValidationException",
     [constraint("invalid!", "qualifier", f"satisfy regular expression pattern: {QUALIFIER_PATTERN}")]),
    ("get_function", {"FunctionName": "my-function", "Qualifier": "a" * 129}, "ValidationException",
     [constraint("a" * 129, "qualifier", "have length less than or equal to 128")]),
    ("invoke", {"FunctionName": f"arn:aws:lambda:invalid-region:000000000000:function:my-function-{'a' * 170}",
                "Qualifier": "a" * 129}, "ValidationException",
     [constraint("a" * 129, "qualifier", "have length less than or equal to 128"),
      constraint(f"arn:aws:lambda:invalid-region:000000000000:function:my-function-{'a' * 170}", "functionName",
                 f"satisfy regular expression pattern: {NAME_PATTERN}")]),
    ("invoke", {"FunctionName": f"{ARN}my-function:$LATEST", "Qualifier": "1"}, "InvalidParameterValueException",
     ["The derived qualifier from the function name does not match the specified qualifier."]),
    ("delete_function", {"FunctionName": "my-function", "Qualifier": "a" * 65}, "InvalidParameterValueException",
     ["Deletion of aliases is not currently supported."]),
    ("delete_function", {"FunctionName": f"{ARN}my-function", "Qualifier": "$latest"}, "ResourceNotFoundException",
     [f"Function not found: {ARN}my-function"]),
    ("invoke", {"FunctionName": f"{ARN}my-function", "Qualifier": "$latest"}, "ResourceNotFoundException",
     [f"Function not found: {ARN}my-function:$latest"]),
    ("invoke", {"FunctionName": f"{ARN}my-function:$LATES"}, "ValidationException",
     [constraint(f"{ARN}my-function:$LATES", "functionName", f"satisfy regular expression pattern: {NAME_PATTERN}")]),
    ("delete_function", {"FunctionName": "a" * 65}, "ResourceNotFoundException",
     [f"Function not found: {ARN}{'a' * 65}"]),
])
def test_names_and_qualifiers_are_refused_as_aws_refuses_them(lam, call: str, args: dict[str, str], code: str,  # type: ignore[no-untyped-def]
                                                              parts: list[str]) -> None:
    got_code, _, message = error_of(getattr(lam, call), **args)
    assert got_code == code
    if len(parts) == 1 and not parts[0].startswith("Value "):
        assert message == parts[0]
    else:
        found = sorted(re.findall(r"(Value '.*?' at '.*?' failed to satisfy constraint: .+?(?=;|$))", message))
        assert found == sorted(parts)
        assert message.startswith(f"{len(parts)} validation error{'s' if len(parts) > 1 else ''} detected: ")


def test_error_shape_on_the_wire(server) -> None:  # type: ignore[no-untyped-def]
    r = requests.get(server.base + "/2015-03-31/functions/no-such-fn", timeout=10)
    assert r.status_code == 404
    assert r.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert re.fullmatch(r"[0-9a-f-]{36}", r.headers["x-amzn-RequestId"])
    assert r.json() == {"Type": "User", "Message": "Function not found: "
                        "arn:aws:lambda:us-east-1:000000000000:function:no-such-fn"}


def test_list_functions_pages_with_marker(lam) -> None:  # type: ignore[no-untyped-def]
    prefix = unique("page")
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        create_function(lam, n, HELLO, wait=False)
    seen: list[str] = []
    marker = None
    pages = 0
    while True:
        kwargs = {"MaxItems": 2, **({"Marker": marker} if marker else {})}
        page = lam.list_functions(**kwargs)
        pages += 1
        assert len(page["Functions"]) <= 2
        for f in page["Functions"]:
            assert "State" not in f and "LastUpdateStatus" not in f and "RuntimeVersionConfig" not in f
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert pages >= 3
    assert [n for n in seen if n.startswith(prefix)] == names
    paginated = [f["FunctionName"] for p in lam.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 3}) for f in p["Functions"]]
    assert paginated == seen


def test_list_functions_every_version(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaFunction::test_list_functions
    # "list_functions_invalid_functionversion", "list_all" (FunctionVersion=ALL: $LATEST's ARN is qualified,
    # published versions listed too) and "list_default" (unqualified ARNs, no versions).
    assert error_of(lam.list_functions, FunctionVersion="invalid") == (
        "ValidationException", 400, "1 validation error detected: Value 'invalid' at 'functionVersion' failed to "
        "satisfy constraint: Member must satisfy enum value set: [ALL]")
    prefix = unique("allv")
    first, second = f"{prefix}-1", f"{prefix}-2"
    create_function(lam, first, HELLO)
    lam.publish_version(FunctionName=first)
    create_function(lam, second, HELLO)
    arn = "arn:aws:lambda:us-east-1:000000000000:function:"
    pages = lam.get_paginator("list_functions").paginate(FunctionVersion="ALL", PaginationConfig={"PageSize": 1})
    listed = [(f["FunctionArn"], f["Version"]) for p in pages for f in p["Functions"]
              if f["FunctionName"].startswith(prefix)]
    assert listed == [(f"{arn}{first}:$LATEST", "$LATEST"), (f"{arn}{first}:1", "1"),
                      (f"{arn}{second}:$LATEST", "$LATEST")]
    pages = lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1})
    listed = [(f["FunctionArn"], f["Version"]) for p in pages for f in p["Functions"]
              if f["FunctionName"].startswith(prefix)]
    assert listed == [(f"{arn}{first}", "$LATEST"), (f"{arn}{second}", "$LATEST")]


def test_update_configuration_and_code_go_in_progress_then_successful(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("upd")
    create_function(lam, name, HELLO)
    out = lam.update_function_configuration(FunctionName=name, Timeout=9, Environment={"Variables": {"AA": "1"}})
    assert out["LastUpdateStatus"] == "InProgress" and out["LastUpdateStatusReasonCode"] == "Creating"
    assert out["Timeout"] == 9 and out["Environment"] == {"Variables": {"AA": "1"}}
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    new_code = "def handler(event, context):\n    return 'v2'\n"
    out = lam.update_function_code(FunctionName=name, ZipFile=zip_of(new_code))
    assert out["LastUpdateStatus"] == "InProgress"
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(zip_of(new_code)).digest()).decode()
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "v2"
    conf = lam.get_function_configuration(FunctionName=name)
    assert conf["Timeout"] == 9 and conf["LastUpdateStatus"] == "Successful"


def test_stale_revision_id_is_412_and_changes_nothing(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("rev")
    create_function(lam, name, HELLO)
    before = lam.get_function_configuration(FunctionName=name)
    code, status, message = error_of(lam.update_function_configuration, FunctionName=name, Timeout=20,
                                     RevisionId=str(uuid.uuid4()))
    assert (code, status) == ("PreconditionFailedException", 412)
    assert message == ("The Revision Id provided does not match the latest Revision Id. Call the "
                       "GetFunction/GetAlias API to retrieve the latest Revision Id")
    code, status, _ = error_of(lam.update_function_code, FunctionName=name, ZipFile=zip_of("x = 1"),
                               RevisionId=str(uuid.uuid4()))
    assert (code, status) == ("PreconditionFailedException", 412)
    after = lam.get_function_configuration(FunctionName=name)
    assert after == {**after, "RevisionId": before["RevisionId"], "Timeout": before["Timeout"],
                     "CodeSha256": before["CodeSha256"]}
    ok = lam.update_function_configuration(FunctionName=name, Timeout=20, RevisionId=before["RevisionId"])
    assert ok["Timeout"] == 20


def test_delete_latest_refused_before_the_function_is_looked_for(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[delete_function]
    # "match_exception": $LATEST in the ARN and as Qualifier, no such function: still the $LATEST text.
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{unique('nofn')}:$LATEST"
    assert error_of(lam.delete_function, FunctionName=arn, Qualifier="$LATEST") == (
        "InvalidParameterValueException", 400, "$LATEST version cannot be deleted without deleting the function.")


def test_delete_then_gone_and_latest_qualifier_refused(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("del")
    create_function(lam, name, HELLO)
    code, status, message = error_of(lam.delete_function, FunctionName=name, Qualifier="$LATEST")
    assert (code, status, message) == ("InvalidParameterValueException", 400,
                                       "$LATEST version cannot be deleted without deleting the function.")
    out = lam.delete_function(FunctionName=name)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    code, status, _ = error_of(lam.get_function, FunctionName=name)
    assert (code, status) == ("ResourceNotFoundException", 404)
    create_function(lam, name, HELLO)  # the name is free again


def test_permissions_are_stored_and_returned(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("perm")
    arn = create_function(lam, name, HELLO)["FunctionArn"]
    code, status, message = error_of(lam.get_policy, FunctionName=name)
    assert (code, status, message) == ("ResourceNotFoundException", 404, "The resource you requested does not exist.")
    source = "arn:aws:execute-api:us-east-1:000000000000:abc123/*/GET/addfive"
    out = lam.add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                             Principal="apigateway.amazonaws.com", SourceArn=source)
    statement = json.loads(out["Statement"])
    assert statement == {"Sid": "apigw", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                         "Action": "lambda:InvokeFunction", "Resource": arn,
                         "Condition": {"ArnLike": {"AWS:SourceArn": source}}}
    code, status, message = error_of(lam.add_permission, FunctionName=name, StatementId="apigw",
                                     Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    assert (code, status) == ("ResourceConflictException", 409)
    assert message.startswith("The statement id (apigw) provided already exists.")
    policy = lam.get_policy(FunctionName=name)
    assert json.loads(policy["Policy"]) == {"Version": "2012-10-17", "Id": "default", "Statement": [statement]}
    code, status, message = error_of(lam.remove_permission, FunctionName=name, StatementId="nope")
    assert (code, status, message) == ("ResourceNotFoundException", 404,
                                       "Statement nope is not found in resource policy.")
    lam.remove_permission(FunctionName=name, StatementId="apigw")
    code, status, _ = error_of(lam.get_policy, FunctionName=name)
    assert status == 404
    code, status, message = error_of(lam.add_permission, FunctionName=name, StatementId="bad.id",
                                     Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    assert (code, status) == ("ValidationException", 400)


def test_permission_statement_conditions_in_aws_order(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaPermissions::test_add_lambda_permission_fields
    # "add_permission_optional_fields" (StringEquals before ArnLike, in this order) and
    # "add_permission_alexa_skill" (EventSourceToken is a condition).
    name = unique("cond")
    arn = create_function(lam, name, HELLO)["FunctionArn"]
    out = lam.add_permission(FunctionName=name, StatementId="urlPermission", Action="lambda:InvokeFunctionUrl",
                             Principal="*", SourceArn="arn:aws:s3:::test-bucket", SourceAccount="000000000000",
                             PrincipalOrgID="o-1234567890", FunctionUrlAuthType="NONE")
    assert out["Statement"] == json.dumps(
        {"Sid": "urlPermission", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
         "Resource": arn, "Condition": {
             "StringEquals": {"AWS:SourceAccount": "000000000000", "lambda:FunctionUrlAuthType": "NONE",
                              "aws:PrincipalOrgID": "o-1234567890"},
             "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::test-bucket"}}}, separators=(",", ":"))
    token = "amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    out = lam.add_permission(FunctionName=name, StatementId="alexaSkill", Action="lambda:InvokeFunction",
                             Principal="*", EventSourceToken=token)
    assert json.loads(out["Statement"])["Condition"] == {"StringEquals": {"lambda:EventSourceToken": token}}


def test_event_invoke_config_answers_as_aws_recorded(server, lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions
    # (the keys named below) and TestLambdaFunction::test_ops_on_nonexisting_fn[get_function_event_invoke_config].
    raw = boto_client(server.base, parameter_validation=False)
    name = unique("eic")
    arn = create_function(lam, name, HELLO)["FunctionArn"]
    missing = f"none-{name}"
    none_arn = arn.replace(name, missing)
    # put_functionname_nootherargs: the body is checked before the function is looked for
    assert error_of(raw.put_function_event_invoke_config, FunctionName=missing) == (
        "InvalidParameterValueException", 400,
        "You must specify at least one of error handling or destination setting.")
    # put_destination_invalid_service_arn
    iam = arn.replace(":lambda:", ":iam:")
    assert error_of(raw.put_function_event_invoke_config, FunctionName=name,
                    DestinationConfig={"OnSuccess": {"Destination": iam}}) == (
        "InvalidParameterValueException", 400, f"The provided destination config DestinationConfig(onSuccess="
        f"OnSuccess(destination={iam}), onFailure=null) is invalid.")
    # put_destination_invalid_arn_pattern
    bad = arn.replace(":lambda:", ":_-/!lambda:")
    assert error_of(raw.put_function_event_invoke_config, FunctionName=name,
                    DestinationConfig={"OnFailure": {"Destination": bad}}) == (
        "ValidationException", 400, f"1 validation error detected: Value '{bad}' at 'destinationConfig.onFailure."
        "destination' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}"
        r"((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)")
    # put_alias_doesnotexist
    assert error_of(raw.put_function_event_invoke_config, FunctionName=name, Qualifier="nosuchalias",
                    MaximumRetryAttempts=1) == ("ResourceNotFoundException", 404, "The function doesn't exist.")
    # get_function_doesnotexist, delete_function_doesnotexist, get_qualifier_doesnotexist: no function looked for
    for call in (raw.get_function_event_invoke_config, raw.delete_function_event_invoke_config):
        assert error_of(call, FunctionName=missing) == (
            "ResourceNotFoundException", 404, f"The function {none_arn}:$LATEST doesn't have an EventInvokeConfig")
    assert error_of(raw.get_function_event_invoke_config, FunctionName=name, Qualifier="doesnotexist") == (
        "ResourceNotFoundException", 404, f"The function {arn}:doesnotexist doesn't have an EventInvokeConfig")
    # list_function_doesnotexist
    assert error_of(raw.list_function_event_invoke_configs, FunctionName=missing) == (
        "ResourceNotFoundException", 404, "The function doesn't exist.")
    # paging (the test's MaxItems=2 of 3 and the lifecycle test's Marker)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    for qualifier in ("$LATEST", "1", "live"):
        lam.put_function_event_invoke_config(FunctionName=name, Qualifier=qualifier, MaximumRetryAttempts=1)
    page = lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=2)
    assert len(page["FunctionEventInvokeConfigs"]) == 2 and page["NextMarker"]
    rest = lam.list_function_event_invoke_configs(FunctionName=name, Marker=page["NextMarker"], MaxItems=2)
    assert "NextMarker" not in rest
    listed = page["FunctionEventInvokeConfigs"] + rest["FunctionEventInvokeConfigs"]
    assert sorted(c["FunctionArn"] for c in listed) == [f"{arn}:$LATEST", f"{arn}:1", f"{arn}:live"]


TAGGABLE = (r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
            r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
            r"code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
            r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)")


def test_tag_resource_arns_and_limits(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaTags::test_tag_exceptions "tag_lambda_invalidarn",
    # TestLambdaTag::test_tag_exceptions[lambda_function] "invalid_arn_exception",
    # TestLambdaTag::test_tag_exceptions[event_source_mapping] "not_found_exception_list" and
    # TestLambdaTags::test_tag_limits "create_function_invalid_tags".
    prefix = "arn:aws:lambda:us-east-1:000000000000:"
    for arn in ("arn:aws:something", f"{prefix}foobar:{unique('x')}"):
        assert error_of(lam.list_tags, Resource=arn) == (
            "ValidationException", 400, f"1 validation error detected: Value '{arn}' at 'resource' failed to "
            f"satisfy constraint: Member must satisfy regular expression pattern: {TAGGABLE}")
    esm = f"{prefix}event-source-mapping:{uuid.uuid4()}"
    assert error_of(lam.tag_resource, Resource=esm, Tags={"A": "B"}) == (
        "ResourceNotFoundException", 404, f"Event source mapping not found: {esm}")
    name = unique("tags")
    many = {f"{k}_key": f"{k}_value" for k in range(51)}
    assert error_of(lam.create_function, FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                    Code={"ZipFile": zip_of(HELLO)}, Tags=many) == (
        "InvalidParameterValueException", 400, "Number of tags exceeds resource tag limit.")
    assert error_of(lam.get_function, FunctionName=name)[1] == 404


def test_account_settings(lam) -> None:  # type: ignore[no-untyped-def]
    out = lam.get_account_settings()
    assert out["AccountLimit"]["CodeSizeUnzipped"] == 4096 * 1024 * 1024   # this server's limits (serve settings)
    assert out["AccountLimit"]["CodeSizeZipped"] == 1024 * 1024 * 1024
    assert out["AccountUsage"]["FunctionCount"] >= 0


def test_total_code_size_counts_versions_and_layers(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaAccountSettings::test_account_settings_total_code_size
    # (UpdateFunctionCode with Publish, and each layer version, add their size) and
    # test_account_settings_total_code_size_config_update (a configuration change adds nothing; publishing does).
    def total() -> int:
        return int(lam.get_account_settings()["AccountUsage"]["TotalCodeSize"])

    name = unique("size")
    before = total()
    size = create_function(lam, name, HELLO)["CodeSize"]
    assert total() == before + size
    lam.update_function_configuration(FunctionName=name, Timeout=9)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})
    assert total() == before + size
    lam.update_function_code(FunctionName=name, ZipFile=zip_of(HELLO), Publish=True)   # version 1, same code
    assert total() == before + 2 * size
    layer = lam.publish_layer_version(LayerName=unique("sizelayer"), Content={"ZipFile": zip_of({"python/x.py": ""})})
    assert total() == before + 2 * size + layer["Content"]["CodeSize"]


def test_operations_not_built_yet_say_so(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("nb")
    create_function(lam, name, HELLO)
    code, status, message = error_of(lam.get_function_url_config, FunctionName=name)
    assert status == 501 and "not support" in message


@pytest.mark.parametrize("role", ["r1", "arn:aws:iam::12:role/x"])
def test_create_with_bad_role_is_refused(lam, role: str) -> None:  # type: ignore[no-untyped-def]
    name = unique("role")
    with pytest.raises(ClientError) as info:
        lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                            Code={"ZipFile": zip_of(HELLO)})
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert f"Value '{role}' at 'role' failed to satisfy constraint" in info.value.response["Error"]["Message"]
    assert error_of(lam.get_function, FunctionName=name)[1] == 404


def test_create_duplicate_is_409_and_keeps_the_first(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("dup")
    first = create_function(lam, name, HELLO)
    code, status, message = error_of(create_function, lam, name, "def handler(e, c): return 2")
    assert (code, status, message) == ("ResourceConflictException", 409, f"Function already exist: {name}")
    assert lam.get_function_configuration(FunctionName=name)["CodeSha256"] == first["CodeSha256"]


def test_unsigned_requests_reach_the_api(server) -> None:  # type: ignore[no-untyped-def]
    r = requests.get(server.base + "/2015-03-31/functions", timeout=10)
    assert r.status_code == 200 and "Functions" in r.json()


def test_role_default_arn_form_accepted(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("okrole")
    out = lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                              Code={"ZipFile": zip_of(HELLO)})
    assert out["Role"] == ROLE
