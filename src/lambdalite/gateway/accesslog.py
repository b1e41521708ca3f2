"""API Gateway access logs, the pure part: a stage's `AccessLogSettings` (`destinationArn`, `format`)
and one request's line made from its `$context` variables.

The format is free text with `$context.name` variables (CLF, JSON, XML or CSV as the user writes it);
a variable with no value for this request is written `-`, as API Gateway writes it. The line goes to
the log group the destination ARN names (`arn:aws:logs:{region}:{account}:log-group:{name}[:*]`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")
GROUP_ARN = re.compile(r"arn:[^:]+:logs:[^:]*:[^:]*:log-group:(?P<group>[^:*]+)(?::\*)?")


def log_group_of(destination_arn: str) -> str | None:
    """The log group a destination ARN names; None for one that is not a CloudWatch Logs group."""
    found = GROUP_ARN.fullmatch(destination_arn.strip())
    return found.group("group") if found else None


def settings_of(given: Any) -> tuple[str, str] | None:
    """(log group, format) of a stage's accessLogSettings; None when access logging is off (no
    destination or no format). ValueError names what is wrong with one that is given."""
    if not given:
        return None
    if not isinstance(given, Mapping):
        raise ValueError("AccessLogSettings must be an object with DestinationArn and Format")
    arn, fmt = given.get("destinationArn") or given.get("DestinationArn"), given.get("format") or given.get("Format")
    if not arn and not fmt:
        return None
    if not isinstance(arn, str) or log_group_of(arn) is None:
        raise ValueError(f"Invalid destination ARN {arn!r}: it must be a CloudWatch Logs log group ARN "
                         "(arn:aws:logs:{region}:{account}:log-group:{name})")
    if not isinstance(fmt, str) or "$context.requestId" not in fmt and "$context.extendedRequestId" not in fmt:
        # API Gateway's rule: one of the two request ids (aws/aws-cdk#22591); the text is ours
        raise ValueError("Access log format must include at least $context.requestId or $context.extendedRequestId")
    return log_group_of(arn) or "", fmt


def request_time(epoch_s: float) -> str:
    """`$context.requestTime`: CLF-formatted, `07/Dec/2026:20:35:01 +0000`."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_s))


def render(fmt: str, context: Mapping[str, object]) -> str:
    """The format with each `$context.x` replaced by its value (`-` when it has none)."""
    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        return "-" if found is None or found == "" else str(found)
    return VARIABLE.sub(value, fmt)
