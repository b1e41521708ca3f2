"""parse_openapi: OpenAPI 2.0/3.0 documents read the way ImportRestApi / PutRestApi read them.

Expected values come from AWS-recorded LocalStack snapshots (tests/aws/services/apigateway/
test_apigateway_import.snapshot.json) where one exists; the documents here are written for these tests.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from lambdalite.errors import BadRequestException
from lambdalite.gateway.control.openapi import (
    MODEL_URL_PREFIX,
    ImportedApi,
    ImportedMethod,
    OpenApiImportError,
    bind_rest_api_id,
    parse_openapi,
)

GUIDE = Path(__file__).resolve().parents[4] / "examples" / "addfive" / "openapi.yaml"
LAMBDA_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:addfive/invocations"
)
MOCK = {"type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'}}


def swagger(paths: dict[str, Any], **top: Any) -> str:
    return json.dumps({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": paths, **top})


def oas3(paths: dict[str, Any], **top: Any) -> str:
    return json.dumps({"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": paths, **top})


def get(integration: dict[str, Any] | None = None, /, **operation: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"responses": {"200": {"description": "ok"}}, **operation}
    if integration is not None:
        spec["x-amazon-apigateway-integration"] = integration
    return {"get": spec}


def method(api: ImportedApi, path: str, verb: str = "GET") -> ImportedMethod:
    resource = next(r for r in api.resources if r.path == path)
    return resource.methods[verb]


def integration_of(api: ImportedApi, path: str) -> dict[str, Any]:
    integration = method(api, path).integration
    assert integration is not None
    return integration


def paths(api: ImportedApi) -> list[str]:
    return [r.path for r in api.resources]


def import_error(document: str | bytes, **kwargs: Any) -> str:
    with pytest.raises(OpenApiImportError) as caught:
        parse_openapi(document, **kwargs)
    return str(caught.value.message)


def errors_of(document: str, **kwargs: Any) -> list[str]:
    message = import_error(document, **kwargs)
    head, *lines = message.split("\n\t")
    assert head == "Errors found during import:"
    return lines


# ------------------------------------------------------------------------------- the guide's API


def test_the_guides_document_imports_as_the_console_steps_build_it() -> None:
    api = parse_openapi(GUIDE.read_bytes())
    assert (api.name, api.version, api.description, api.warnings) == ("addfive", "1.0", None, [])
    assert paths(api) == ["/addfive"]
    assert method(api, "/addfive") == ImportedMethod(
        http_method="GET",
        method={
            "authorizationType": "NONE",
            "apiKeyRequired": False,
            "requestParameters": {"method.request.querystring.num": False},
        },
        method_responses={"200": {}},
        integration={
            "type": "AWS",
            "integrationHttpMethod": "POST",
            "uri": LAMBDA_URI,
            "requestTemplates": {"application/json": '{"num": "$input.params(\'num\')"}'},
            "passthroughBehavior": "WHEN_NO_TEMPLATES",
            "timeoutInMillis": 29000,
            "cacheKeyParameters": [],
        },
        integration_responses={"200": {}},
    )


def test_the_guides_document_reads_the_same_as_json_and_as_text() -> None:
    as_yaml = parse_openapi(GUIDE.read_text())
    as_json = parse_openapi(json.dumps(yaml.safe_load(GUIDE.read_text())))
    assert as_yaml == as_json == parse_openapi(GUIDE.read_bytes())


def test_a_byte_order_mark_is_not_an_error() -> None:
    assert parse_openapi(b"\xef\xbb\xbf" + GUIDE.read_bytes()).name == "addfive"


def test_the_result_is_frozen() -> None:
    api = parse_openapi(GUIDE.read_bytes())
    with pytest.raises(dataclasses.FrozenInstanceError):
        api.name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- Swagger petstore


PETSTORE = {
    "swagger": "2.0",
    "info": {"title": "PetStore", "version": "1.0", "description": "Your first API"},
    "paths": {
        "/": {
            "get": {
                "produces": ["text/html"],
                "responses": {"200": {"description": "ok", "headers": {"Content-Type": {"type": "string"}}}},
                "x-amazon-apigateway-integration": {
                    **MOCK,
                    "passthroughBehavior": "when_no_match",
                    "responses": {
                        "default": {
                            "statusCode": "200",
                            "responseParameters": {"method.response.header.Content-Type": "'text/html'"},
                            "responseTemplates": {"text/html": "<html></html>"},
                        }
                    },
                },
            }
        },
        "/pets": {
            "get": {
                "produces": ["application/json"],
                "parameters": [
                    {"name": "type", "in": "query", "required": False, "type": "string"},
                    {"name": "page", "in": "query", "type": "string"},
                ],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pets"}}},
                "x-amazon-apigateway-integration": {
                    "type": "http",
                    "httpMethod": "GET",
                    "uri": "http://petstore.example.com/petstore/pets",
                    "requestParameters": {"integration.request.querystring.page": "method.request.querystring.page"},
                    "responses": {"default": {"statusCode": "200"}},
                },
            },
            "post": {
                "operationId": "CreatePet",
                "consumes": ["application/json"],
                "produces": ["application/json"],
                "parameters": [{"in": "body", "name": "NewPet", "schema": {"$ref": "#/definitions/NewPet"}}],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/NewPetResponse"}}},
                "x-amazon-apigateway-integration": {
                    "type": "http",
                    "httpMethod": "POST",
                    "uri": "http://petstore.example.com/petstore/pets",
                },
            },
        },
        "/pets/{petId}": {
            "get": {
                "operationId": "GetPet",
                "parameters": [{"name": "petId", "in": "path", "required": True, "type": "string"}],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}},
                "x-amazon-apigateway-integration": {
                    "type": "http",
                    "httpMethod": "GET",
                    "uri": "http://petstore.example.com/petstore/pets/{petId}",
                    "requestParameters": {"integration.request.path.petId": "method.request.path.petId"},
                },
            }
        },
    },
    "definitions": {
        "Pets": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
        "Empty": {"type": "object"},
        "NewPetResponse": {"type": "object", "properties": {"pet": {"$ref": "#/definitions/Pet"}}},
        "Pet": {"type": "object", "properties": {"petid": {"type": "integer"}}},
        "NewPet": {"type": "object", "properties": {"type": {"$ref": "#/definitions/PetType"}}},
        "PetType": {"type": "string", "enum": ["dog", "cat"], "description": "what kind of pet"},
    },
}


def test_petstore_resources_methods_and_api_fields() -> None:
    api = parse_openapi(json.dumps(PETSTORE))
    assert (api.name, api.description, api.version) == ("PetStore", "Your first API", "1.0")
    assert paths(api) == ["/", "/pets", "/pets/{petId}"]
    assert sorted(next(r for r in api.resources if r.path == "/pets").methods) == ["GET", "POST"]
    assert api.warnings == []


def test_petstore_models_point_at_each_other_by_absolute_url() -> None:
    models = {m["name"]: m for m in parse_openapi(json.dumps(PETSTORE)).models}
    assert list(models) == ["Pets", "Empty", "NewPetResponse", "Pet", "NewPet", "PetType"]
    assert json.loads(models["Pets"]["schema"]) == {"type": "array", "items": {"$ref": MODEL_URL_PREFIX + "Pet"}}
    assert json.loads(models["NewPet"]["schema"])["properties"]["type"] == {"$ref": MODEL_URL_PREFIX + "PetType"}
    assert models["PetType"]["description"] == "what kind of pet"
    assert "description" not in models["Pet"]
    assert {m["contentType"] for m in models.values()} == {"application/json"}


def test_model_urls_are_bound_to_the_api_id_by_the_service() -> None:
    models = {m["name"]: m for m in parse_openapi(json.dumps(PETSTORE)).models}
    bound = json.loads(bind_rest_api_id(models["Pets"]["schema"], "a1b2c3d4e5"))
    assert bound["items"]["$ref"] == "https://apigateway.amazonaws.com/restapis/a1b2c3d4e5/models/Pet"


def test_petstore_get_pets_as_aws_records_it() -> None:
    pets = method(parse_openapi(json.dumps(PETSTORE)), "/pets")
    assert pets.method == {
        "authorizationType": "NONE",
        "apiKeyRequired": False,
        "requestParameters": {"method.request.querystring.type": False, "method.request.querystring.page": False},
    }
    assert pets.method_responses == {"200": {"responseModels": {"application/json": "Pets"}}}
    assert pets.integration == {
        "type": "HTTP",
        "integrationHttpMethod": "GET",
        "uri": "http://petstore.example.com/petstore/pets",
        "requestParameters": {"integration.request.querystring.page": "method.request.querystring.page"},
        "passthroughBehavior": "WHEN_NO_MATCH",
        "timeoutInMillis": 29000,
        "cacheKeyParameters": [],
        "connectionType": "INTERNET",
    }
    assert pets.integration_responses == {"200": {}}


def test_a_body_parameter_becomes_the_request_model_and_operation_id_the_name() -> None:
    post = method(parse_openapi(json.dumps(PETSTORE)), "/pets", "POST")
    assert post.method["operationName"] == "CreatePet"
    assert post.method["requestModels"] == {"application/json": "NewPet"}
    assert post.method_responses["200"]["responseModels"] == {"application/json": "NewPetResponse"}
    assert post.integration_responses == {}


def test_path_parameters_are_always_required() -> None:
    pet = method(parse_openapi(json.dumps(PETSTORE)), "/pets/{petId}")
    assert pet.method["requestParameters"] == {"method.request.path.petId": True}


def test_mock_root_method_with_response_headers_and_templates() -> None:
    root = method(parse_openapi(json.dumps(PETSTORE)), "/")
    assert root.method_responses == {"200": {"responseParameters": {"method.response.header.Content-Type": False}}}
    assert root.integration is not None
    assert root.integration["type"] == "MOCK" and "integrationHttpMethod" not in root.integration
    assert root.integration["requestTemplates"] == {"application/json": '{"statusCode": 200}'}
    assert root.integration_responses == {
        "200": {
            "responseParameters": {"method.response.header.Content-Type": "'text/html'"},
            "responseTemplates": {"text/html": "<html></html>"},
        }
    }


def test_response_models_follow_produces() -> None:
    doc = swagger(
        {"/x": get(responses={"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}})},
        produces=["application/json", "application/xml"],
        definitions={"Pet": {"type": "object"}},
    )
    responses = method(parse_openapi(doc), "/x").method_responses
    assert responses["200"]["responseModels"] == {"application/json": "Pet", "application/xml": "Pet"}


def test_inline_schemas_get_no_model_and_no_warning() -> None:
    doc = swagger({"/x": get(responses={"200": {"description": "ok", "schema": {"type": "object"}}})})
    api = parse_openapi(doc, fail_on_warnings=True)
    assert method(api, "/x").method_responses == {"200": {}}


# ------------------------------------------------------------------------------------ OpenAPI 3


CIRCULAR = """
openapi: 3.0.2
info: {title: Circular model reference, version: '1.0'}
x-amazon-apigateway-request-validators:
  basic: {validateRequestBody: true, validateRequestParameters: true}
  params-only: {validateRequestParameters: true}
