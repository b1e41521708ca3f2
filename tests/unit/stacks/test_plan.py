"""build_plan: templates (SAM and plain CloudFormation) -> StackPlan, and every bad input of issue 12."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from lambdalite.errors import Problems
from lambdalite.stacks.model import StackPlan
from lambdalite.stacks.plan import build_plan, default_function_name, shift_steps

ADDFIVE = Path(__file__).resolve().parents[3] / "examples" / "addfive"
SHA_A, SHA_B = "a" * 64, "b" * 64
REGION, ACCOUNT = "us-east-1", "000000000000"

HELLO_WORLD = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: >
  sam-app

  Sample SAM Template for sam-app
Globals:
  Function:
    Timeout: 3
Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.13
      Architectures:
        - x86_64
      Events:
        HelloWorld:
          Type: Api
          Properties:
            Path: /hello
            Method: get
Outputs:
  HelloWorldApi:
    Description: "API Gateway endpoint URL for Prod stage for Hello World function"
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/Prod/hello/"
  HelloWorldFunction:
    Description: "Hello World Lambda Function ARN"
    Value: !GetAtt HelloWorldFunction.Arn
  HelloWorldFunctionIamRole:
    Description: "Implicit IAM Role created for Hello World function"
    Value: !GetAtt HelloWorldFunctionRole.Arn
"""


def plan(text: str, **overrides: Any) -> StackPlan:
    ids = (f"api{n:07d}" for n in itertools.count())
    kwargs: dict[str, Any] = {
        "stack_name": "demo", "parameters": {}, "region": REGION, "account": ACCOUNT,
        "code": {".": SHA_A, "hello_world": SHA_B, "src": SHA_B}, "includes": {}, "physical_ids": {},
        "new_api_id": lambda: next(ids), "test_events": {},
    }
    kwargs.update(overrides)
    return build_plan(text, **kwargs)


def problems_of(text: str, **overrides: Any) -> list[str]:
    with pytest.raises(Problems) as caught:
        plan(text, **overrides)
    return caught.value.problems


def sam(resources: str, head: str = "") -> str:
    return f"Transform: AWS::Serverless-2016-10-31\n{head}Resources:\n{resources}"


FUNCTION = """\
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
"""


# ------------------------------------------------------------------------------------------ addfive


def addfive_plan() -> StackPlan:
    events = {".": {"test_1": (ADDFIVE / "events/test_1.json").read_text(),
                    "test_2": (ADDFIVE / "events/test_2.json").read_text()}}
    return plan((ADDFIVE / "template.yaml").read_text(), stack_name="addfive", test_events=events)


def test_addfive_function() -> None:
    (fn,) = addfive_plan().functions
    assert fn.logical_id == "AddFiveFunction" and fn.name == "addfive" and fn.code_sha256 == SHA_A
    assert fn.create["Handler"] == "lambda_function.lambda_handler" and fn.create["Runtime"] == "python3.11"
    assert fn.create["FunctionName"] == "addfive"
    assert set(fn.test_events) == {"test_1", "test_2"}
    assert fn.test_events["test_1"].strip() == '{"num": "15"}'


def test_addfive_api_is_the_guides_non_proxy_integration() -> None:
    p = addfive_plan()
    (api,) = p.apis
    assert api.logical_id == "AddFiveApi" and api.api_id == "api0000000" and api.name == "addfive"
    # SAM's quirk, as the translator writes it: the Deployment also makes a stage named "Stage".
    assert api.stages == {"PRD": {}}   # OpenApiVersion is set: no extra "Stage" stage
    integration = api.definition["paths"]["/addfive"]["get"]["x-amazon-apigateway-integration"]
    assert integration == {
        "type": "aws", "httpMethod": "POST",
        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
               "arn:aws:lambda:us-east-1:000000000000:function:addfive/invocations",
        "requestTemplates": {"application/json": '{"num": "$input.params(\'num\')"}'},
        "passthroughBehavior": "when_no_templates",
        "responses": {"default": {"statusCode": "200"}},
    }


