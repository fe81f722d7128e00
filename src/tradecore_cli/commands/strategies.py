"""``tradecore strategy add|list|show|enable|disable|set-mode|remove|types``: a user's strategies.

A strategy is one installed strategy type (``dca``, ``rebalance``…) with its parameters, trading
one of the user's broker connections. Its parameters are checked by its type when it is added:
a mistake is refused with a sentence and nothing is stored. See ``docs/orders.md`` for what
happens to the orders it asks for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence

import click
from attrs import evolve, frozen
from rich.console import Console
from rich.table import Table

from tradecore.domain import BrokerConnection, Order, StrategyConfig, User
from tradecore.errors import AlreadyExists, NotFound
from tradecore.ports import StrategyFactory, StrategyParameter, UnitOfWork
from tradecore.services import add_strategy, remove_strategy, set_strategy_active
from tradecore_cli.app import connection_named, open_app, user_named, user_option
from tradecore_cli.plugin_values import key_value_settings
from tradecore_cli.render import print_table
from tradecore_cli.render_orders import (
    orders_table,
    parameter_line,
    parameters_text,
    secret_mask,
    strategy_json,
    strategy_mode,
    strategy_parameters,
)

__all__ = ["strategy", "strategy_named"]

SHOWN_ORDERS = 10
"""How many of a strategy's newest orders ``strategy show`` lists."""


@click.group()
def strategy() -> None:
    """A user's strategies: add, list, show, enable, disable and remove them."""


def _strategy_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip() or value != value.strip():
        raise click.BadParameter(
            "a strategy name must not be empty nor start or end with a space",
            ctx=ctx,
            param=param,
        )
    return value


def _installed_type(factories: Mapping[str, StrategyFactory], name: str) -> StrategyFactory:
    factory = factories.get(name)
    if factory is None:
        available = ", ".join(sorted(factories)) or "none"
        raise click.BadParameter(
            f"{name!r} is not an installed strategy type (installed: {available}); "
            "see `tradecore strategy types`",
            param_hint="TYPE",
        )
    return factory


async def strategy_named(uow: UnitOfWork, user: User, name: str) -> StrategyConfig:
    """The user's strategy called ``name``.

    :raises click.UsageError: the user has no such strategy.
    """
    try:
        return await uow.strategies.get_by_name(user.id, name)
    except NotFound:
        raise click.UsageError(
            f"{user.name} has no strategy named {name!r}; see `tradecore strategy list`"
        ) from None


def _taken(user: User, name: str) -> click.ClickException:
    return click.ClickException(
        f"{user.name} already has a strategy named {name!r}; choose another --name "
        "(or remove it first with `tradecore strategy remove`)"
    )


def _mode_sentence(config: StrategyConfig) -> str:
    if config.dry_run:
        return "dry run: each cycle records what it would order in the digest and places nothing"
    return "live: each cycle places the orders it decides on, after the risk checks"