x-amazon-apigateway-request-validator: basic
paths:
  /person:
    post:
      operationId: CreatePerson
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Person'}
      responses:
        200:
          description: Empty
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Empty'}
      x-amazon-apigateway-integration:
        type: mock
        passthroughBehavior: when_no_templates
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default:
            statusCode: 200
            responseTemplates: {application/json: '{"response": "mocked"}'}
  /people:
    get:
      x-amazon-apigateway-request-validator: params-only
      responses: {200: {description: ok}}
components:
  schemas:
    Person:
      type: object
      description: Random person schema.
      properties:
        name: {type: string}
        house: {$ref: '#/components/schemas/House'}
      required: [name]
    House:
      type: object
      properties:
        contains: {type: array, items: {$ref: '#/components/schemas/Person'}}
    Empty: {title: Empty Schema, type: object}
"""


def test_oas3_yaml_with_circular_models_and_validators() -> None:
    api = parse_openapi(CIRCULAR)
    assert api.warnings == []
    assert api.validators == [
        {"name": "basic", "validateRequestBody": True, "validateRequestParameters": True},
        {"name": "params-only", "validateRequestBody": False, "validateRequestParameters": True},
    ]
    assert api.default_validator == "basic"
    models = {m["name"]: m for m in api.models}
    assert json.loads(models["House"]["schema"])["properties"]["contains"]["items"] == {
        "$ref": MODEL_URL_PREFIX + "Person"
    }
    assert json.loads(models["Person"]["schema"])["properties"]["house"] == {"$ref": MODEL_URL_PREFIX + "House"}
    assert models["Person"]["description"] == "Random person schema."


def test_oas3_request_body_model_and_default_validator() -> None:
    post = method(parse_openapi(CIRCULAR), "/person", "POST")
    assert post.method == {
        "authorizationType": "NONE",
        "apiKeyRequired": False,
        "operationName": "CreatePerson",
        "requestModels": {"application/json": "Person"},
        "requestValidatorName": "basic",
    }
    assert post.method_responses == {"200": {"responseModels": {"application/json": "Empty"}}}
    # YAML writes the status codes as integers; AWS stores strings (AWS-recorded: integer http status code)
    assert post.integration_responses == {"200": {"responseTemplates": {"application/json": '{"response": "mocked"}'}}}


def test_an_operation_validator_overrides_the_default() -> None:
    assert method(parse_openapi(CIRCULAR), "/people").method["requestValidatorName"] == "params-only"


def test_an_undefined_validator_is_a_warning_and_is_not_attached() -> None:
    doc = oas3({"/x": get(**{"x-amazon-apigateway-request-validator": "nope"})})
    api = parse_openapi(doc)
    assert "requestValidatorName" not in method(api, "/x").method
    assert api.warnings == [
        "Request validator 'nope' used by resource '/x' and method 'GET' is not defined in "
        "x-amazon-apigateway-request-validators; ignored"
    ]


def test_oas3_request_parameters_and_response_headers() -> None:
    operation = get(
        parameters=[
            {"name": "num", "in": "query", "required": True, "schema": {"type": "string"}},
            {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
            {"name": "session", "in": "cookie", "schema": {"type": "string"}},
        ],
        responses={"200": {"description": "ok", "headers": {"Access-Control-Allow-Origin": {"schema": {}}}}},
    )
    x = method(parse_openapi(oas3({"/x": operation})), "/x")
    assert x.method["requestParameters"] == {
        "method.request.querystring.num": True,
        "method.request.header.X-Trace": False,
    }
    header = "method.response.header.Access-Control-Allow-Origin"
    assert x.method_responses == {"200": {"responseParameters": {header: False}}}


# ---------------------------------------------------------------- any-method, greedy paths, auth


def test_any_method_gets_its_path_variable_even_when_undeclared() -> None:
    doc = oas3(
        {"/echo/{data}": {"x-amazon-apigateway-any-method": {"responses": {}, "x-amazon-apigateway-integration": MOCK}}}
    )
    echo = method(parse_openapi(doc), "/echo/{data}", "ANY")
    assert echo.http_method == "ANY"
    assert echo.method["requestParameters"] == {"method.request.path.data": True}


def test_greedy_proxy_path_with_a_lambda_proxy_integration() -> None:
    proxy = {
        "x-amazon-apigateway-any-method": {
            "parameters": [{"name": "proxy", "in": "path", "required": True, "type": "string"}],
            "x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": LAMBDA_URI},
        }
    }
    api = parse_openapi(swagger({"/{proxy+}": proxy, "/api/{proxy+}": {"get": {"responses": {}}}}))
    root_proxy = method(api, "/{proxy+}", "ANY")
    assert root_proxy.method["requestParameters"] == {"method.request.path.proxy": True}
    assert root_proxy.integration is not None
    # Lambda proxy integrations call with POST: the document may leave httpMethod out
    assert root_proxy.integration["integrationHttpMethod"] == "POST"
    assert root_proxy.integration["type"] == "AWS_PROXY"
    assert "requestParameters" not in method(api, "/api/{proxy+}").method  # greedy variables are not added


def test_an_x_api_key_scheme_requires_an_api_key() -> None:
    # AWS-recorded: test_import_and_validate_rest_api[openapi.spec.tf.json]/method-root-get
    doc = oas3(
        {"/x": get(security=[{"api_key": []}])},
        components={"securitySchemes": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}},
    )
    x = method(parse_openapi(doc), "/x")
    assert x.method["apiKeyRequired"] is True


def authorized_document(authorizer: dict[str, Any]) -> Any:
    return oas3(
        {"/pets": get(MOCK)},
        security=[{"GatewayAuthorizer": []}],
        components={
            "securitySchemes": {
                "GatewayAuthorizer": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": authorizer,
                }
            }
        },
        **{"x-amazon-apigateway-api-key-source": "authorizer"},
    )


def test_lambda_authorizers_are_imported_and_cognito_ones_are_a_warning() -> None:
    api = parse_openapi(authorized_document({"type": "request", "authorizerUri": LAMBDA_URI}))
    pets = method(api, "/pets").method
    assert (pets["authorizationType"], pets["authorizerName"]) == ("CUSTOM", "GatewayAuthorizer")
    assert api.api_key_source == "AUTHORIZER"
    assert api.warnings == []
    assert api.authorizers == [{"name": "GatewayAuthorizer", "type": "REQUEST", "authorizerUri": LAMBDA_URI,
                                "authorizerResultTtlInSeconds": 300, "identitySource": "method.request.header."
                                "Authorization", "authType": "custom"}]
    cognito = parse_openapi(authorized_document({"type": "cognito_user_pools", "providerARNs": ["arn:x"]}))
    assert method(cognito, "/pets").method["authorizationType"] == "NONE" and cognito.authorizers == []
    assert cognito.warnings == [
        "x-amazon-apigateway-authorizer 'GatewayAuthorizer' is not supported by Lambdalite and was ignored: "
        "Cognito authorizers are not supported; methods using it are imported with authorizationType NONE"
    ]


def test_sigv4_and_the_auth_extension_give_aws_iam() -> None:
    doc = swagger(
        {
            "/a": get(security=[{"sigv4": []}]),
            "/b": get(**{"x-amazon-apigateway-auth": {"type": "aws_iam"}}),
        },
        securityDefinitions={
            "sigv4": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "awsSigv4",
            }
        },
    )
    api = parse_openapi(doc)
    assert method(api, "/a").method["authorizationType"] == "AWS_IAM"
    assert method(api, "/b").method["authorizationType"] == "AWS_IAM"


# ------------------------------------------------------------------------------- API-level fields


def test_binary_media_types_compression_and_endpoint_types() -> None:
    doc = swagger(
        {"/x": get(MOCK)},
        **{
            "x-amazon-apigateway-binary-media-types": ["image/png", "image/jpg"],
            "x-amazon-apigateway-minimum-compression-size": 1024,
            "x-amazon-apigateway-endpoint-configuration": {"types": ["regional"]},
            "x-amazon-apigateway-importexport-version": "1.0",
        },
    )
    api = parse_openapi(doc)
    assert api.binary_media_types == ["image/png", "image/jpg"]
    assert (api.minimum_compression_size, api.endpoint_types, api.warnings) == (1024, ["REGIONAL"], [])


def test_api_level_defaults() -> None:
    api = parse_openapi(swagger({}))
    assert (api.binary_media_types, api.api_key_source, api.minimum_compression_size, api.endpoint_types) == (
        [],
        None,
        None,
        None,
    )
    assert (api.models, api.validators, api.default_validator) == ([], [], None)


def test_yaml_values_become_the_strings_aws_stores() -> None:
    api = parse_openapi("swagger: '2.0'\ninfo: {title: 42, version: 2017-04-20}\npaths: {}\n")
    assert (api.name, api.version) == ("42", "2017-04-20")


def test_empty_paths_import_an_api_with_only_its_root() -> None:
    api = parse_openapi(swagger({}), fail_on_warnings=True)
    assert api.resources == [] and api.warnings == []


def test_a_document_without_paths_imports_with_a_warning() -> None:
    api = parse_openapi('{"openapi": "3.0.1", "info": {"title": "t"}}')
    assert api.resources == []
    assert api.warnings == ["Parse issue: attribute paths is missing"]


# ----------------------------------------------------------------------------- parameters, $ref


def test_path_level_parameters_merge_into_operations_and_can_be_overridden() -> None:
    doc = swagger(
        {
            "/items/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "type": "string"},
                    {"name": "q", "in": "query", "required": True, "type": "string"},
                ],
                "get": {"parameters": [{"name": "q", "in": "query", "required": False, "type": "string"}]},
                "delete": {},
            }
        }
    )
    api = parse_openapi(doc)
    assert method(api, "/items/{id}").method["requestParameters"] == {
        "method.request.path.id": True,
        "method.request.querystring.q": False,
    }
    assert method(api, "/items/{id}", "DELETE").method["requestParameters"] == {
        "method.request.path.id": True,
        "method.request.querystring.q": True,
    }


def test_parameter_refs_resolve_in_both_versions() -> None:
    v2 = swagger(
        {"/x": get(parameters=[{"$ref": "#/parameters/Num"}])},
        parameters={"Num": {"name": "num", "in": "query", "required": True, "type": "string"}},
    )
    v3 = oas3(
        {"/x": get(parameters=[{"$ref": "#/components/parameters/Num"}])},
        components={"parameters": {"Num": {"name": "num", "in": "query", "required": True}}},
    )
    for doc in (v2, v3):
        api = parse_openapi(doc)
        assert method(api, "/x").method["requestParameters"] == {"method.request.querystring.num": True}


def test_a_missing_model_reference_is_a_warning() -> None:
    doc = oas3(
        {
            "/update": get(
                responses={
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}},
                    }
                }
            )
        }
    )
    api = parse_openapi(doc)
    assert method(api, "/update").method_responses == {"200": {}}
    # the wording of AWS's HTTP API importer (moto's apigatewayv2 tests copy it)
    assert api.warnings == [
        "Parse issue: attribute paths.'/update'(get).responses.200.content.schema.#/components/schemas/Nope is missing"
    ]


def test_a_default_method_response_is_ignored_with_a_warning() -> None:
    api = parse_openapi(swagger({"/x": get(responses={"default": {"description": "error"}})}))
    assert method(api, "/x").method_responses == {}
    assert api.warnings == [
        "Method response 'default' of resource '/x' and method 'GET' ignored: "
        "API Gateway status codes match [1-5]\\d\\d"
    ]


# --------------------------------------------------------------------------------- integrations


def test_integration_responses_are_keyed_by_status_with_the_pattern_inside() -> None:
    integration = {
        "type": "aws",
        "httpMethod": "POST",
        "uri": LAMBDA_URI,
        "contentHandling": "convert_to_text",
        "timeoutInMillis": 5000,
        "cacheKeyParameters": ["method.request.querystring.num"],
        "credentials": "arn:aws:iam::000000000000:role/apigw",
        "responses": {
            "default": {"statusCode": "200"},
            ".*Bad.*": {
                "statusCode": "400",
                "responseTemplates": {"application/json": "$input.path('$.errorMessage')"},
            },
            ".*Boom.*": {"statusCode": 500, "contentHandling": "CONVERT_TO_BINARY"},
        },
    }
    api = parse_openapi(swagger({"/x": get(integration)}))
    x = method(api, "/x")
    assert x.integration is not None
    assert (x.integration["contentHandling"], x.integration["timeoutInMillis"]) == ("CONVERT_TO_TEXT", 5000)
    assert x.integration["cacheKeyParameters"] == ["method.request.querystring.num"]
    assert x.integration["credentials"] == "arn:aws:iam::000000000000:role/apigw"
    assert x.integration_responses == {
        "200": {},
        "400": {
            "selectionPattern": ".*Bad.*",
            "responseTemplates": {"application/json": "$input.path('$.errorMessage')"},
        },
        "500": {"selectionPattern": ".*Boom.*", "contentHandling": "CONVERT_TO_BINARY"},
    }


def test_a_method_without_integration_imports_without_one() -> None:
    x = method(parse_openapi(swagger({"/x": get()})), "/x")
    assert (x.integration, x.integration_responses) == (None, {})


def test_stage_variables_in_uris_are_left_as_they_are() -> None:
    http = {"type": "http_proxy", "httpMethod": "ANY", "uri": "https://${stageVariables.TestHost}/path"}
    lam = {"type": "aws", "httpMethod": "POST", "uri": LAMBDA_URI.replace("addfive", "${stageVariables.fn}")}
    api = parse_openapi(swagger({"/h": get(http), "/l": get(lam)}), fail_on_warnings=True)
    assert integration_of(api, "/h")["uri"] == "https://${stageVariables.TestHost}/path"
    assert "${stageVariables.fn}" in integration_of(api, "/l")["uri"]


def test_a_non_string_request_parameter_is_dropped_with_aws_warning() -> None:
    integration = {
        **MOCK,
        "requestParameters": {
            "integration.request.header.X-Amz-Invocation-Type": "'Event'",
            "integration.request.header.nothing": True,
        },
    }
    doc = oas3({"/test": get(integration)}, servers=[{"url": "https://testdomain.com/base-url/part/"}])
    api = parse_openapi(doc, base_path="split")
    assert integration_of(api, "/part/test")["requestParameters"] == {
        "integration.request.header.X-Amz-Invocation-Type": "'Event'"
    }
    # AWS-recorded: test_import_rest_api_with_base_path_oas30[split]/put-rest-api-oas30-srv-url
    assert api.warnings == [
        "Invalid format for 'requestParameters'. Expected type string for property "
        "'integration.request.header.nothing' of resource '/part/test' and method 'GET' but got 'true'"
    ]


def test_fail_on_warnings_turns_warnings_into_the_error() -> None:
    integration = {**MOCK, "requestParameters": {"integration.request.header.nothing": True}}
    message = import_error(oas3({"/test": get(integration)}), fail_on_warnings=True)
    assert message == (
        "Warnings found during import:\n\tInvalid format for 'requestParameters'. Expected type string for "
        "property 'integration.request.header.nothing' of resource '/test' and method 'GET' but got 'true'"
    )


def test_the_error_is_a_400_bad_request() -> None:
    with pytest.raises(BadRequestException) as caught:
        parse_openapi("{'key:value}")
    assert (caught.value.status, caught.value.code, caught.value.body()) == (
        400,
        "BadRequestException",
        {"message": "Invalid OpenAPI input."},
    )


# ------------------------------------------------------------------------------------ base path


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(None, ["/test"]), ("ignore", ["/test"]), ("prepend", ["/base/test"]), ("split", ["/test"])],
)
def test_swagger_base_path_modes(mode: str | None, expected: list[str]) -> None:
    # AWS-recorded: test_import_rest_apis_with_base_path_swagger[ignore|prepend|split]
    assert paths(parse_openapi(swagger({"/test": get(MOCK)}, basePath="/base"), base_path=mode)) == expected


def test_prepend_keeps_every_part_of_a_long_base_path() -> None:
    # Terraform's acceptance test: basePath /foo/bar/baz prepended gives /foo/bar/baz/test (parents implied)
    doc = swagger({"/test": get(MOCK), "/": get(MOCK)}, basePath="/foo/bar/baz")
    assert paths(parse_openapi(doc, base_path="prepend")) == ["/foo/bar/baz/test", "/foo/bar/baz"]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("ignore", "/test"), ("prepend", "/base-url/part/test"), ("split", "/part/test")],
)
def test_oas3_server_url_base_path_modes(mode: str, expected: str) -> None:
    # AWS-recorded: test_import_rest_api_with_base_path_oas30[...]/get-resources-oas30-srv-url
    doc = oas3({"/test": get(MOCK)}, servers=[{"url": "https://testdomain.com/base-url/part/"}])
    assert paths(parse_openapi(doc, base_path=mode)) == [expected]


@pytest.mark.parametrize(("mode", "expected"), [("ignore", "/test"), ("prepend", "/base-var/test"), ("split", "/test")])
def test_oas3_base_path_variable_wins_even_when_the_url_does_not_use_it(mode: str, expected: str) -> None:
    # AWS-recorded: test_import_rest_api_with_base_path_oas30[...]/get-resources-oas30-srv-var
    servers = [{"url": "https://testdomain.com", "variables": {"basePath": {"default": "/base-var"}}}]
    assert paths(parse_openapi(oas3({"/test": get(MOCK)}, servers=servers), base_path=mode)) == [expected]


def test_oas3_server_url_variables_take_their_defaults() -> None:
    servers = [
        {"url": "https://{host}/api/{version}", "variables": {"host": {"default": "h"}, "version": {"default": "v1"}}}
    ]
    assert paths(parse_openapi(oas3({"/test": get(MOCK)}, servers=servers), base_path="prepend")) == ["/api/v1/test"]


def test_an_unknown_basepath_or_mode_is_refused() -> None:
    assert import_error(swagger({}), base_path="append") == (
        "Invalid basepath specified: append. Must be one of: [ignore, prepend, split]"
    )
    assert import_error(swagger({}), mode="replace") == (
        "Invalid mode specified: replace. Must be one of: [import, merge, overwrite]"
    )


# ---------------------------------------------------------------------------- broken documents


@pytest.mark.parametrize(
    "document",
    [
        # the two bodies AWS answered "Invalid OpenAPI input." (AWS-recorded: test_import_api_bad_file)
        'test:\n    value:\n        - "value ... "escaped": $var, "dt": $(var +"%a")}"\n        ',
        "{'key:value}",
        b"\xff\xfe\x00garbage",
        "",
        "just a string",
        "[1, 2, 3]",
        '{"info": {"title": "no version key"}, "paths": {}}',
        '{"swagger": "1.2", "info": {"title": "t"}, "paths": {}}',
        '{"openapi": "2.0", "info": {"title": "t"}, "paths": {}}',
        "a: &a [*a]",  # a YAML alias that contains itself
        "\n".join(
            ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
            + [
                f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
                for p, c in zip("abcdefg", "bcdefgh", strict=True)
            ]
        ),
    ],
)
def test_unreadable_documents_are_invalid_openapi_input(document: str | bytes) -> None:
    assert import_error(document) == "Invalid OpenAPI input."


def test_integration_errors_carry_putintegrations_texts() -> None:
    def with_integration(path: str, integration: dict[str, Any]) -> dict[str, Any]:
        return {path: get(integration)}

    doc = swagger(
        {
            **with_integration("/type", {"type": "lambda"}),
            **with_integration("/aws-method", {"type": "aws", "uri": LAMBDA_URI}),
            **with_integration("/http-method", {"type": "http", "uri": "https://example.com"}),
            **with_integration("/not-arn", {"type": "aws", "httpMethod": "POST", "uri": "function:addfive"}),
            **with_integration(
                "/no-path", {"type": "aws", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:lambda:foo"}
            ),
            **with_integration("/s3-proxy", {"type": "aws_proxy", "uri": "arn:aws:apigateway:us-east-1:s3:path/b/k"}),
            **with_integration("/bad-http", {"type": "http", "httpMethod": "GET", "uri": "example.com"}),
            **with_integration("/timeout", {**MOCK, "timeoutInMillis": 30}),
            **with_integration("/passthrough", {**MOCK, "passthroughBehavior": "sometimes"}),
        }
    )
    assert errors_of(doc) == [
        "Unable to put integration on 'GET' for resource at path '/type': 1 validation error detected: Value "
        "'LAMBDA' at 'putIntegrationInput.type' failed to satisfy constraint: Member must satisfy enum value set: "
        "[HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]",
        "Unable to put integration on 'GET' for resource at path '/aws-method': "
        "Enumeration value for HttpMethod must be non-empty",
        "Unable to put integration on 'GET' for resource at path '/http-method': "
        "Enumeration value for HttpMethod must be non-empty",
        "Unable to put integration on 'GET' for resource at path '/not-arn': Invalid ARN specified in the request",
        "Unable to put integration on 'GET' for resource at path '/no-path': "
        "AWS ARN for integration must contain path or action",
        "Unable to put integration on 'GET' for resource at path '/s3-proxy': Integrations of type 'AWS_PROXY' "
        "currently only supports Lambda function and Firehose stream invocations.",
        "Unable to put integration on 'GET' for resource at path '/bad-http': Invalid HTTP endpoint specified for URI",
        "Unable to put integration on 'GET' for resource at path '/timeout': "
        "Timeout should be between 50 ms and 29000 ms",
        "Unable to put integration on 'GET' for resource at path '/passthrough': "
        "Invalid passthrough behavior specified: SOMETIMES",
    ]


def test_import_accepts_what_putintegration_accepts() -> None:
    """One set of rules (PutIntegration's): a timeout above 29 s (allowed since June 2024, reference 1.5)
    and an AWS_PROXY integration to Firehose import as PutIntegration accepts them."""
    firehose = "arn:aws:apigateway:us-east-1:firehose:action/PutRecord"
    doc = swagger({"/long": get({**MOCK, "timeoutInMillis": 60000}),
                   "/stream": get({"type": "aws_proxy", "httpMethod": "POST", "uri": firehose})})
    api = parse_openapi(doc)
    integrations = {r.path: r.methods["GET"].integration for r in api.resources}
    assert integrations["/long"]["timeoutInMillis"] == 60000   # type: ignore[index]
    assert integrations["/stream"]["uri"] == firehose           # type: ignore[index]


def test_model_names_must_be_alphanumeric() -> None:
    doc = swagger({}, definitions={"Pet_Type": {"type": "string"}, "Good": {"type": "object"}})
    assert errors_of(doc) == ["Unable to create model for 'Pet_Type': Model name must be alphanumeric: Pet_Type"]


def test_resource_tree_errors_use_createresources_texts() -> None:
    doc = swagger({"/a/{proxy+}/b": get(MOCK), "/c/{x}": get(MOCK), "/c/{y}/d": get(MOCK)})
    assert errors_of(doc) == [
        "Unable to create resource at path '/a/{proxy+}/b': "
        "Cannot create a child of a resource with a greedy path variable: {proxy+}",
        "Unable to create resource at path '/c/{y}': "
        "A sibling ({x}) of this resource already has a variable path part -- only one is allowed",
    ]


def test_api_level_errors() -> None:
    doc = json.dumps({"swagger": "2.0", "info": {}, "paths": {}, "x-amazon-apigateway-minimum-compression-size": -1})
    assert errors_of(doc) == [
        "Parse issue: attribute info.title is missing",
        "Invalid minimum compression size, must be between 0 and 10485760",
    ]


# -------------------------------------------------------------------- what Lambdalite cannot do


def test_every_unsupported_extension_is_one_warning() -> None:
    doc = oas3(
        {
            "/x": {
                "get": {
                    "responses": {},
                    "x-amazon-apigateway-integration": {**MOCK, "payloadFormatVersion": "2.0"},
                    "x-amazon-apigateway-throttle": {"rate": 1},
                },
                "trace": {"responses": {}},
            },
            "relative": {"get": {"responses": {}}},
        },
        components={"invalid_key_will_warn": "a_value", "x-amazon-apigateway-integrations": {}},
        **{
            "x-amazon-apigateway-gateway-responses": {"DEFAULT_4XX": {}},
            "x-amazon-apigateway-policy": {"Version": "2012-10-17"},
            "x-amazon-apigateway-documentation": {"version": "1"},
            "x-amazon-apigateway-cors": {"allowOrigins": ["*"]},
            "x-amazon-apigateway-endpoint-configuration": {"types": ["REGIONAL"], "vpcEndpointIds": ["vpce-1"]},
            "x-amazon-apigateway-future": True,
            "x-company-owned": "kept quiet",
        },
    )
    api = parse_openapi(doc)
    ignored = "is not supported by Lambdalite and was ignored"
    assert api.warnings == [
        f"x-amazon-apigateway-gateway-responses {ignored}: "
        "custom gateway responses are not supported; the default ones are used",
        f"x-amazon-apigateway-policy {ignored}: resource policies are not supported; the API is open to every caller",
        f"x-amazon-apigateway-documentation {ignored}: documentation parts are not stored",
        f"x-amazon-apigateway-cors {ignored}: it configures HTTP APIs (v2) only",
        f"x-amazon-apigateway-future {ignored}: this extension is not supported",
        "Parse issue: attribute components.invalid_key_will_warn is unexpected",
        f"components.x-amazon-apigateway-integrations {ignored}: reusable integrations belong to HTTP APIs (v2) only",
        f"x-amazon-apigateway-endpoint-configuration.vpcEndpointIds {ignored}: only types is kept",
        f"x-amazon-apigateway-throttle on resource '/x' and method 'GET' {ignored}: not supported",
        f"x-amazon-apigateway-integration.payloadFormatVersion on resource '/x' and method 'GET' {ignored}: ignored",
        "Method TRACE on path '/x' is not supported by API Gateway; ignored",
        "Parse issue: attribute paths. Resource relative should start with /",
    ]
    assert paths(api) == ["/x"] and list(api.resources[0].methods) == ["GET"]
    assert api.endpoint_types == ["REGIONAL"]


def test_unsupported_extensions_fail_the_import_with_fail_on_warnings() -> None:
    doc = swagger({"/x": get(MOCK)}, **{"x-amazon-apigateway-policy": {}})
    assert import_error(doc, fail_on_warnings=True).startswith(
        "Warnings found during import:\n\tx-amazon-apigateway-policy is not supported by Lambdalite"
    )


def test_two_patterns_for_one_status_keep_the_last_with_a_warning() -> None:
    integration = {**MOCK, "responses": {"default": {"statusCode": "200"}, ".*x.*": {"statusCode": "200"}}}
    api = parse_openapi(swagger({"/x": get(integration)}))
    assert method(api, "/x").integration_responses == {"200": {"selectionPattern": ".*x.*"}}
    assert api.warnings == [
        "Integration responses of resource '/x' and method 'GET' both use status code 200; "
        "the one for pattern '.*x.*' was kept"
    ]