def test_addfive_permission_outputs_and_resources() -> None:
    p = addfive_plan()
    (perm,) = p.permissions
    assert perm.function_name == "addfive"
    assert perm.statement == {"StatementId": "addfive-AddFiveApiPermission", "Action": "lambda:InvokeFunction",
                              "Principal": "apigateway.amazonaws.com",
                              "SourceArn": "arn:aws:execute-api:us-east-1:000000000000:api0000000/*/GET/addfive"}
    assert p.outputs["AddFiveApiUrl"]["OutputValue"] == \
        "https://api0000000.execute-api.us-east-1.amazonaws.com/PRD/addfive"
    assert p.outputs["AddFiveFunctionArn"] == {"OutputValue": "arn:aws:lambda:us-east-1:000000000000:function:addfive"}
    types = {r.logical_id: r.type for r in p.resources}
    assert types["AddFiveFunctionRole"] == "AWS::IAM::Role" and types["AddFiveApiPRDStage"] == "AWS::ApiGateway::Stage"
    assert p.warnings == [] and p.stack_name == "addfive"
    assert "Transform" not in p.expanded_template


def test_redeploy_keeps_the_api_id() -> None:
    p = plan((ADDFIVE / "template.yaml").read_text(), physical_ids={"AddFiveApi": "keptapi123"},
             new_api_id=lambda: pytest.fail("no new id needed"))
    assert p.apis[0].api_id == "keptapi123"
    assert "keptapi123" in p.outputs["AddFiveApiUrl"]["OutputValue"]


# -------------------------------------------------------------------------------------- hello world


def test_hello_world_implicit_api() -> None:
    p = plan(HELLO_WORLD, test_events={"hello_world/": {"e": "{}"}})
    (fn,) = p.functions
    assert fn.name == "demo-HelloWorldFunction" and fn.code_sha256 == SHA_B and fn.test_events == {"e": "{}"}
    assert fn.create["Timeout"] == 3 and fn.create["Architectures"] == ["x86_64"]
    assert fn.create["Role"] == "arn:aws:iam::000000000000:role/demo-HelloWorldFunctionRole"
    (api,) = p.apis
    assert api.logical_id == "ServerlessRestApi" and set(api.stages) == {"Prod", "Stage"}
    operation = api.definition["paths"]["/hello"]["get"]
    assert operation["x-amazon-apigateway-integration"] == {
        "type": "aws_proxy", "httpMethod": "POST",
        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
               "arn:aws:lambda:us-east-1:000000000000:function:demo-HelloWorldFunction/invocations",
    }
    (perm,) = p.permissions
    assert perm.statement["SourceArn"] == "arn:aws:execute-api:us-east-1:000000000000:api0000000/*/GET/hello"
    assert p.outputs["HelloWorldApi"]["OutputValue"] == \
        "https://api0000000.execute-api.us-east-1.amazonaws.com/Prod/hello/"
    assert p.outputs["HelloWorldFunctionIamRole"]["OutputValue"] == \
        "arn:aws:iam::000000000000:role/demo-HelloWorldFunctionRole"
    assert p.description is not None and p.description.startswith("sam-app")


def test_globals_merge() -> None:
    head = ("Globals:\n  Function:\n    Runtime: python3.12\n    Handler: app.handler\n    MemorySize: 256\n"
            "    Environment: {Variables: {A: global, B: global}}\n")
    resources = ("  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src\n"
                 "      MemorySize: 512\n      Environment: {Variables: {B: mine}}\n")
    (fn,) = plan(sam(resources, head)).functions
    assert fn.create["Runtime"] == "python3.12" and fn.create["Handler"] == "app.handler"
    assert fn.create["MemorySize"] == 512
    assert fn.create["Environment"] == {"Variables": {"A": "global", "B": "mine"}}


