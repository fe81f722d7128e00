"""``tradecore strategy edit|enable|disable|set-mode|remove``: changing one of a user's strategies
(the group lives in :mod:`tradecore_cli.commands.strategies`). Each command calls one use case of
:class:`tradecore.services.Strategies` and renders its answer."""

from __future__ import annotations

import asyncio

import click

from tradecore.domain import User
from tradecore.errors import NotFound
from tradecore.services import StrategyChange, StrategyFootprint, UnknownStrategyType
from tradecore_cli.app import confirm, find_user, open_app, user_option
from tradecore_cli.plugin_values import key_value_settings
from tradecore_cli.render_orders import parameters_text, strategy_parameters

__all__ = [
    "no_strategy",
    "strategy_disable",
    "strategy_edit",
    "strategy_enable",
    "strategy_remove",
    "strategy_set_mode",
]


def no_strategy(owner: User, name: str) -> click.UsageError:
    """The usage error of a strategy name the user does not have."""
    return click.UsageError(
        f"{owner.name} has no strategy named {name!r}; see `tradecore strategy list`"
    )


async def _set_active(
    ctx: click.Context, user_name: str | None, name: str, active: bool
) -> tuple[User, StrategyChange]:
    async with open_app(ctx) as app:
        owner = await find_user(app, user_name)
        try:
            return owner, await app.strategies.set_active(owner.id, name, active=active)
        except NotFound:
            raise no_strategy(owner, name) from None


@click.command("enable")
@click.argument("name")
@user_option
@click.pass_context
def strategy_enable(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Run the user's strategy NAME again at each cycle (its state is as it was left)."""
    owner, change = asyncio.run(_set_active(ctx, user_name, name, True))
    click.echo(f"Strategy {change.config.name} of {owner.name} is active: each cycle runs it.")


@click.command("disable")
@click.argument("name")
@user_option
@click.pass_context
def strategy_disable(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Stop running the user's strategy NAME; its parameters, state and orders are kept.

    Its open orders stay open at the broker (cycles still follow them up); cancel one with
    `tradecore order cancel CLIENT_ID`.
    """
    owner, change = asyncio.run(_set_active(ctx, user_name, name, False))
    click.echo(
        f"Strategy {change.config.name} of {owner.name} is disabled: no cycle runs it until "
        "`tradecore strategy enable`. Its open orders, if any, stay open at the broker."
    )


@click.command("set-mode", short_help="Switch a strategy between dry run and live.")
@click.argument("name")
@click.option(
    "--dry-run/--live",
    "dry_run",
    default=None,
    help="--dry-run: record what it would order and place nothing; --live: place orders.",
)
@user_option
@click.pass_context
def strategy_set_mode(
    ctx: click.Context, name: str, dry_run: bool | None, user_name: str | None
) -> None:
    """Switch the user's strategy NAME to --dry-run (place nothing) or --live (place orders)."""
    if dry_run is None:
        raise click.UsageError("say which mode: --dry-run or --live")
    wanted = dry_run

    async def run() -> tuple[User, StrategyChange]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            try:
                return owner, await app.strategies.set_mode(owner.id, name, dry_run=wanted)
            except NotFound:
                raise no_strategy(owner, name) from None

    owner, change = asyncio.run(run())
    shown = change.config.name
    mode = "dry-run" if dry_run else "live"
    if not change.changed:
        click.echo(f"Strategy {shown} of {owner.name} is already {mode}; nothing changed.")
        return
    if dry_run:
        click.echo(f"Strategy {shown} of {owner.name} is now dry-run: it places nothing.")
    else:
        click.echo(
            f"Strategy {shown} of {owner.name} is now live: its next cycles place real orders, "
            "after the risk checks."
        )


@click.command("edit", short_help="Change some parameters of a strategy.")
@click.argument("name")
@click.option(
    "--param",
    "given",
    metavar="KEY=VALUE",
    multiple=True,
    callback=key_value_settings,
    help="A parameter to set (repeat for several).",
)
@click.option(
    "--unset",
    metavar="KEY",
    multiple=True,
    help="A parameter to take back to its default (repeat for several).",
)
@user_option
@click.pass_context
def strategy_edit(
    ctx: click.Context,
    name: str,
    given: dict[str, str],
    unset: tuple[str, ...],
    user_name: str | None,
) -> None:
    """Change some parameters of the user's strategy NAME; the others stay as they are.

    The result is checked by the strategy's type exactly as when it is added: a mistake is
    refused with a sentence and nothing is changed. Its state and orders are kept.

    Example: tradecore strategy edit weekly-btc --param amount=150 --unset every
    """

    async def run() -> tuple[User, StrategyChange]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            try:
                change = await app.strategies.edit(
                    owner.id, name, parameters=given, unset=[key.strip() for key in unset]
                )
            except NotFound:
                raise no_strategy(owner, name) from None
            except UnknownStrategyType as exc:
                raise click.ClickException(
                    f"its type {exc.strategy_type!r} is not installed, so its parameters cannot "
                    "be checked; nothing changed (see `tradecore plugins`)"
                ) from None
            return owner, change

    owner, change = asyncio.run(run())
    config = change.config
    if not change.changed:
        click.echo(f"Strategy {config.name} of {owner.name} already has these parameters.")
        return
    rows = strategy_parameters(config, None)  # the ones given; `strategy show` adds defaults
    click.echo(
        f"Strategy {config.name} of {owner.name} now has the parameters: "
        f"{parameters_text(rows) or 'none given (all defaults)'}."
    )


@click.command("remove", short_help="Remove a strategy (its orders stay in the ledger).")
@click.argument("name")
@user_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def strategy_remove(ctx: click.Context, name: str, user_name: str | None, yes: bool) -> None:
    """Remove the user's strategy NAME with its parameters and state.

    Its orders stay in the ledger (`tradecore order list`), and open ones stay open at the
    broker. Asks first unless --yes is given.
    """

    async def run() -> tuple[User, StrategyFootprint] | None:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            try:
                if not yes:
                    footprint = await app.strategies.footprint(owner.id, name)
                    config = footprint.config
                    if not confirm(
                        f"Remove {config.strategy_type} strategy {config.name} of {owner.name}? "
                        f"Its orders ({footprint.orders}) stay in the ledger"
                    ):
                        return None
                return owner, await app.strategies.remove(owner.id, name)
            except NotFound:
                raise no_strategy(owner, name) from None

    removed = asyncio.run(run())
    if removed is None:
        click.echo("Nothing removed.")
        ctx.exit(1)
    owner, footprint = removed
    click.echo(
        f"Removed strategy {footprint.config.name} of {owner.name}. Its orders "
        f"({footprint.orders}) stay in the ledger (`tradecore order list --user {owner.name}`)."
    )
    if footprint.still_open:
        click.echo(
            f"{footprint.still_open} of them still open at the broker: cancel with "
            "`tradecore order cancel CLIENT_ID`."
        )
