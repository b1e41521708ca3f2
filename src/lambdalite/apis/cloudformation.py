"""CloudFormation's query protocol (2010-05-15), the read side: DescribeStacks, DescribeStackResources,
ListStacks, GetTemplate. Form-encoded `POST /` with `Action=...`; XML answers as botocore's query parser
reads them (`<{Action}Response><{Action}Result>...</{Action}Result><ResponseMetadata>`), errors as
`<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>...` with HTTP 400.

Rendering is pure (`render_*` take data, return text) so it is unit-tested without a server.
Stacks are made with `lambdalite deploy`; CreateStack/UpdateStack are not offered here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from .. import errors
from ..ids import request_id as new_request_id
from ..stacks.service import StackRecord, StackService
from .http import Send, send_response

log = logging.getLogger("lambdalite.api")

XMLNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
XML = b"text/xml"


def timestamp(epoch: float) -> str:
    """CloudFormation's times: ISO 8601 UTC with milliseconds and Z."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}Z"


def element(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def members(name: str, items: Iterable[str]) -> str:
    return f"<{name}>" + "".join(f"<member>{item}</member>" for item in items) + f"</{name}>"


def render_response(action: str, result: str, request_id: str) -> str:
    return (f'<{action}Response xmlns="{XMLNS}"><{action}Result>{result}</{action}Result>'
            f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata></{action}Response>")


def render_error(code: str, message: str, request_id: str, kind: str = "Sender") -> str:
    return (f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>{kind}</Type>{element("Code", code)}'
            f'{element("Message", message)}</Error>{element("RequestId", request_id)}</ErrorResponse>')


def _times_and_status(record: StackRecord) -> list[str]:
    parts = [element("CreationTime", timestamp(record.created))]
    if record.updated is not None:
        parts.append(element("LastUpdatedTime", timestamp(record.updated)))
    parts.append(element("StackStatus", record.status))
    return parts


def render_stack(record: StackRecord, outputs: Sequence[Mapping[str, str]]) -> str:
    parts = [element("StackName", record.name), element("StackId", record.stack_id), *_times_and_status(record)]
    if record.status_reason:
        parts.append(element("StackStatusReason", record.status_reason))
    if record.description:
        parts.append(element("Description", record.description))
    parts.append(members("Parameters", (element("ParameterKey", k) + element("ParameterValue", v)
                                        for k, v in sorted(record.parameters.items()))))
    parts.append(members("Outputs", (render_output(o) for o in outputs)))
    parts += [element("DisableRollback", "false"), element("EnableTerminationProtection", "false"),
              "<NotificationARNs/>", "<Tags/>",
              "<DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation>"]
    return "".join(parts)


def render_output(output: Mapping[str, str]) -> str:
    return "".join(element(key, output[key]) for key in ("OutputKey", "OutputValue", "Description", "ExportName")
                   if output.get(key) is not None)


def render_resource(record: StackRecord, resource: Mapping[str, Any]) -> str:
    status = "CREATE_COMPLETE" if record.updated is None else "UPDATE_COMPLETE"
    return "".join([element("StackName", record.name), element("StackId", record.stack_id),
                    element("LogicalResourceId", resource["logicalId"]),
                    element("PhysicalResourceId", resource["physicalId"]),
                    element("ResourceType", resource["type"]),
                    element("Timestamp", timestamp(record.updated or record.created)),
                    element("ResourceStatus", status),
                    "<DriftInformation><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus>"
                    "</DriftInformation>"])


def render_summary(record: StackRecord) -> str:
    parts = [element("StackId", record.stack_id), element("StackName", record.name), *_times_and_status(record)]
    if record.description:
        parts.append(element("TemplateDescription", record.description))
    return "".join(parts)


def is_query_call(method: str, headers: Mapping[str, str], body: bytes) -> bool:
    """DESIGN.md "Telling them apart": a form-encoded POST with `Action=`, signed for `cloudformation`
    or not signed at all (a call signed for another service is API traffic)."""
    if method != "POST" or "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
        return False
    authorization = headers.get("authorization", "")
    if authorization and "/cloudformation/aws4_request" not in authorization:
        return False
    return any(key == "Action" for key, _ in parse_qsl(body.decode("latin-1"), keep_blank_values=True))


class CloudFormationApi:
    def __init__(self, stacks: StackService) -> None:
        self.stacks = stacks

    async def handle(self, body: bytes, send: Send) -> None:
        request_id = new_request_id()
        form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        action = form.get("Action", "")
        try:
            text = render_response(action, self.result(action, form), request_id)
            status = 200
        except errors.ServiceError as e:
            kind = e.kind if isinstance(e, errors.CloudFormationError) else "Sender" if e.status < 500 else "Receiver"
            text, status = render_error(e.code, e.message, request_id, kind), e.status
        except Exception:
            log.exception("unexpected error in CloudFormation %s", action)
            text, status = render_error("InternalFailure", "An internal error occurred; the server log has the "
                                        "details.", request_id, "Receiver"), 500
        await send_response(send, status, text.encode(), [(b"content-type", XML),
                                                          (b"x-amzn-requestid", request_id.encode())])

    def result(self, action: str, form: dict[str, str]) -> str:
        if action == "DescribeStacks":
            records = [self.record(form["StackName"])] if form.get("StackName") else self.stacks.all()
            return members("Stacks", (render_stack(r, self.stacks.outputs(r)) for r in records))
        if action == "DescribeStackResources":
            record = self.record(form.get("StackName", ""))
            wanted = form.get("LogicalResourceId")
            return members("StackResources", (render_resource(record, r) for r in record.resources
                                              if not wanted or r["logicalId"] == wanted))
        if action == "ListStacks":
            return members("StackSummaries", (render_summary(r) for r in self.stacks.all()))
        if action == "GetTemplate":
            record = self.record(form.get("StackName", ""))
            processed = form.get("TemplateStage") == "Processed"
            body = json.dumps(record.expanded, indent=2) if processed else record.template
            return element("TemplateBody", body) + members("StagesAvailable", ["Original", "Processed"])
        raise errors.CloudFormationError("InvalidAction", f"The action {action or '(none)'} is not valid for this web "
                                  "service; Lambdalite answers DescribeStacks, DescribeStackResources, ListStacks "
                                  "and GetTemplate (stacks are made with `lambdalite deploy`).")

    def record(self, name_or_id: str) -> StackRecord:
        """A stack by name or by its StackId (ARN), as CloudFormation accepts either."""
        name = name_or_id.split(":stack/", 1)[1].split("/", 1)[0] if ":stack/" in name_or_id else name_or_id
        try:
            return self.stacks.get(name)
        except errors.ResourceNotFound:
            raise errors.CloudFormationError("ValidationError", f"Stack with id {name_or_id} does not exist") from None