def test_global_code_uri() -> None:
    head = "Globals:\n  Function:\n    CodeUri: src/\n    Runtime: python3.11\n"
    resources = "  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: app.handler}\n"
    (fn,) = plan(sam(resources, head), test_events={"src": {"t": "{}"}}).functions
    assert fn.code_sha256 == SHA_B and fn.test_events == {"t": "{}"}


def test_parameters_defaults_and_overrides() -> None:
    head = "Parameters:\n  Stage: {Type: String, Default: dev}\n  Memory: {Type: Number, Default: 128}\n"
    resources = FUNCTION + ("      MemorySize: !Ref Memory\n      FunctionName: !Sub '${AWS::StackName}-${Stage}'\n"
                            "      Environment: {Variables: {STAGE: !Ref Stage}}\n")
    p = plan(sam(resources, head), parameters={"Stage": "prod"})
    (fn,) = p.functions
    assert fn.name == "demo-prod" and fn.create["Environment"] == {"Variables": {"STAGE": "prod"}}
    assert fn.create["MemorySize"] == "128" or fn.create["MemorySize"] == 128
    assert p.parameters == {"Stage": "prod", "Memory": "128"}


def test_inline_code() -> None:
    resources = ("  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      InlineCode: |\n"
                 "        def handler(e, c): return 1\n      Handler: index.handler\n      Runtime: python3.11\n")
    (fn,) = plan(sam(resources)).functions
    assert fn.inline_code is not None and "def handler" in fn.inline_code and fn.code_sha256 is None


