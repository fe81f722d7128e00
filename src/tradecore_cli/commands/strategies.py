"""``tradecore strategy add|list|show|types`` (and, from
:mod:`tradecore_cli.commands.strategy_changes`, ``edit|enable|disable|set-mode|remove``): a user's
strategies.

A strategy is one installed strategy type (``dca``, ``rebalance``…) with its parameters, trading
one of the user's broker connections. Its parameters are checked by its type when it is added:
a mistake is refused with a sentence and nothing is stored. See ``docs/orders.md`` for what
happens to the orders it asks for. Each command calls one use case of
:class:`tradecore.services.Strategies` and renders its answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import click
from rich.console import Console
from rich.table import Table

from tradecore.domain import StrategyConfig, User
from tradecore.errors import AlreadyExists, DomainError, NotFound
from tradecore.ports import StrategyFactory
from tradecore.services import (
    SHOWN_ORDERS,
    StrategyDetails,
    StrategyView,
    UnknownStrategyType,
)
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.commands.strategy_changes import (
    no_strategy,
    strategy_disable,
    strategy_edit,
    strategy_enable,
    strategy_remove,
    strategy_set_mode,
)
from tradecore_cli.output import json_option, print_json
from tradecore_cli.plugin_values import key_value_settings
from tradecore_cli.render import literal_table, print_table
from tradecore_cli.render_orders import (
    order_json,
    orders_table,
    parameter_line,
    parameters_text,
    secret_mask,
    strategy_json,
    strategy_mode,
    strategy_parameters,
)

__all__ = ["strategy"]


@click.group()
def strategy() -> None:
    """A user's strategies: add, list, show, edit, enable, disable and remove them."""


for _command in (
    strategy_edit,
    strategy_enable,
    strategy_disable,
    strategy_set_mode,
    strategy_remove,
):
    strategy.add_command(_command)


def _mode_sentence(config: StrategyConfig) -> str:
    if config.dry_run:
        return "dry run: each cycle records what it would order in the digest and places nothing"
    return "live: each cycle places the orders it decides on, after the risk checks"


def _not_installed(exc: UnknownStrategyType) -> click.BadParameter:
    available = ", ".join(exc.installed) or "none"
    return click.BadParameter(
        f"{exc.strategy_type!r} is not an installed strategy type (installed: {available}); "
        "see `tradecore strategy types`",
        param_hint="TYPE",
    )


@strategy.command("add", short_help="Add a strategy to a user's broker connection.")
@click.argument("strategy_type", metavar="TYPE")
@click.option(
    "--name",
    required=True,
    help="Your name for this strategy (unique per user; see docs/names.md).",
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

    async def run() -> tuple[User, StrategyView]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            try:
                added = await app.strategies.add(
                    owner.id,
                    strategy_type=strategy_type,
                    name=name,
                    connection=connection_name,
                    parameters=given,
                    dry_run=dry_run,
                )
            except UnknownStrategyType as exc:
                raise _not_installed(exc) from None
            except NotFound:
                raise click.UsageError(
                    f"{owner.name} has no broker connection named {connection_name!r}; see "
                    "`tradecore broker list`"
                ) from None
            except AlreadyExists:
                raise click.ClickException(
                    f"{owner.name} already has a strategy named {name.strip()!r}; choose "
                    "another --name (or remove it first with `tradecore strategy remove`)"
                ) from None
            except DomainError as exc:  # the name breaks the rule for names
                raise click.BadParameter(str(exc), param_hint="--name") from None
            return owner, added

    owner, added = asyncio.run(run())
    config, connection, factory = added.config, added.connection, added.factory
    assert connection is not None  # just added on it
    assert factory is not None  # and of this installed type
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


def _connection_name(view: StrategyView) -> str:
    connection = view.connection
    return view.config.connection_id if connection is None else connection.name


@strategy.command("list")
@user_option
@json_option
@click.pass_context
def strategy_list(ctx: click.Context, user_name: str | None, as_json: bool) -> None:
    """List a user's strategies: type, connection, active, mode and parameters.

    The parameters shown are the ones given; `tradecore strategy show NAME` also shows the
    defaults.
    """

    async def run() -> tuple[User, list[StrategyView]]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            return owner, await app.strategies.list(owner.id)

    owner, found = asyncio.run(run())
    if as_json:
        payload = [
            strategy_json(
                each.config,
                connection=_connection_name(each),
                specs=None if each.factory is None else each.factory.parameters,
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
        config = each.config
        table.add_row(
            config.name,
            config.strategy_type,
            _connection_name(each),
            "yes" if config.active else "no",
            strategy_mode(config),
            ", ".join(f"{key}={value}" for key, value in sorted(config.parameters.items())) or "-",
        )
    print_table(Console(soft_wrap=True), table)


@strategy.command("show", short_help="Show a strategy: parameters, state, last orders.")
@click.argument("name")
@user_option
@json_option
@click.pass_context
def strategy_show(ctx: click.Context, name: str, user_name: str | None, as_json: bool) -> None:
    """Show the user's strategy NAME: every parameter of its type (the value given, or the
    default), what it remembers between cycles, and its last orders (newest 10)."""

    async def run() -> tuple[User, StrategyDetails]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            try:
                return owner, await app.strategies.show(owner.id, name)
            except NotFound:
                raise no_strategy(owner, name) from None

    owner, shown = asyncio.run(run())
    config, connection, factory = shown.config, shown.connection, shown.factory
    if as_json:
        data = strategy_json(
            config,
            connection=connection.name,
            specs=None if factory is None else factory.parameters,
        )
        mask = secret_mask(connection)
        data |= {
            "user": owner.name,
            "broker": connection.broker,
            "installed": factory is not None,
            "state": dict(sorted(config.state.items())),
            "orders": [
                order_json(each, connection=connection.name, strategy=config.name, mask=mask)
                for each in shown.orders
            ],
        }
        print_json(data)
        return
    click.echo(f"Strategy {config.name} of {owner.name}")
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
        # The descriptions wrap; the values never do. Literal: plugin and user text.
        console.print(literal_table(table))
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


def _types_json(factories: Sequence[StrategyFactory]) -> list[dict[str, object]]:
    return [
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


@strategy.command("types", short_help="The installed strategy types and their parameters.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def strategy_types(ctx: click.Context, as_json: bool) -> None:
    """List the installed strategy types with their parameters: kind, default (or required),
    bounds and description."""

    async def run() -> list[StrategyFactory]:
        async with open_app(ctx) as app:
            return app.strategies.types()

    factories = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(_types_json(factories), indent=2))
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
