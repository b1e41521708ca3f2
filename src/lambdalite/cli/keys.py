"""`lambdalite keys`: the access keys a server checks signatures against, kept in its home.

Local on purpose (no API call): the first key cannot need a key. A server started on that home
checks every management and invoke request against them (docs/security.md)."""

from __future__ import annotations

from pathlib import Path

import click

from lambdalite.config import default_home
from lambdalite.signing import KEYS_FILE, create_key, load_keys

HOME = click.option("--home", type=click.Path(file_okay=False, path_type=Path),
                    help="The server's home. "
                    "[default: LAMBDALITE_HOME, else ~/.lambdalite; as root /var/lib/lambdalite]")


@click.group()
def keys() -> None:
    """Access keys for signed requests (SigV4), kept in the server's home."""


@keys.command(name="create")
@HOME
def create(home: Path | None) -> None:
    """Make a new key: print it once, as the variables the CLI, the SDK and boto3 sign with."""
    folder = (home or default_home()).expanduser().resolve()
    key_id, secret = create_key(folder)
    click.echo(f"export LAMBDALITE_ACCESS_KEY_ID={key_id}\nexport LAMBDALITE_SECRET_ACCESS_KEY={secret}")
    click.echo(f"Kept in {folder / KEYS_FILE} (readable by you only). A server on this home checks requests "
               "against it (restart one already running without keys); boto3 and the AWS CLI sign with it as "
               "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.", err=True)


@keys.command(name="list")
@HOME
def list_keys(home: Path | None) -> None:
    """The access key ids (never the secrets) kept in the home."""
    folder = (home or default_home()).expanduser().resolve()
    try:
        found = load_keys(folder)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    for key_id in sorted(found):
        click.echo(key_id)
    if not found:
        click.echo(f"No keys in {folder}: requests to a server there are not checked. "
                   "`lambdalite keys create` makes one.", err=True)