def test_explicit_api_with_variables_and_include() -> None:
    doc = {"swagger": "2.0", "info": {"title": "x", "version": "1"},
           "paths": {"/x": {"get": {"x-amazon-apigateway-integration": {
               "type": "aws_proxy", "httpMethod": "POST",
               "uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                                  "${Fn.Arn}/invocations"}}}}}}
    resources = FUNCTION + ("  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: v1\n"
                            "      OpenApiVersion: '3.0.1'\n      Variables: {color: blue}\n"
                            "      BinaryMediaTypes: ['image~1png']\n"
                            "      DefinitionBody:\n        Fn::Transform:\n          Name: AWS::Include\n"
                            "          Parameters: {Location: ./api.yaml}\n")
    p = plan(sam(resources), includes={"api.yaml": doc})
    (api,) = p.apis
    assert api.stages == {"v1": {"color": "blue"}}  # OpenApiVersion removes SAM's "Stage" stage
    assert api.binary_media_types == ["image/png"]
    uri = api.definition["paths"]["/x"]["get"]["x-amazon-apigateway-integration"]["uri"]
    assert uri.endswith("function:demo-Fn/invocations")


def test_definition_uri_becomes_the_body() -> None:
    doc = {"swagger": "2.0", "info": {"title": "fromfile", "version": "1"}, "paths": {}}
    resources = FUNCTION + ("  Api:\n    Type: AWS::Serverless::Api\n"
                            "    Properties: {StageName: v1, DefinitionUri: api.yaml}\n")
    (api,) = plan(sam(resources), includes={"api.yaml": doc}).apis
    assert api.definition["info"]["title"] == "fromfile"


def test_plain_cloudformation_api_becomes_a_definition() -> None:
    text = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Code: {ZipFile: "def handler(e, c): return e"}
      Handler: index.handler
      Runtime: python3.11
      Role: !GetAtt FnRole.Arn
  FnRole:
    Type: AWS::IAM::Role
    Properties: {AssumeRolePolicyDocument: {}}
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: plain}
  Items:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: items}
  Item:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !Ref Items, PathPart: '{id}'}
  GetItem:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Item
      HttpMethod: GET
      AuthorizationType: NONE
      RequestParameters: {method.request.querystring.num: false}
      Integration:
        Type: AWS
        IntegrationHttpMethod: POST
        Uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
        PassthroughBehavior: WHEN_NO_TEMPLATES
        RequestTemplates: {application/json: '{"id": "$input.params(''id'')"}'}
        IntegrationResponses: [{StatusCode: 200}]
      MethodResponses: [{StatusCode: 200}]
  Deployment:
    Type: AWS::ApiGateway::Deployment
    DependsOn: GetItem
    Properties: {RestApiId: !Ref Api}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Api, DeploymentId: !Ref Deployment, StageName: prod, Variables: {a: b}}
"""
    p = plan(text)
    (fn,) = p.functions
    assert fn.inline_code is not None and fn.create["Role"] == "arn:aws:iam::000000000000:role/demo-FnRole"
    (api,) = p.apis
    assert api.name == "plain" and api.stages == {"prod": {"a": "b"}}
    operation = api.definition["paths"]["/items/{id}"]["get"]
    assert operation["x-amazon-apigateway-integration"]["type"] == "aws"
    assert operation["x-amazon-apigateway-integration"]["passthroughBehavior"] == "when_no_templates"
    assert operation["x-amazon-apigateway-integration"]["responses"] == {"default": {"statusCode": "200"}}
    assert operation["parameters"] == [{"name": "num", "in": "query", "required": False, "type": "string"}]
    assert "/items" in api.definition["paths"]


def test_ignored_types_are_one_warning() -> None:
    resources = FUNCTION + "  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties: {LogGroupName: x}\n"
    p = plan(sam(resources))
    (warning,) = p.warnings
    assert warning == "not supported yet, ignored: Logs (AWS::Logs::LogGroup)"
    assert {r.logical_id: r.supported for r in p.resources}["Logs"] is False


AUTO_PUBLISH = FUNCTION.replace("      Runtime: python3.11\n",
                                "      Runtime: python3.11\n      AutoPublishAlias: live\n")


def test_auto_publish_alias_plans_a_version_and_an_alias() -> None:
    p = plan(sam(AUTO_PUBLISH, "") + "Outputs:\n  V: {Value: !Ref Fn.Version}\n  A: {Value: !Ref Fn.Alias}\n")
    (version,) = p.versions
    (alias,) = p.aliases
    assert version.logical_id.startswith("FnVersion") and version.function_name == "demo-Fn"
    assert (version.number, version.existing, version.retain) == ("1", False, True)   # SAM retains its versions
    assert (alias.name, alias.version, alias.version_from) == ("live", "1", version.logical_id)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:demo-Fn"
    assert p.outputs["V"]["OutputValue"] == f"{arn}:1" and p.outputs["A"]["OutputValue"] == f"{arn}:live"
    assert all(r.supported for r in p.resources if r.type in ("AWS::Lambda::Version", "AWS::Lambda::Alias"))
    assert p.warnings == []


def test_auto_publish_alias_sends_api_events_and_their_permissions_to_the_alias() -> None:
    events = ("      Events:\n        Get:\n          Type: Api\n"
              "          Properties: {Path: /x, Method: get}\n")
    p = plan(sam(AUTO_PUBLISH + events))
    (permission,) = p.permissions
    assert (permission.function_name, permission.qualifier) == ("demo-Fn", "live")
    (api,) = p.apis
    uri = api.definition["paths"]["/x"]["get"]["x-amazon-apigateway-integration"]["uri"]
    assert ":function:demo-Fn:live/invocations" in uri


def test_a_version_an_earlier_deployment_published_keeps_its_number() -> None:
    first = plan(sam(AUTO_PUBLISH))
    (version,) = first.versions
    previous = {version.logical_id: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:demo-Fn:3"}
    asked = []

    def versions(name: str, prev: str | None) -> tuple[str, bool]:
        asked.append((name, prev))
        return (prev.rsplit(":", 1)[1], True) if prev else ("4", False)

    again = plan(sam(AUTO_PUBLISH), physical_ids=previous, function_version=versions)
    assert (again.versions[0].number, again.versions[0].existing) == ("3", True)
    assert again.aliases[0].version == "3" and asked == [("demo-Fn", previous[version.logical_id])]


HAND_WRITTEN = FUNCTION + """  V1:
    Type: AWS::Lambda::Version
    Properties:
      FunctionName: !Ref Fn
      Description: champion
      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 2}
  V2:
    Type: AWS::Lambda::Version
    DeletionPolicy: Delete
    Properties: {FunctionName: !GetAtt Fn.Arn}
  Live:
    Type: AWS::Lambda::Alias
    Properties:
      Name: live
      FunctionName: !Ref Fn
      FunctionVersion: !GetAtt V1.Version
      Description: prod
      RoutingConfig:
        AdditionalVersionWeights:
          - {FunctionVersion: !GetAtt V2.Version, FunctionWeight: 0.1}
