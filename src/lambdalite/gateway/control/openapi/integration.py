"""x-amazon-apigateway-integration -> the PutIntegration and PutIntegrationResponse bodies. Pure."""

from __future__ import annotations

from typing import Any

from ....errors import ServiceError
from ..shapes import DEFAULT_TIMEOUT_MS, check_integration
from .document import dict_of, strings, text_of, upper
from .model import Operation


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

    def build(self) -> dict[str, Any]:
        """PutIntegration's body; each problem PutIntegration's own rules find is an import error."""
        kind = upper(self.spec.get("type")) or str(self.spec.get("type"))
        body: dict[str, Any] = {"type": kind}
        method = self.spec.get("httpMethod")
        if not method and kind == "AWS_PROXY":
            method = "POST"  # Lambda proxy integrations only ever call with POST
        if method:
            body["integrationHttpMethod"] = str(method).upper()
        if self.spec.get("uri") is not None:
            body["uri"] = str(self.spec["uri"])
        self._copy_optional(body)
        body["passthroughBehavior"] = upper(self.spec.get("passthroughBehavior")) or "WHEN_NO_MATCH"
        body["timeoutInMillis"] = self.spec.get("timeoutInMillis", DEFAULT_TIMEOUT_MS)
        body["cacheKeyParameters"] = strings(self.spec.get("cacheKeyParameters"))
        if kind in ("HTTP", "HTTP_PROXY"):
            body.setdefault("connectionType", "INTERNET")  # AWS-recorded: import test_import_swagger_api
        try:
            check_integration(body)
        except ServiceError as e:
            self.fail(e.message)
        return body

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
