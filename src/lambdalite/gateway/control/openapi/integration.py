"""x-amazon-apigateway-integration -> the PutIntegration and PutIntegrationResponse bodies. Pure."""

from __future__ import annotations

import re
from typing import Any

from .document import dict_of, strings, text_of, upper
from .model import INTEGRATION_TYPES, PASSTHROUGH, Operation


class IntegrationBuilder:
    """x-amazon-apigateway-integration -> PutIntegration and PutIntegrationResponse bodies."""

    def __init__(self, op: Operation, spec: dict[str, Any]) -> None:
        self.op = op
        self.spec = spec
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def fail(self, text: str) -> None:
        # AWS's wrapper around PutIntegration's own message (CloudFormation reports; Testlio/lambda-tools#56)
        where = f"'{self.op.verb}' for resource at path '{self.op.path}'"
        self.errors.append(f"Unable to put integration on {where}: {text}")

    def build(self) -> dict[str, Any] | None:
        kind = upper(self.spec.get("type")) or ""
        if kind not in INTEGRATION_TYPES:
            self.fail(f"Invalid integration type specified: {self.spec.get('type')}")
            return None
        body: dict[str, Any] = {"type": kind}
        self._http_method(kind, body)
        uri = self.spec.get("uri")
        if kind != "MOCK" and (problem := _uri_problem(kind, str(uri or ""))):
            self.fail(problem)
        if uri is not None:
            body["uri"] = str(uri)
        self._copy_optional(body)
        body["passthroughBehavior"] = self._passthrough()
        body["timeoutInMillis"] = self._timeout()
        body["cacheKeyParameters"] = strings(self.spec.get("cacheKeyParameters"))
        if kind in ("HTTP", "HTTP_PROXY"):
            body.setdefault("connectionType", "INTERNET")  # AWS-recorded: import test_import_swagger_api
        return body

    def _http_method(self, kind: str, body: dict[str, Any]) -> None:
        method = self.spec.get("httpMethod")
        if not method and kind == "AWS_PROXY":
            method = "POST"  # Lambda proxy integrations only ever call with POST
        if method:
            body["integrationHttpMethod"] = str(method).upper()
        elif kind != "MOCK":
            self.fail("Enumeration value for HttpMethod must be non-empty")  # AWS-recorded: integ snapshot

    def _copy_optional(self, body: dict[str, Any]) -> None:
        for key in ("credentials", "cacheNamespace", "connectionId"):
            if isinstance(self.spec.get(key), str):
                body[key] = self.spec[key]
        for key in ("contentHandling", "connectionType"):
            if value := upper(self.spec.get(key)):
                body[key] = value
        if isinstance(self.spec.get("tlsConfig"), dict):
            body["tlsConfig"] = self.spec["tlsConfig"]
        for key in ("requestParameters", "requestTemplates"):
            if (mapping := self.string_map(key, self.spec.get(key))) is not None:
                body[key] = mapping

    def string_map(self, field: str, raw: Any) -> dict[str, str] | None:
        """A map of strings; other values are dropped with AWS's warning (AWS-recorded: import oas30 srv-url)."""
        if not isinstance(raw, dict):
            return None
        out = {}
        for key, value in raw.items():
            if isinstance(value, str):
                out[key] = value
            else:
                self.warnings.append(
                    f"Invalid format for '{field}'. Expected type string for property '{key}' of resource "
                    f"'{self.op.path}' and method '{self.op.verb}' but got '{text_of(value)}'"
                )
        return out

    def _passthrough(self) -> str:
        value = upper(self.spec.get("passthroughBehavior")) or "WHEN_NO_MATCH"
        if value not in PASSTHROUGH:
            self.fail(f"Invalid passthrough behavior specified: {self.spec.get('passthroughBehavior')}")
        return value

    def _timeout(self) -> int:
        raw = self.spec.get("timeoutInMillis", 29000)
        try:
            timeout = int(raw)
        except (TypeError, ValueError):
            timeout = -1
        if isinstance(raw, bool) or not 50 <= timeout <= 29000:
            self.fail("Timeout should be between 50 ms and 29000 ms")  # AWS's text, as CloudFormation reports it
        return timeout

    def responses(self) -> dict[str, dict[str, Any]]:
        """Keyed by status code; in the document the KEY is the selection pattern and ``default`` means none."""
        out: dict[str, dict[str, Any]] = {}
        for pattern, raw in dict_of(self.spec.get("responses")).items():
            spec = dict_of(raw)
            status = text_of(spec.get("statusCode", 200))  # YAML documents may write 200, AWS stores "200"
            body: dict[str, Any] = {}
            if pattern != "default":
                body["selectionPattern"] = pattern
            for key in ("responseParameters", "responseTemplates"):
                if (mapping := self.string_map(key, spec.get(key))) is not None:
                    body[key] = mapping
            if value := upper(spec.get("contentHandling")):
                body["contentHandling"] = value
            if status in out:
                self.warnings.append(
                    f"Integration responses of resource '{self.op.path}' and method '{self.op.verb}' both use "
                    f"status code {status}; the one for pattern '{pattern}' was kept"
                )
            out[status] = body
        return out


_PROXY_TARGETS = "Lambda function and Firehose stream"


def _uri_problem(kind: str, uri: str) -> str | None:
    """PutIntegration's check of the URI, with its texts (AWS-recorded: integ test_put_integration_validation)."""
    if kind in ("HTTP", "HTTP_PROXY"):
        # `https://${stageVariables.host}` is accepted at put time (AWS-recorded)
        return None if re.match(r"https?://[^/\s]", uri, re.IGNORECASE) else "Invalid HTTP endpoint specified for URI"
    parts = uri.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "Invalid ARN specified in the request"
    service, resource = parts[4], parts[5]
    if not resource.startswith(("path", "action")):
        return "AWS ARN for integration must contain path or action"
    if kind == "AWS_PROXY" and (service != "lambda" or not resource.startswith("path/2015-03-31/functions/")):
        return f"Integrations of type 'AWS_PROXY' currently only supports {_PROXY_TARGETS} invocations."
    return None

