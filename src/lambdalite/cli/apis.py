"""`lambdalite apis`: REST APIs, their stages and the URLs those answer at, through the SDK only."""

from __future__ import annotations

import click

from lambdalite.cli.options import with_client
from lambdalite.cli.output import api_table
from lambdalite.client import Client


@click.command(name="apis")
@with_client
def list_apis(client: Client) -> None:
    """List the REST APIs with each stage's URLs.

    Every stage answers at {endpoint}/restapis/{id}/{stage}/_user_request_/; the short
    {endpoint}/{stage}/ is listed too when no other API has a stage of that name.
    """
    apis = client.list_apis()
    if not apis:
        click.echo(f"No REST APIs at {client.endpoint}; create one with boto3's apigateway client, the AWS "
                   "CLI or `lambdalite deploy`.", err=True)
        return
    click.echo(api_table(client.endpoint, apis))
