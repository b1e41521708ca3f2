"""`lambdalite apis`: REST and HTTP APIs, their stages and the URLs those answer at, through the SDK only."""

from __future__ import annotations

import click

from lambdalite.cli.options import with_client
from lambdalite.cli.output import api_table
from lambdalite.client import Client


@click.command(name="apis")
@with_client
def list_apis(client: Client) -> None:
    """List the REST and HTTP APIs with each stage's URLs.

    A REST stage answers at {endpoint}/restapis/{id}/{stage}/_user_request_/, and at the short
    {endpoint}/{stage}/ when its API's stage of that name is the oldest (and no older HTTP API at the
    root answers those paths). An HTTP API's stage answers at
    {endpoint}/httpapis/{id}/{stage}/_user_request_/, and the oldest $default stage at the root.
    """
    apis = client.list_apis()
    http_apis = client.list_http_apis()
    if not apis and not http_apis:
        click.echo(f"No APIs at {client.endpoint}; create one with boto3's apigateway or apigatewayv2 client, "
                   "the AWS CLI or `lambdalite deploy`.", err=True)
        return
    click.echo(api_table(client.endpoint, apis, http_apis, client.shadowed_short_forms()))