@strategy.command("add", short_help="Add a strategy to a user's broker connection.")
@click.argument("strategy_type", metavar="TYPE")
@click.option(
    "--name",
    required=True,
    callback=_strategy_name,
    help="Your name for this strategy (unique per user).",
)
@click.option(
    "--connection",
    "connection_name",
    metavar="NAME",
    required=True,
    help="The broker connection whose account it trades.",
)
@click.option(
    "--param",
    "given",
    metavar="KEY=VALUE",
    multiple=True,
    callback=key_value_settings,
    help="A parameter of the strategy type (repeat for several); "
    "`tradecore strategy types` lists them.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Record what it would order (in the digest) and place nothing.",
)
@user_option
@click.pass_context
def strategy_add(
    ctx: click.Context,
    strategy_type: str,
    name: str,
    connection_name: str,
    given: dict[str, str],
    dry_run: bool,
    user_name: str | None,
) -> None:
    """Add a strategy of type TYPE trading the user's connection --connection.

    Every parameter is checked against what TYPE declares (kind, bounds, required); a mistake
    is refused with a sentence saying what is expected, and nothing is stored. The strategy is
    active at once: each automation cycle runs it. With --dry-run it places nothing.

    Example: tradecore strategy add dca --name weekly-btc --connection p1
    --param instrument=BTC-USD --param amount=100 --param every=1w --dry-run
    """

    async def run() -> tuple[User, BrokerConnection, StrategyConfig, StrategyFactory]:
        async with open_app(ctx) as app:
            factory = _installed_type(app.registry.strategies, strategy_type)
            async with app.repository.unit_of_work() as uow:
                owner = await user_named(uow, user_name)
                connection = await connection_named(uow, owner, connection_name)
                try:
                    await uow.strategies.get_by_name(owner.id, name)
                except NotFound:
                    pass
                else:
                    raise _taken(owner, name)
            try:
                config = await add_strategy(
                    repository=app.repository,
                    factories=app.registry.strategies,
                    clock=app.clock,
                    user_id=owner.id,
                    strategy_type=strategy_type,
                    name=name,
                    connection_id=connection.id,
                    parameters=given,
                    dry_run=dry_run,
                )
            except AlreadyExists:
                raise _taken(owner, name) from None
            return owner, connection, config, factory

    owner, connection, config, factory = asyncio.run(run())
    click.echo(
        f"Added {config.strategy_type} strategy {config.name} for {owner.name} on connection "
        f"{connection.name} ({connection.broker}), {_mode_sentence(config)}."
    )
    shown = parameters_text(strategy_parameters(config, factory.parameters))
    click.echo(f"Parameters: {shown or 'none'}.")
    if not connection.active:
        click.echo(f"Note: connection {connection.name} is inactive; cycles skip it.")
    click.echo(
        f"Every order it asks for passes {owner.name}'s risk limits first "
        f"(`tradecore risk show --user {owner.name}`)."
    )
    if config.dry_run:
        click.echo(f"Try it now, placing nothing: tradecore cycle --user {owner.name}")
    else:
        click.echo(
            f"The next cycle places its orders (`tradecore cycle --user {owner.name}` runs one "
            "now)."
        )


@frozen(kw_only=True)
class _Listing:
    user: User
    strategies: Sequence[StrategyConfig]
    connections: Mapping[str, str]