"""


def test_hand_written_versions_and_an_alias_with_cloudformation_weights() -> None:
    p = plan(sam(HAND_WRITTEN))
    v1, v2 = sorted(p.versions, key=lambda v: v.logical_id)
    assert (v1.number, v1.description, v1.provisioned, v1.retain) == ("1", "champion", 2, False)
    assert (v2.number, v2.retain) == ("2", False)
    (alias,) = p.aliases
    assert (alias.version, alias.version_from, alias.weights, alias.description) == ("1", "V1", {"2": 0.1}, "prod")


@pytest.mark.parametrize(("change", "fragment"), [
    (("ProvisionedConcurrentExecutions: 2", "ProvisionedConcurrentExecutions: 0"),
     "ProvisionedConcurrentExecutions must be a whole number 1 or more"),
    (("FunctionVersion: !GetAtt V1.Version", "FunctionVersion: latest"),
     "FunctionVersion must be a version number"),
    (("      Name: live\n", ""), "an AWS::Lambda::Alias needs Name"),
    (("      FunctionName: !Ref Fn\n      Description: champion", "      Description: champion"),
     "a AWS::Lambda::Version needs FunctionName"),
])
def test_bad_versions_and_aliases_are_problems(change: tuple[str, str], fragment: str) -> None:
    problems = problems_of(sam(HAND_WRITTEN.replace(*change)))
    assert any(fragment in p for p in problems), problems


def test_condition_removes_a_resource() -> None:
    head = "Parameters:\n  Env: {Type: String, Default: dev}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n"
    prod_only = FUNCTION.replace("  Fn:", "  ProdOnly:")
    resources = FUNCTION + prod_only.replace("Properties:", "Condition: IsProd\n    Properties:")
    assert [f.logical_id for f in plan(sam(resources, head)).functions] == ["Fn"]
    assert len(plan(sam(resources, head), parameters={"Env": "prod"}).functions) == 2


def test_default_function_name_is_cut_to_64() -> None:
    assert default_function_name("s" * 60, "LogicalId") == ("s" * 60 + "-Log")


# ------------------------------------------------------------------------------------------ bad input


def test_yaml_error_with_line() -> None:
    (problem,) = problems_of("Resources:\n  Fn:\n    Type: [x\n")
    assert "YAML error at line" in problem


def test_not_a_map() -> None:
    (problem,) = problems_of("- Resources\n")
    assert "not a mapping" in problem


def test_two_resources_with_one_logical_id() -> None:
    (problem,) = problems_of(sam(FUNCTION + FUNCTION))
    assert "two resources have the logical id 'Fn'" in problem


def test_unknown_resource_type() -> None:
    problems = problems_of(sam(FUNCTION + "  Queue:\n    Type: AWS::Lambda::Functoin\n    Properties: {}\n"))
    assert any(p.startswith("Resource Queue: resource type 'AWS::Lambda::Functoin' is unknown") for p in problems)


def test_unsupported_type_that_matters_is_refused() -> None:
    resources = FUNCTION + "  Q:\n    Type: AWS::DynamoDB::Table\n"
    (problem,) = problems_of(sam(resources))
    assert problem.startswith("Resource Q: resource type 'AWS::DynamoDB::Table'")


@pytest.mark.parametrize("missing", ["Handler", "Runtime"])
def test_function_without_handler_or_runtime(missing: str) -> None:
    text = sam("".join(line for line in FUNCTION.splitlines(keepends=True) if missing not in line))
    (problem,) = problems_of(text)
    assert "[Fn]" in problem and "Runtime and Handler" in problem


def test_plain_function_without_handler() -> None:
    text = ("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n"
            "    Properties: {Code: {ZipFile: x}, Runtime: python3.11}\n")
    (problem,) = problems_of(text)
    assert problem.startswith("Resource Fn: a function needs Handler")


def test_code_uri_not_found() -> None:
    (problem,) = problems_of(sam(FUNCTION.replace("src/", "nowhere/")))
    assert problem.startswith("Resource Fn: CodeUri 'nowhere/' was not found")


def test_include_not_found() -> None:
    resources = FUNCTION + ("  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: v1\n"
                            "      DefinitionBody: !Transform\n"
                            "        {Name: AWS::Include, Parameters: {Location: gone.yaml}}\n")
    problems = problems_of(sam(resources))
    assert any(p.startswith("Resource Api: AWS::Include of 'gone.yaml'") for p in problems)


def test_get_att_and_ref_of_missing_resource() -> None:
    resources = FUNCTION + "      Environment: {Variables: {A: !GetAtt Ghost.Arn, B: !Ref Phantom}}\n"
    problems = problems_of(sam(resources))
    assert any("Fn::GetAtt of 'Ghost'" in p and p.startswith("Resource Fn") for p in problems)
    assert any("Ref to 'Phantom'" in p and p.startswith("Resource Fn") for p in problems)


def test_output_of_missing_resource() -> None:
    (problem,) = problems_of(sam(FUNCTION, "") + "Outputs:\n  Url: {Value: !Ref Nope}\n")
    assert problem.startswith("Output Url: Ref to 'Nope'")


def test_circular_reference() -> None:
    text = """\
