"""Options and arguments shared between commands, composed once."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import click

from lambdalite.cli.failures import server_failed
from lambdalite.cli.parse import SINCE_HELP, parse_since
from lambdalite.client import DEFAULT_ENDPOINT, Client
from lambdalite.errors import ClientError

function_name = click.argument("name", metavar="NAME")


class SinceType(click.ParamType):  # type: ignore[type-arg]  # generic only from Click 8.2
    """--since: an age (10m) or an ISO time, converted to epoch milliseconds when parsed."""

    name = "AGE|TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_since(str(value), now_ms=int(time.time() * 1000))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


since_option = click.option("--since", type=SinceType(), help=f"Only lines from then on: {SINCE_HELP}.")


def with_client(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds --endpoint and hands the command a Client as its first argument.

    The SDK's ClientError is translated here, once for every command, into exit code 3.
    """

    @click.option("--endpoint", envvar="LAMBDALITE_ENDPOINT", metavar="URL",
                  help="The Lambdalite server to talk to. "
                       f"[default: LAMBDALITE_ENDPOINT, else {DEFAULT_ENDPOINT}]")
    @functools.wraps(command)
    def run(endpoint: str | None, **kwargs: Any) -> Any:
        try:
            client = Client(endpoint)
        except ClientError as exc:
            raise click.BadParameter(exc.message, param_hint="--endpoint") from None
        try:
            with client:
                return command(client, **kwargs)
        except ClientError as exc:
            raise server_failed(exc, client.endpoint) from None

    return run