@strategy.command("list")
@user_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def strategy_list(ctx: click.Context, user_name: str | None, as_json: bool) -> None:
    """List a user's strategies: type, connection, active, mode and parameters.

    The parameters shown are the ones given; `tradecore strategy show NAME` also shows the
    defaults.
    """

    async def run() -> tuple[_Listing, Mapping[str, StrategyFactory]]:
        async with open_app(ctx) as app, app.repository.unit_of_work() as uow:
            owner = await user_named(uow, user_name)
            found = await uow.strategies.list(owner.id)
            names = {each.id: each.name for each in await uow.connections.list(owner.id)}
            listing = _Listing(user=owner, strategies=found, connections=names)
            return listing, dict(app.registry.strategies)

    listing, factories = asyncio.run(run())
    owner, found, names = listing.user, listing.strategies, listing.connections
    if as_json:
        payload = [
            strategy_json(
                each,
                connection=names.get(each.connection_id, each.connection_id),
                specs=_specs(factories, each),
            )
            for each in found
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    if not found:
        click.echo(
            f"{owner.name} has no strategies; add one with `tradecore strategy add TYPE "
            f"--name NAME --connection CONNECTION --user {owner.name}` "
            "(`tradecore strategy types` lists the types)."
        )
        return
    table = Table(title=f"Strategies of {owner.name}", title_justify="left")
    for header in ("name", "type", "connection", "active", "mode", "parameters"):
        table.add_column(header, no_wrap=header != "parameters")
    for each in found:
        table.add_row(
            each.name,
            each.strategy_type,
            names.get(each.connection_id, each.connection_id),
            "yes" if each.active else "no",
            strategy_mode(each),
            ", ".join(f"{key}={value}" for key, value in sorted(each.parameters.items())) or "-",
        )
    print_table(Console(soft_wrap=True), table)


def _specs(
    factories: Mapping[str, StrategyFactory], config: StrategyConfig
) -> Sequence[StrategyParameter] | None:
    factory = factories.get(config.strategy_type)
    return None if factory is None else factory.parameters


@frozen(kw_only=True)
class _Shown:
    user: User
    config: StrategyConfig
    connection: BrokerConnection
    orders: Sequence[Order]


@strategy.command("show", short_help="Show a strategy: parameters, state, last orders.")
@click.argument("name")
@user_option
@click.pass_context
def strategy_show(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Show the user's strategy NAME: every parameter of its type (the value given, or the
    default), what it remembers between cycles, and its last orders (newest 10)."""

    async def run() -> tuple[_Shown, StrategyFactory | None]:
        async with open_app(ctx) as app, app.repository.unit_of_work() as uow:
            owner = await user_named(uow, user_name)
            config = await strategy_named(uow, owner, name)
            connection = await uow.connections.get(owner.id, config.connection_id)
            orders = await uow.orders.list(owner.id, strategy_id=config.id, limit=SHOWN_ORDERS)
            shown = _Shown(user=owner, config=config, connection=connection, orders=orders)
            return shown, app.registry.strategies.get(config.strategy_type)

    shown, factory = asyncio.run(run())
    config, connection = shown.config, shown.connection
    click.echo(f"Strategy {config.name} of {shown.user.name}")
    described = f": {factory.description}" if factory is not None else " (not installed)"
    click.echo(f"  type:       {config.strategy_type}{described}")
    click.echo(f"  connection: {connection.name} ({connection.broker})")
    click.echo(f"  active:     {'yes' if config.active else 'no'}")
    click.echo(f"  mode:       {strategy_mode(config)}")
    click.echo(f"  created:    {config.created_at:%Y-%m-%d %H:%M} UTC")
    console = Console(soft_wrap=True)
    if factory is None:
        click.echo(
            f"Its type {config.strategy_type!r} is not installed, so no cycle runs it; "
            "see `tradecore plugins`."
        )
    descriptions = {spec.name: spec.description for spec in factory.parameters} if factory else {}
    rows = strategy_parameters(config, None if factory is None else factory.parameters)
    if rows:
        table = Table(title="Parameters", title_justify="left")
        table.add_column("parameter", no_wrap=True)
        table.add_column("value", no_wrap=True)
        table.add_column("description", overflow="fold")
        for parameter, value, is_default in rows:
            text = "-" if value is None else value + (" (default)" if is_default else "")
            table.add_row(parameter, text, descriptions.get(parameter, "(not declared)"))
        console.print(table)  # the descriptions wrap; the values never do
    else:
        click.echo("Parameters: none.")
    if config.state:
        click.echo("State (what it remembers between cycles):")
        for key, value in sorted(config.state.items()):
            click.echo(f"  {key}: {value}")
    else:
        click.echo("State: nothing remembered yet.")
    if not shown.orders:
        click.echo("Orders: none yet.")
        return
    table = orders_table(
        shown.orders,
        connection_names={connection.id: connection.name},
        strategy_names={config.id: config.name},
        masks={connection.id: secret_mask(connection)},
        title=f"Last orders of {config.name} (newest {SHOWN_ORDERS} at most)",
    )
    print_table(console, table)


async def _set_active(ctx: click.Context, user_name: str | None, name: str, active: bool) -> str:
    async with open_app(ctx) as app:
        async with app.repository.unit_of_work() as uow:
            owner = await user_named(uow, user_name)
            await strategy_named(uow, owner, name)
        try:
            await set_strategy_active(
                repository=app.repository, user_id=owner.id, name=name, active=active
            )
        except NotFound:  # removed meanwhile
            raise click.UsageError(f"{owner.name} has no strategy named {name!r}") from None
        return owner.name


@strategy.command("enable")
@click.argument("name")
@user_option
@click.pass_context
def strategy_enable(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Run the user's strategy NAME again at each cycle (its state is as it was left)."""
    owner = asyncio.run(_set_active(ctx, user_name, name, True))
    click.echo(f"Strategy {name} of {owner} is active: each cycle runs it.")


@strategy.command("disable")
@click.argument("name")
@user_option
@click.pass_context
def strategy_disable(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Stop running the user's strategy NAME; its parameters, state and orders are kept.

    Its open orders stay open at the broker (cycles still follow them up); cancel one with
    `tradecore order cancel CLIENT_ID`.
    """
    owner = asyncio.run(_set_active(ctx, user_name, name, False))
    click.echo(
        f"Strategy {name} of {owner} is disabled: no cycle runs it until "
        "`tradecore strategy enable`. Its open orders, if any, stay open at the broker."
    )


@strategy.command("set-mode", short_help="Switch a strategy between dry run and live.")
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

    async def run() -> tuple[str, bool]:
        async with open_app(ctx) as app, app.repository.unit_of_work() as uow:
            owner = await user_named(uow, user_name)
            config = await strategy_named(uow, owner, name)
            changed = config.dry_run != dry_run
            if changed:
                await uow.strategies.update(evolve(config, dry_run=dry_run))
                await uow.commit()
            return owner.name, changed

    owner, changed = asyncio.run(run())
    mode = "dry-run" if dry_run else "live"
    if not changed:
        click.echo(f"Strategy {name} of {owner} is already {mode}; nothing changed.")
        return
    if dry_run:
        click.echo(f"Strategy {name} of {owner} is now dry-run: it places nothing.")
    else:
        click.echo(
            f"Strategy {name} of {owner} is now live: its next cycles place real orders, "
            "after the risk checks."
        )


@strategy.command("remove", short_help="Remove a strategy (its orders stay in the ledger).")
@click.argument("name")
@user_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def strategy_remove(ctx: click.Context, name: str, user_name: str | None, yes: bool) -> None:
    """Remove the user's strategy NAME with its parameters and state.

    Its orders stay in the ledger (`tradecore order list`), and open ones stay open at the
    broker. Asks first unless --yes is given.
    """

    async def run() -> tuple[str, int, int] | None:
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                owner = await user_named(uow, user_name)
                config = await strategy_named(uow, owner, name)
                orders = await uow.orders.list(owner.id, strategy_id=config.id)
            still_open = sum(not order.is_terminal for order in orders)
            if not yes and not click.confirm(
                f"Remove {config.strategy_type} strategy {name} of {owner.name}? Its orders "
                f"({len(orders)}) stay in the ledger",
                default=False,
            ):
                return None
            try:
                await remove_strategy(repository=app.repository, user_id=owner.id, name=name)
            except NotFound:
                raise click.UsageError(f"{owner.name} has no strategy named {name!r}") from None
            return owner.name, len(orders), still_open

    removed = asyncio.run(run())
    if removed is None:
        click.echo("Nothing removed.")
        ctx.exit(1)
    owner, orders, still_open = removed
    click.echo(
        f"Removed strategy {name} of {owner}. Its orders ({orders}) stay in the ledger "
        f"(`tradecore order list --user {owner}`)."
    )
    if still_open:
        click.echo(
            f"{still_open} of them still open at the broker: cancel with "
            "`tradecore order cancel CLIENT_ID`."
        )


@strategy.command("types", short_help="The installed strategy types and their parameters.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def strategy_types(ctx: click.Context, as_json: bool) -> None:
    """List the installed strategy types with their parameters: kind, default (or required),
    bounds and description."""

    async def run() -> list[StrategyFactory]:
        async with open_app(ctx) as app:
            return [app.registry.strategies[name] for name in sorted(app.registry.strategies)]

    factories = asyncio.run(run())
    if as_json:
        payload = [
            {
                "name": factory.name,
                "description": factory.description,
                "parameters": [
                    {
                        "name": spec.name,
                        "kind": spec.kind.value,
                        "description": spec.description,
                        "required": spec.required,
                        "default": spec.default,
                        "minimum": spec.minimum,
                        "maximum": spec.maximum,
                        "choices": list(spec.choices),
                        "example": spec.example,
                    }
                    for spec in factory.parameters
                ],
            }
            for factory in factories
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    if not factories:
        click.echo("No strategy type is installed; see `tradecore plugins`.")
        return
    for index, factory in enumerate(factories):
        if index:
            click.echo("")
        click.echo(f"{factory.name}: {factory.description}")
        for spec in factory.parameters:
            click.echo(f"  {parameter_line(spec)}")
        if not factory.parameters:
            click.echo("  (no parameters)")
    click.echo("")
    click.echo(
        "Add one with: tradecore strategy add TYPE --name NAME --connection CONNECTION "
        "--param KEY=VALUE ..."
    )
