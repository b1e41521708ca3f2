"""The Lambda REST API (2015-03-31 and the other dated prefixes): parse, call the services, render.

Paths arrive percent-decoded from the ASGI server (`arn%3Aaws...` is `arn:aws...` here); query
values are decoded by parse_qsl. Invoke has a lane of its own (`invoke`) because it is the hot path.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qsl

from .. import errors
from ..functions import layers as layers_api
from ..functions.names import qualifier_of
from ..functions.policies import policy_document
from ..functions.service import FunctionService
from ..ids import request_id as new_request_id
from ..invoke.events import MAX_EVENT_BYTES, EventQueue
from ..invoke.invoker import SYNC_PAYLOAD_LIMIT, Invoker
from . import lambda_shapes as shapes
from .http import Receive, Request, Scope, Send, answer, read_body, read_request, send_error, send_response

INVOKE_LIMIT = SYNC_PAYLOAD_LIMIT   # bytes, RequestResponse
PAGE_LIMIT = 50                   # ListFunctions returns at most 50 per page
EVENT_CONFIG_PAGE_LIMIT = 50      # ListFunctionEventInvokeConfigs' MaxItems: 1 to 50
INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")
LOG_TYPES = ("None", "Tail")
FUNCTIONS = "/2015-03-31/functions"


class LambdaApi:
    def __init__(self, functions: FunctionService, invoker: Invoker, base_url: str,
                 events: EventQueue | None = None) -> None:
        self.functions = functions
        self.invoker = invoker
        self.base_url = base_url
        self.events = events

    # the hot path --------------------------------------------------------------------------
    async def invoke(self, scope: Scope, receive: Receive, send: Send, ref: str) -> None:
        """Invoke: only the three headers it reads are looked at, the query only when present."""
        body, too_large = await read_body(receive, INVOKE_LIMIT)
        kind, log_type, context_header = "RequestResponse", "None", None
        for key, value in scope["headers"]:
            if key.startswith(b"x-amz-"):
                if key == b"x-amz-invocation-type":
                    kind = value.decode("latin-1")
                elif key == b"x-amz-log-type":
                    log_type = value.decode("latin-1")
                elif key == b"x-amz-client-context":
                    context_header = value.decode("latin-1")
        query = scope["query_string"]
        qualifier = dict(parse_qsl(query.decode("latin-1"))).get("Qualifier") if query else None
        try:
            if too_large:
                raise errors.RequestTooLarge(
                    f"Request must be smaller than {INVOKE_LIMIT} bytes for the InvokeFunction operation")
            check_enum(kind, INVOCATION_TYPES, "invocationType")
            check_enum(log_type, LOG_TYPES, "logType")
            fn, invoked_arn = self.invoker.resolve(ref, qualifier or None)
            check_payload(body)
            if kind != "RequestResponse":
                await self._not_run(send, kind, fn, qualifier or qualifier_of(invoked_arn), body)
                return
            result = await self.invoker.invoke(fn, invoked_arn, body, client_context(context_header))
        except errors.ServiceError as e:
            await send_error(send, e, new_request_id())
            return
        await send_response(send, 200, result.body, result.headers(log_type == "Tail"))

    async def _not_run(self, send: Send, kind: str, fn: Any, qualifier: str | None, body: bytes) -> None:
        if kind == "DryRun":
            await send_response(send, 204, b"", [(b"x-amzn-requestid", new_request_id().encode())])
            return
        if self.events is None:
            raise errors.UnsupportedOperation("Asynchronous invocation is not available on this server.")
        if len(body) > MAX_EVENT_BYTES:
            raise errors.RequestTooLarge(f"{len(body)} byte payload is too large for the Event invocation type "
                                         f"(limit {MAX_EVENT_BYTES} bytes)")
        request_id = self.events.accept(fn.name, qualifier, body)   # committed to the store first
        await send_response(send, 202, b"", [(b"x-amzn-requestid", request_id.encode())])

    # everything else -----------------------------------------------------------------------
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits = self.functions.code.limits
        request, too_large = await read_request(scope, receive, limits.request)
        error = None if not too_large else limits.zipped_too_large()
        await answer(send, request, error, self.route)

    async def route(self, request: Request) -> tuple[int, Any]:
        parts = request.path.rstrip("/").split("/")[1:]
        method = request.method
        if parts[:2] == ["2015-03-31", "functions"]:
            return await self.functions_operation(request, parts[2:])
        if len(parts) == 4 and parts[1] == "functions" and parts[3] == "concurrency":
            return self.concurrency_operation(request, parts[0], parts[2])
        if parts[:2] == ["2019-09-25", "functions"] and len(parts) >= 4 and parts[3] == "event-invoke-config":
            return self.event_config_operation(request, parts[2], parts[4:])
        if parts[:2] == ["2019-09-30", "functions"] and len(parts) == 4 and parts[3] == "provisioned-concurrency":
            return self.provisioned_operation(request, parts[2])
        if len(parts) >= 3 and parts[0] == "2017-03-31" and parts[1] == "tags":
            return self.tags_operation(request, "/".join(parts[2:]))
        if parts == ["2016-08-19", "account-settings"] and method == "GET":
            return 200, self.account_settings()
        if parts[:2] == ["2018-10-31", "layers"]:
            return await self.layer_operation(request, parts[2:])
        raise errors.NotBuilt(f"Lambdalite does not support {method} {request.path} yet. Supported today: "
                       "functions (create, get, list, update code and configuration, delete), invoke "
                       "(RequestResponse, DryRun), versions, aliases, permissions, tags, reserved and "
                       "provisioned concurrency and layers; see docs/lambda-api.md.")

    async def functions_operation(self, request: Request, rest: list[str]) -> tuple[int, Any]:
        """Under /2015-03-31/functions."""
        if len(rest) == 1:
            return await self.function_operation(request, rest[0])
        if rest:
            return await self.function_sub_operation(request, rest[0], rest[1:])
        if request.method == "POST":
            return 201, await self.create_function(request)
        if request.method == "GET":
            return 200, self.list_functions(request)
        raise errors.NotBuilt(f"{request.method} {request.path} is not an operation Lambdalite knows.")

    async def function_operation(self, request: Request, ref: str) -> tuple[int, Any]:
        qualifier = request.query.get("Qualifier")
        if request.method == "GET":
            return 200, self.get_function(ref, qualifier)
        if request.method == "DELETE":
            self.functions.delete(ref, qualifier)
            return 204, None
        raise errors.NotBuilt(f"{request.method} {request.path} is not an operation Lambdalite knows.")

    async def function_sub_operation(self, request: Request, ref: str, rest: list[str]) -> tuple[int, Any]:
        method, what = request.method, rest[0]
        qualifier = request.query.get("Qualifier")
        if what == "configuration" and method == "GET":
            fn, q = self.functions.resolve(ref, qualifier)
            return 200, self.render(fn, q)
        if what == "configuration" and method == "PUT":
            return 200, self.render(self.functions.update_configuration(ref, request.json()), None)
        if what == "code" and method == "PUT":
            body = request.json()
            fn = await self.functions.update_code(ref, body)
            if body.get("Publish") is True:
                version = await self.functions.publish_when_settled(fn)
                return 200, shapes.being_created(version, self.functions.arn(fn.name, version.version),
                                                 self.functions.region)
            return 200, self.render(fn, None)
        if what == "policy":
            return self.policy_operation(request, ref, qualifier, rest[1:])
        if what == "versions" and len(rest) == 1:
            if method == "POST":
                version = self.functions.publish(ref, request.json())
                return 201, self.render(version, version.version)
            if method == "GET":
                return 200, self.list_versions(request, ref)
        if what == "aliases":
            return self.alias_operation(request, ref, rest[1:])
        raise errors.NotBuilt(f"Lambdalite does not support {method} {request.path} yet (async settings "
                       "are later work).")

    def policy_operation(self, request: Request, ref: str, qualifier: str | None,
                         rest: list[str]) -> tuple[int, Any]:
        if request.method == "POST" and not rest:
            statement = self.functions.add_permission(ref, qualifier, request.json())
            return 201, {"Statement": json.dumps(statement, separators=(",", ":"))}
        if request.method == "GET" and not rest:
            policy = self.functions.get_policy(ref, qualifier)
            return 200, {"Policy": policy_document(policy), "RevisionId": policy.revision_id}
        if request.method == "DELETE" and len(rest) == 1:
            self.functions.remove_permission(ref, qualifier, rest[0], request.query.get("RevisionId"))
            return 204, None
        raise errors.NotBuilt(f"{request.method} {request.path} is not an operation Lambdalite knows.")

    def concurrency_operation(self, request: Request, dated: str, ref: str) -> tuple[int, Any]:
        """Put/Delete under 2017-10-31, Get under 2019-09-30, as the SDKs send them."""
        method = request.method
        if dated == "2017-10-31" and method == "PUT":
            return 200, {"ReservedConcurrentExecutions": self.functions.put_concurrency(ref, request.json())}
        if dated == "2017-10-31" and method == "DELETE":
            self.functions.delete_concurrency(ref)
            return 204, None
        if dated == "2019-09-30" and method == "GET":
            reserved = self.functions.get_concurrency(ref)
            return 200, {} if reserved is None else {"ReservedConcurrentExecutions": reserved}
        raise errors.NotBuilt(f"{method} {request.path} is not a concurrency operation Lambdalite knows.")

    def event_config_operation(self, request: Request, ref: str, rest: list[str]) -> tuple[int, Any]:
        method, qualifier, fns = request.method, request.query.get("Qualifier"), self.functions
        if rest == ["list"] and method == "GET":   # pages of at most 50 (AWS's model)
            size = page_size(request.query.get("MaxItems"), EVENT_CONFIG_PAGE_LIMIT)
            configs = fns.list_event_configs(ref)
            keys = [q for _, _, q in configs]
            start = decode_marker(request.query["Marker"], keys) if request.query.get("Marker") else 0
            page = configs[start:start + size]
            out: dict[str, Any] = {"FunctionEventInvokeConfigs": [c.render(arn) for c, arn, _ in page]}
            if start + size < len(configs):
                out["NextMarker"] = base64.urlsafe_b64encode(keys[start + size - 1].encode()).decode()
            return 200, out
        if rest:
            raise errors.NotBuilt(f"{method} {request.path} is not an event invoke config operation Lambdalite knows.")
        if method in ("PUT", "POST"):   # Put replaces; Update (POST) merges
            config, arn = fns.put_event_config(ref, qualifier, request.json(), merge=method == "POST")
            return 200, config.render(arn)
        if method == "GET":
            config, arn = fns.get_event_config(ref, qualifier)
            return 200, config.render(arn)
        if method == "DELETE":
            fns.delete_event_config(ref, qualifier)
            return 204, None
        raise errors.NotBuilt(f"{method} {request.path} is not an event invoke config operation Lambdalite knows.")

    def provisioned_operation(self, request: Request, ref: str) -> tuple[int, Any]:
        method, qualifier, fns = request.method, request.query.get("Qualifier"), self.functions
        if method == "GET" and request.query.get("List") == "ALL":
            configs = fns.list_provisioned(ref)
            return 200, {"ProvisionedConcurrencyConfigs": [
                shapes.provisioned(c, fns.arn(c.function, c.qualifier)) for c in configs]}
        if method == "PUT":
            return 202, shapes.provisioned(fns.put_provisioned(ref, qualifier, request.json()))
        if method == "GET":
            return 200, shapes.provisioned(fns.get_provisioned(ref, qualifier))
        if method == "DELETE":
            fns.delete_provisioned(ref, qualifier)
            return 204, None
        raise errors.NotBuilt(f"{method} {request.path} is not a provisioned concurrency operation Lambdalite knows.")

    async def layer_operation(self, request: Request, rest: list[str]) -> tuple[int, Any]:
        book, method = self.functions.layers, request.method
        if not rest and method == "GET":
            if request.query.get("find") == "LayerVersion":
                return 200, self.render_layer(book.by_arn(request.query.get("Arn", "")))
            layers = book.latest(request.query.get("CompatibleRuntime"), request.query.get("CompatibleArchitecture"))
            return 200, {"Layers": [{"LayerName": v.name, "LayerArn": book.layer_arn(v.name),
                                     "LatestMatchingVersion": layers_api.list_item(book, v)} for v in layers]}
        if len(rest) == 2 and rest[1] == "versions":
            if method == "POST":
                return 201, self.render_layer(await book.publish(rest[0], request.json()))
            if method == "GET":
                versions = book.versions(rest[0], request.query.get("CompatibleRuntime"),
                                         request.query.get("CompatibleArchitecture"))
                return 200, {"LayerVersions": [layers_api.list_item(book, v) for v in versions]}
        if len(rest) == 3 and rest[1] == "versions":
            number = layer_version_number(rest[2])
            if method == "GET":
                return 200, self.render_layer(book.get(rest[0], number))
            if method == "DELETE":
                book.delete(rest[0], number)
                return 204, None
        raise errors.NotBuilt(f"{method} {request.path} is not a layer operation Lambdalite knows.")

    def render_layer(self, layer: Any) -> dict[str, Any]:
        location = f"{self.base_url}/_lambdalite/code/{layer.code_hex}.zip"
        return layers_api.render(self.functions.layers, layer, location)

    # operations ----------------------------------------------------------------------------
    async def create_function(self, request: Request) -> dict[str, Any]:
        body = request.json()
        fn = await self.functions.create(body)
        if body.get("Publish") is True:   # the version, under the function's unqualified ARN (AWS-recorded)
            version = await self.functions.publish_when_settled(fn)
            return shapes.being_created(version, self.functions.arn(fn.name), self.functions.region)
        return shapes.configuration(fn, self.functions.arn(fn.name), self.functions.region, creating=True)

    def list_versions(self, request: Request, ref: str) -> dict[str, Any]:
        size = page_size(request.query.get("MaxItems"))
        versions = self.functions.versions(ref)
        keys = [f"{int(v.version):010d}" if v.version.isdigit() else "" for v in versions]   # sorts as listed
        start = decode_marker(request.query["Marker"], keys) if request.query.get("Marker") else 0
        page = versions[start:start + size]
        out: dict[str, Any] = {"Versions": [
            shapes.list_entry(v, self.functions.arn(v.name, v.version), self.functions.region) for v in page]}
        if start + size < len(versions):
            out["NextMarker"] = base64.urlsafe_b64encode(keys[start + size - 1].encode()).decode()
        return out

    def alias_operation(self, request: Request, ref: str, rest: list[str]) -> tuple[int, Any]:
        method, fns = request.method, self.functions
        if not rest and method == "POST":
            return 201, self.render_alias(fns.create_alias(ref, request.json()))
        if not rest and method == "GET":
            size = page_size(request.query.get("MaxItems"))
            aliases = fns.list_aliases(ref, request.query.get("FunctionVersion"))
            keys = [a.name for a in aliases]
            start = decode_marker(request.query["Marker"], keys) if request.query.get("Marker") else 0
            out: dict[str, Any] = {"Aliases": [self.render_alias(a) for a in aliases[start:start + size]]}
            if start + size < len(aliases):
                out["NextMarker"] = base64.urlsafe_b64encode(keys[start + size - 1].encode()).decode()
            return 200, out
        if len(rest) == 1 and method == "GET":
            return 200, self.render_alias(fns.get_alias(ref, rest[0]))
        if len(rest) == 1 and method == "PUT":
            return 200, self.render_alias(fns.update_alias(ref, rest[0], request.json()))
        if len(rest) == 1 and method == "DELETE":
            fns.delete_alias(ref, rest[0])
            return 204, None
        raise errors.NotBuilt(f"{method} {request.path} is not an alias operation Lambdalite knows.")

    def render_alias(self, alias: Any) -> dict[str, Any]:
        return shapes.alias(alias, self.functions.arn(alias.function, alias.name))

    def tags_operation(self, request: Request, arn: str) -> tuple[int, Any]:
        if request.method == "GET":
            return 200, {"Tags": self.functions.tags(arn)}
        if request.method == "POST":
            self.functions.tag(arn, request.json().get("Tags"))
            return 204, None
        if request.method == "DELETE":
            self.functions.untag(arn, request.query_all("tagKeys"))
            return 204, None
        raise errors.NotBuilt(f"{request.method} {request.path} is not a tag operation Lambdalite knows.")

    def get_function(self, ref: str, qualifier: str | None) -> dict[str, Any]:
        fn, q = self.functions.resolve(ref, qualifier)
        out: dict[str, Any] = {
            "Configuration": self.render(fn, q),
            "Code": {"RepositoryType": "S3", "Location": f"{self.base_url}/_lambdalite/code/{fn.code_hex}.zip"},
        }
        if fn.tags:
            out["Tags"] = dict(fn.tags)
        reserved = self.functions.concurrency.get(fn.name)
        if reserved is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": reserved}
        return out

    def list_functions(self, request: Request) -> dict[str, Any]:
        """ListFunctions; FunctionVersion=ALL lists each function's published versions after its
        $LATEST, whose ARN then carries the ":$LATEST" qualifier (AWS-recorded)."""
        every_version = request.query.get("FunctionVersion")
        if every_version is not None:
            check_enum(every_version, ("ALL",), "functionVersion")
        size = page_size(request.query.get("MaxItems"))
        fns = self.functions
        entries: list[tuple[Any, str | None]]
        if every_version:
            entries = [(v, v.version) for fn in fns.list() for v in fns.versions(fn.name)]
        else:
            entries = [(fn, None) for fn in fns.list()]
        # sorts as listed: NUL sorts below every character of a name
        keys = [f"{fn.name}\0{int(q):010d}" if q and q.isdigit() else f"{fn.name}\0" if q else fn.name
                for fn, q in entries]
        marker = request.query.get("Marker")
        start = decode_marker(marker, keys) if marker else 0
        out: dict[str, Any] = {"Functions": [
            shapes.list_entry(fn, fns.arn(fn.name, q), fns.region) for fn, q in entries[start:start + size]]}
        if start + size < len(entries):
            out["NextMarker"] = base64.urlsafe_b64encode(keys[start + size - 1].encode()).decode()
        return out

    def account_settings(self) -> dict[str, Any]:
        """AccountUsage.TotalCodeSize counts every version's code (published ones too) and every
        layer version's (AWS-recorded: test_account_settings_total_code_size and
        test_account_settings_total_code_size_config_update)."""
        fns, concurrency = self.functions.list(), self.functions.concurrency
        code_size = sum(v.code_size for fn in fns for v in self.functions.versions(fn.name))
        code_size += self.functions.layers.total_code_size()
        return {
            "AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": self.functions.code.limits.unzipped,
                             "CodeSizeZipped": self.functions.code.limits.zipped,
                             "ConcurrentExecutions": concurrency.account_limit,
                             "UnreservedConcurrentExecutions": concurrency.unreserved},
            "AccountUsage": {"TotalCodeSize": code_size, "FunctionCount": len(fns)},
        }

    def render(self, fn: Any, qualifier: str | None) -> dict[str, Any]:
        return shapes.configuration(fn, self.functions.arn(fn.name, qualifier), self.functions.region)


def layer_version_number(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise errors.ValidationError(f"1 validation error detected: Value '{raw}' at 'versionNumber' failed to "
                                     "satisfy constraint: Member must be a number") from None


def check_enum(value: str, allowed: tuple[str, ...], field: str) -> None:
    if value not in allowed:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def check_payload(body: bytes) -> None:
    """Invoke's body must be JSON (empty means {}); AWS answers InvalidRequestContentException."""
    if not body:
        return
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise errors.InvalidRequestContent(
            f"Could not parse request body into json: Could not parse payload into json: {e}") from None
    except RecursionError:   # the function's runtime could not read it either
        raise errors.InvalidRequestContent("Could not parse request body into json: Could not parse payload into "
                                           "json: it is nested too deeply") from None


