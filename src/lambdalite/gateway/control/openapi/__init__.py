"""OpenAPI 2.0 (Swagger) and 3.0 documents -> the calls ImportRestApi / PutRestApi make. Pure: no I/O.

``parse_openapi(document, mode=, fail_on_warnings=, base_path=)`` reads a JSON or YAML document and
answers an ``ImportedApi``: the RestApi fields, the models, the request validators and one
``ImportedResource`` per path, each method holding the bodies of PutMethod, PutMethodResponse,
PutIntegration and PutIntegrationResponse in the shapes boto3's ``apigateway`` client sends. The
management service applies them (creating missing parent resources, mapping validator names to ids,
and substituting ``REST_API_ID_PLACEHOLDER`` in model schemas with ``bind_rest_api_id``); merge versus
overwrite is its business too, ``mode`` only has to be a valid value here.

A broken document raises ``OpenApiImportError`` (400 BadRequestException) with AWS's text:
- not JSON/YAML, not a mapping, or neither ``swagger: "2.0"`` nor ``openapi: 3.x`` ->
  ``Invalid OpenAPI input.`` (AWS-recorded: LocalStack import snapshot ``test_import_api_bad_file``);
- errors -> ``Errors found during import:\\n\\t<error>\\n\\t<error>`` where an error is, for example,
  ``Unable to put integration on 'GET' for resource at path '/x': <PutIntegration's own text>``;
- warnings with ``fail_on_warnings`` -> ``Warnings found during import:\\n\\t<warning>...``.
Without ``fail_on_warnings`` the warnings come back in ``ImportedApi.warnings`` (AWS returns them as
the ``warnings`` member of the RestApi). Every extension Lambdalite cannot honour (authorizers,
gateway responses, resource policies, documentation, HTTP-API-only extensions) is one warning.
"""

from __future__ import annotations

from .document import apply_base_mode, check_choice, load_document, spec_version
from .model import (
    MODEL_URL_PREFIX,
    REST_API_ID_PLACEHOLDER,
    ImportedApi,
    ImportedMethod,
    ImportedResource,
    OpenApiImportError,
    bind_rest_api_id,
)
from .reader import Importer

__all__ = [
    "MODEL_URL_PREFIX",
    "REST_API_ID_PLACEHOLDER",
    "ImportedApi",
    "ImportedMethod",
    "ImportedResource",
    "OpenApiImportError",
    "bind_rest_api_id",
    "load_document",
    "parse_openapi",
]


def parse_openapi(
    document: bytes | str, *, mode: str = "overwrite", fail_on_warnings: bool = False, base_path: str | None = None
) -> ImportedApi:
    """Parse an OpenAPI 2.0/3.0 document (JSON or YAML) the way ImportRestApi / PutRestApi read it.

    ``base_path`` is the ``basepath`` import parameter: ``ignore`` (default), ``prepend`` or ``split``.
    """
    check_choice("mode", mode, ("import", "merge", "overwrite"))
    base_mode = base_path or "ignore"
    check_choice("basepath", base_mode, ("ignore", "prepend", "split"))
    doc = load_document(document)
    importer = Importer(doc, spec_version(doc))
    api = importer.run(apply_base_mode(importer.document_base_path(), base_mode))
    if importer.errors:
        raise OpenApiImportError("Errors found during import:\n\t" + "\n\t".join(importer.errors))
    if fail_on_warnings and api.warnings:
        raise OpenApiImportError("Warnings found during import:\n\t" + "\n\t".join(api.warnings))
    return api
