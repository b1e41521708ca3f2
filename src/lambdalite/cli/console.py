"""`lambdalite console`: where the web console is, and on a server with keys a one-time login link
(a browser cannot sign requests; the link gives it a session)."""

from __future__ import annotations

import click

from lambdalite.cli.options import with_client
from lambdalite.client import Client


@click.command(name="console")
@with_client
def console(client: Client) -> None:
    """Print the web console's address; with keys, a login link that works once, for 2 minutes."""
    click.echo(client.console_link())
