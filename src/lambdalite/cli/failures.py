"""The CLI's error boundary: typed exceptions that know their exit code.

    click.ClickException      Click prints "Error: <message>" on stderr and exits with exit_code
    ├── click.UsageError      2  the command line is wrong (Click's own; bad --event JSON too)
    └── CommandFailed
        ├── FunctionFailed    1  the function ran and failed (raised, timed out, crashed)
        ├── ServerFailed      3  the server answered an error, or could not be reached
        └── ServeRefused      4  `lambdalite serve` could not start (port taken, home in use or too new)

`server_failed` translates the SDK's ClientError at the seam, adding where and what next.
"""

from __future__ import annotations

import click

from lambdalite.errors import ClientError

_NEXT_STEP = {
    "ResourceNotFoundException": "`lambdalite ls` lists the functions there.",
    "ResourceConflictException": "The function is changing or not ready yet; try again in a moment.",
    "TooManyRequestsException": "Too many invocations at once; retry shortly, or start the server "
                                "with a larger --max-concurrency.",
    "InvalidRequestContentException": "Check the event: it must be JSON.",
    "RequestEntityTooLargeException": "Send a smaller event (at most 6 MB).",
}
_SERVER_LOG = "The server's log (where `lambdalite serve` runs) says more."


class CommandFailed(click.ClickException):
    """A command could not do its job; the message says what, where and what to do next."""


class FunctionFailed(CommandFailed):
    exit_code = 1


class ServerFailed(CommandFailed):
    exit_code = 3


class ServeRefused(CommandFailed):
    exit_code = 4


def server_failed(error: ClientError, endpoint: str) -> ServerFailed:
    if error.status == 0:  # never answered: the SDK's message already names the endpoint
        return ServerFailed(error.message)
    next_step = _NEXT_STEP.get(error.code, _SERVER_LOG)
    return ServerFailed(f"{error.message}\n(the server at {endpoint} answered HTTP {error.status} "
                        f"{error.code})\n{next_step}")
