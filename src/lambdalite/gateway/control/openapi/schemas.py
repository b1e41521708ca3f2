"""Models (definitions / components.schemas) and local references of an OpenAPI document: the part
of the reader that turns schemas into API Gateway models with absolute model URLs. Pure."""

from __future__ import annotations

import json
import re
from typing import Any

from .document import pointer, unescape
from .model import JSON, MODEL_URL_PREFIX


class Schemas:
    """Mixed into the reader: needs `doc`, `version`, `model_sources`, `errors`, `warnings`."""

    doc: dict[str, Any]
    version: int
    model_sources: dict[str, Any]
    errors: list[str]
    warnings: list[str]

    # ---- models

    def _models(self) -> list[dict[str, Any]]:
        section = "definitions" if self.version == 2 else "components.schemas"
        models = []
        for name, schema in self.model_sources.items():
            if not re.fullmatch(r"[A-Za-z0-9]+", name):
                # AWS's text, as its importer reported it (api-platform/core#3193)
                self.errors.append(f"Unable to create model for '{name}': Model name must be alphanumeric: {name}")
                continue
            if not isinstance(schema, dict):
                self.warnings.append(f"Parse issue: attribute {section}.{name} is not of type `object`")
                continue
            model = {"name": name, "contentType": JSON, "schema": json.dumps(self._absolute_refs(schema, name))}
            if isinstance(schema.get("description"), str):
                model["description"] = schema["description"]
            models.append(model)
        return models

    def _absolute_refs(self, value: Any, model: str) -> Any:
        """A schema whose references to other models are the absolute model URLs API Gateway stores."""
        if isinstance(value, list):
            return [self._absolute_refs(v, model) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: self._absolute_refs(v, model) for k, v in value.items()}
        ref = value.get("$ref")
        if isinstance(ref, str):
            target = self._model_of_ref(ref, f"model {model}")
            if target is not None:
                out["$ref"] = MODEL_URL_PREFIX + target
        return out

    def _model_of_ref(self, ref: str, where: str) -> str | None:
        prefix = "#/definitions/" if self.version == 2 else "#/components/schemas/"
        if not ref.startswith(prefix) or "/" in ref[len(prefix) :]:
            self.warnings.append(f"Parse issue: {where}: reference {ref} is not a model; kept as is")
            return None
        name = unescape(ref[len(prefix) :])
        if name not in self.model_sources:
            self.warnings.append(f"Parse issue: attribute {where}.schema.{ref} is missing")
            return None
        return name

    def _schema_model(self, schema: Any, where: str) -> str | None:
        """The model name a request or response schema refers to; inline schemas get no model (as on AWS)."""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            return self._model_of_ref(schema["$ref"], where)
        return None

    # ---- references

    def _resolve(self, value: Any, where: str) -> dict[str, Any] | None:
        """Follow local ``$ref`` chains (parameters, responses, request bodies, path items)."""
        seen: set[str] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if not ref.startswith("#/") or ref in seen:
                self.warnings.append(f"Parse issue: {where}: reference {ref} cannot be resolved; ignored")
                return None
            seen.add(ref)
            value = pointer(self.doc, ref)
            if value is None:
                self.warnings.append(f"Parse issue: attribute {where}.{ref} is missing")
                return None
        return value if isinstance(value, dict) else None