def client_context(header: str | None) -> str | None:
    if not header:
        return None
    try:
        text = base64.b64decode(header, validate=True).decode()
        if not isinstance(json.loads(text), dict):
            raise ValueError("not an object")
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise errors.InvalidRequestContent(
            "Client context must be a valid Base64-encoded JSON object.") from None
    return text


def page_size(raw: str | None, high: int = 10000) -> int:
    """MaxItems, at most `high` (the model's bound) and served in pages of at most PAGE_LIMIT."""
    if raw is None:
        return min(PAGE_LIMIT, high)
    try:
        value = int(raw)
    except ValueError:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{raw}' at 'maxItems' failed to satisfy constraint: "
            "Member must be a number") from None
    if not 1 <= value <= high:
        bound = "greater than or equal to 1" if value < 1 else f"less than or equal to {high}"
        raise errors.ValidationError(
            f"1 validation error detected: Value '{value}' at 'maxItems' failed to satisfy constraint: "
            f"Member must have value {bound}")
    return min(value, PAGE_LIMIT)


def decode_marker(marker: str, names: list[str]) -> int:
    try:
        last = base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.InvalidParameterValue("Invalid marker: use the NextMarker of the previous page.") from None
    return next((i for i, n in enumerate(names) if n > last), len(names))