Resources:
  A:
    Type: AWS::Lambda::Function
    Properties: {Code: {ZipFile: x}, Handler: index.h, Runtime: python3.11, Role: !GetAtt B.Arn}
  B:
    Type: AWS::IAM::Role
    DependsOn: A
"""
    (problem,) = problems_of(text)
    assert problem.startswith("Resources: circular reference A -> B -> A")


def test_parameter_with_no_value() -> None:
    problems = problems_of(sam(FUNCTION, "Parameters:\n  Table: {Type: String}\n"))
    assert any(p.startswith("Parameter Table has no value") for p in problems)


def test_unsupported_intrinsic() -> None:
    (problem,) = problems_of(sam(FUNCTION + "      Environment: {Variables: {A: !ImportValue shared}}\n"))
    assert "Fn::ImportValue" in problem and "Fn" in problem


def test_openapi_body_that_does_not_parse() -> None:
    resources = FUNCTION + ("  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: v1\n"
                            "      DefinitionBody: {title: not an openapi document}\n")
    (problem,) = problems_of(sam(resources))
    assert problem.startswith("Resource Api: the OpenAPI definition does not import")


def test_definition_body_not_a_map_from_the_translator() -> None:
    resources = FUNCTION + ("  Api:\n    Type: AWS::Serverless::Api\n"
                            "    Properties: {StageName: v1, DefinitionBody: text}\n")
    (problem,) = problems_of(sam(resources))
    assert "[Api]" in problem and "DefinitionBody" in problem


def test_every_problem_is_listed_at_once() -> None:
    resources = (FUNCTION.replace("src/", "nowhere/") + "  Q:\n    Type: AWS::DynamoDB::Table\n"
                 "  P:\n    Type: AWS::Lambda::Permission\n    Properties:\n      FunctionName: !Ref Ghost\n"
                 "      Action: lambda:InvokeFunction\n      Principal: apigateway.amazonaws.com\n")
    problems = problems_of(sam(resources, "Parameters:\n  X: {Type: String}\n"))
    text = "\n".join(problems)
    assert len(problems) == 4, problems
    assert "nowhere/" in text
    assert "Parameter X" in text and "Resource Q" in text and "Ref to 'Ghost'" in text


def test_global_definition_uri() -> None:
    doc = {"swagger": "2.0", "info": {"title": "global", "version": "1"}, "paths": {}}
    head = "Globals:\n  Api:\n    DefinitionUri: ./api.yaml\n"
    resources = FUNCTION + "  Api:\n    Type: AWS::Serverless::Api\n    Properties: {StageName: v1}\n"
    (api,) = plan(sam(resources, head), includes={"api.yaml": doc}).apis
    assert api.definition["info"]["title"] == "global"


def test_missing_definition_uri_is_listed_with_the_rest() -> None:
    resources = (FUNCTION.replace("src/", "nowhere/") +
                 "  Api:\n    Type: AWS::Serverless::Api\n    Properties: {StageName: v1, DefinitionUri: gone.yaml}\n")
    problems = problems_of(sam(resources))
    assert len(problems) == 2
    assert problems[0].startswith("Resource Fn: CodeUri 'nowhere/'")
    assert problems[1].startswith("Resource Api: DefinitionUri 'gone.yaml'")


@pytest.mark.parametrize(("config", "steps"), [
    ("CodeDeployDefault.LambdaCanary10Percent5Minutes", ((0.1, 300.0),)),
    ("Canary10Percent30Minutes", ((0.1, 1800.0),)),
    ("Linear10PercentEvery1Minute", tuple((p / 100, 60.0) for p in range(10, 100, 10))),
    ("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", tuple((p / 100, 600.0) for p in range(10, 100, 10))),
    ("Linear25PercentEvery2Minutes", ((0.25, 120.0), (0.5, 120.0), (0.75, 120.0))),
    ("AllAtOnce", ()),
    ("CodeDeployDefault.LambdaAllAtOnce", ()),
])
def test_codedeploy_configs_become_steps(config: str, steps: tuple) -> None:
    assert shift_steps(config) == steps


@pytest.mark.parametrize("config", ["Canary0Percent5Minutes", "Canary100Percent5Minutes", "Linear0PercentEvery1Minute",
                                    "Sometimes", "canary10percent5minutes", ""])
def test_other_configs_are_not_steps(config: str) -> None:
    assert shift_steps(config) is None


def test_a_deployment_preference_plans_a_traffic_shift_with_hooks_and_threshold() -> None:
    fn = AUTO_PUBLISH.replace("  Fn:\n    Type: AWS::Serverless::Function\n",
                              "  Fn:\n    Type: AWS::Serverless::Function\n"
                              "    Metadata: {Lambdalite: {RollbackOnErrorRate: 0.1}}\n")
    fn += ("      DeploymentPreference:\n        Type: Canary10Percent15Minutes\n"
           "        Hooks: {PreTraffic: !Ref Pre, PostTraffic: !Ref Post}\n")
    hooks = FUNCTION.replace("  Fn:", "  Pre:") + FUNCTION.replace("  Fn:", "  Post:")
    p = plan(sam(fn + hooks))
    (alias,) = p.aliases
    assert alias.shift is not None
    assert (alias.shift.config, alias.shift.steps, alias.shift.rollback_error_rate) == \
        ("Canary10Percent15Minutes", ((0.1, 900.0),), 0.1)
    assert (alias.shift.pre_hook, alias.shift.post_hook) == ("demo-Pre", "demo-Post")
    assert not any("ignored" in w for w in p.warnings)                 # CodeDeploy's resources are understood


def test_the_rollback_threshold_defaults_to_five_percent_and_must_be_a_share() -> None:
    fn = AUTO_PUBLISH + "      DeploymentPreference: {Type: AllAtOnce}\n"
    (alias,) = plan(sam(fn)).aliases
    assert alias.shift is not None and alias.shift.rollback_error_rate == 0.05 and alias.shift.steps == ()
    metadata = "    Metadata: {Lambdalite: {RollbackOnErrorRate: 2}}\n"
    bad = fn.replace("  Fn:\n    Type: AWS::Serverless::Function\n",
                     "  Fn:\n    Type: AWS::Serverless::Function\n" + metadata)
    assert any("RollbackOnErrorRate must be a number from 0 to 1" in p for p in problems_of(sam(bad)))


def test_schedule_events_plan_schedules() -> None:
    events = ("      Events:\n        Nightly:\n          Type: Schedule\n          Properties:\n"
              "            Schedule: cron(0 3 * * ? *)\n            Input: '{\"job\": 1}'\n            Enabled: false\n"
              "        Often:\n          Type: ScheduleV2\n          Properties:\n"
              "            ScheduleExpression: rate(5 minutes)\n            ScheduleExpressionTimezone: Europe/Paris\n")
    p = plan(sam(FUNCTION + events))
    nightly, often = sorted(p.schedules, key=lambda s: s.logical_id)
    assert (nightly.expression, nightly.enabled, nightly.input, nightly.function) == \
        ("cron(0 3 * * ? *)", False, '{"job": 1}', "demo-Fn")
    assert nightly.arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/demo-FnNightly"
    assert (often.expression, often.timezone, often.enabled, often.name) == \
        ("rate(5 minutes)", "Europe/Paris", True, "FnOften")
    assert often.arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/FnOften"
    assert p.warnings == []


def test_an_event_pattern_rule_is_refused() -> None:
    rule = FUNCTION + ("  Rule:\n    Type: AWS::Events::Rule\n    Properties:\n"
                       "      EventPattern: {source: [aws.s3]}\n"
                       "      Targets: [{Arn: !GetAtt Fn.Arn, Id: t}]\n")
    assert any("only schedule rules" in p for p in problems_of(sam(rule)))


ROLES = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Target:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src, Handler: app.handler, Runtime: python3.11}
  Caller:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.handler
      Runtime: python3.11
      Policies:
        - LambdaInvokePolicy: {FunctionName: !Ref Target}
        - AmazonS3ReadOnlyAccess
        - Statement: [{Effect: Deny, Action: "lambda:DeleteFunction", Resource: "*"}]
"""


def test_a_functions_sam_policies_become_its_roles_statements() -> None:
    planned = plan(ROLES)
    roles = {r.logical_id: r for r in planned.roles}
    assert set(roles) == {"TargetRole", "CallerRole"}
    caller_fn = next(f for f in planned.functions if f.logical_id == "Caller")
    assert caller_fn.create["Role"] == roles["CallerRole"].arn == f"arn:aws:iam::{ACCOUNT}:role/demo-CallerRole"
    target = default_function_name("demo", "Target")
    invoke = next(s for s in roles["CallerRole"].statements if s.get("Effect") == "Allow")
    assert "lambda:InvokeFunction" in invoke["Action"]
    assert f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{target}*" in invoke["Resource"]
    assert {"Effect": "Deny", "Action": "lambda:DeleteFunction", "Resource": "*"} in roles["CallerRole"].statements
    assert any("AmazonS3ReadOnlyAccess" in arn for arn in roles["CallerRole"].managed)
    assert any("AWSLambdaBasicExecutionRole" in arn for arn in roles["TargetRole"].managed)
    assert roles["TargetRole"].statements == ()
    assert any("AmazonS3ReadOnlyAccess grants nothing on this server" in w for w in planned.warnings)
