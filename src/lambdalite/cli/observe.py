"""`lambdalite cost`, `lambdalite budget` and `lambdalite stats`: what the work costs, the caps on it,
and how a function is doing."""

from __future__ import annotations

import math

import click

from lambdalite.cli.options import function_name, with_client
from lambdalite.cli.output import budget_table, cost_table, stats_text
from lambdalite.cli.parse import parse_age_s
from lambdalite.client import Client


@click.command()
@click.option("--by", type=click.Choice(["function", "version", "day"]), default="function", show_default=True,
              help="One line per function, per function version, or per day.")
@click.option("--month", metavar="YYYY-MM", help="Which month (UTC) [default: this month, on the server's clock].")
@with_client
def cost(client: Client, by: str, month: str | None) -> None:
    """What the month's invocations would cost on AWS Lambda: requests and GB-seconds at AWS's prices
    (or the server's --price-table), the dearest first."""
    click.echo(cost_table(client.cost(by, month)))


@click.group(invoke_without_command=True)
@click.pass_context
def budget(ctx: click.Context) -> None:
    """Monthly budgets in dollars that stop spending: at 100% new invocations are refused (429
    TooManyRequestsException, Reason BudgetExceeded) until the budget is raised or the month (UTC)
    turns. Without a subcommand: the budgets and what each has spent."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_budgets)


@budget.command(name="list")
@with_client
def list_budgets(client: Client) -> None:
    """The budgets and what each has spent this month."""
    click.echo(budget_table(client.budgets()))


def _amount(ctx: click.Context, param: click.Parameter, value: str) -> float:
    try:
        amount = float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an amount in dollars such as 5.00") from None
    if not math.isfinite(amount) or amount < 0:
        raise click.BadParameter(f"{value!r}: a budget is 0 or more dollars")
    return amount


@budget.command(name="set")
@click.argument("amount", metavar="DOLLARS", callback=_amount)
@click.option("--function", "function", metavar="NAME", help="One function's budget [default: the server's].")
@with_client
def set_budget(client: Client, amount: float, function: str | None) -> None:
    """Set a monthly budget of DOLLARS for the server, or for one function."""
    click.echo(budget_table(client.set_budget(amount, function)))


@budget.command(name="clear")
@click.option("--function", "function", metavar="NAME", help="One function's budget [default: the server's].")
@with_client
def clear_budget(client: Client, function: str | None) -> None:
    """Remove the server's budget, or one function's."""
    click.echo(budget_table(client.clear_budget(function)))


@click.command()
@function_name
@click.option("--since", default="1h", show_default=True, metavar="AGE", help="How far back: 30m, 1h, 2d, ...")
@with_client
def stats(client: Client, name: str, since: str) -> None:
    """How function NAME is doing: invocations, errors, throttles, p50/p90/p99 duration, cold starts."""
    try:
        seconds = parse_age_s(since)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--since") from None
    if seconds <= 0:
        raise click.BadParameter("give an age above 0, such as 1h", param_hint="--since")
    click.echo(stats_text(client.stats(name, seconds), since))
