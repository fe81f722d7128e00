"""``tradecore notify add|list|remove|enable|disable|test``: where a user's digests go.

A target is one notifier plugin (``telegram``…) with its settings. A setting not given with
``--setting`` is read from the variable the plugin declares (``TELEGRAM_CHAT_ID``…) and stored.
A secret (the bot token) whose variable is set (``TELEGRAM_BOT_TOKEN``) is *not* stored: it is
read from the environment at each run, so an operator changes it in one place; otherwise it is
asked for at a hidden prompt and stored encrypted. See ``docs/notifications/telegram.md``.
"""

from __future__ import annotations

import asyncio
import json

import click
from rich.console import Console
from rich.table import Table

from tradecore.domain import User
from tradecore.errors import PluginError
from tradecore.services import TargetAdded, TargetList
from tradecore_cli.app import confirm, find_user, open_app, user_option
from tradecore_cli.output import Output, json_option
from tradecore_cli.plugin_values import (
    ask_secrets,
    interactive,
    key_value_settings,
    settings_from_environment,
    settings_text,
)
from tradecore_cli.render import print_table
from tradecore_cli.render_trades import timestamp

__all__ = ["notify"]


@click.group()
def notify() -> None:
    """Where a user's digests go (a Telegram chat…): add, list, test and remove targets."""


@notify.command("add", short_help="Send a user's digests to a target (a Telegram chat…).")
@click.argument("notifier_type", metavar="TYPE")
@click.option("--name", default=None, help="Your name for this target (default: TYPE).")
@user_option
@click.option(
    "--setting",
    "given",
    metavar="KEY=VALUE",
    multiple=True,
    callback=key_value_settings,
    help="A setting of the notifier (repeat for several), e.g. chat_id=123456789, "
    "language=fr, api=off. Wins over the environment variable the notifier declares.",
)
@click.pass_context
def notify_add(
    ctx: click.Context,
    notifier_type: str,
    name: str | None,
    user_name: str | None,
    given: dict[str, str],
) -> None:
    """Send the user's digests to a target. TYPE is an installed notifier plugin (`telegram`).

    Settings not given with --setting are read from the variables the notifier declares (for
    Telegram: TELEGRAM_CHAT_ID, TELEGRAM_LANGUAGE, TELEGRAM_API_URL). A secret whose variable is
    set (TELEGRAM_BOT_TOKEN) is read from the environment at each run and not stored; otherwise
    it is asked for at a hidden prompt and stored encrypted. The target is checked (the bot
    token and the chat) before it is saved; nothing is sent.

    Example: tradecore notify add telegram --user alice --setting chat_id=123456789
    """
    environ = ctx.find_root().obj["environ"]
    is_interactive = interactive(ctx)

    async def run() -> tuple[TargetAdded, str]:
        async with open_app(ctx) as app:
            try:
                factory = app.targets.factory(notifier_type)
            except PluginError as exc:
                raise click.BadParameter(
                    f"{exc}; see `tradecore plugins`", param_hint="TYPE"
                ) from None
            settings = settings_from_environment(factory.settings, given, environ)
            user = await find_user(app, user_name)
            new = await app.targets.check_new(
                user.id, notifier=notifier_type, name=name, settings=settings
            )
            for secret in new.secrets_from_defaults:
                click.echo(f"{secret}: read from the environment at each run (not stored).")
            specs = [spec for spec in factory.secrets if spec.name in new.secrets_to_ask]
            secrets = ask_secrets(
                specs, environ, interactive=is_interactive, owner=f"notifier {notifier_type!r}"
            )
            added = await app.targets.add(
                user.id, notifier=notifier_type, name=name, settings=settings, secrets=secrets
            )
            return added, user.name

    added, owner_name = asyncio.run(run())
    target = added.target
    stored = ", ".join(sorted(target.secrets))
    click.echo(
        f"Added {target.notifier} target {target.name} for {owner_name}"
        + (f" (settings {settings_text(target.settings)})" if target.settings else "")
        + (f"; {stored} stored encrypted" if stored else "")
        + "."
    )
    click.echo(f"Checked: {added.checked}.")
    click.echo(f"Next: tradecore notify test --user {owner_name}")


async def _user_targets(ctx: click.Context, user_name: str | None) -> tuple[User, TargetList]:
    async with open_app(ctx) as app:
        user = await find_user(app, user_name)
        return user, await app.targets.list(user.id)


@notify.command("list")
@user_option
@json_option
@click.pass_context
def notify_list(ctx: click.Context, user_name: str | None, as_json: bool) -> None:
    """List where the user's digests go. Secrets are shown by name only, never by value.

    A target marked "environment" is implicit: the environment alone configures it (for
    Telegram: TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID) and the user has none of that type.
    """
    user, listed = asyncio.run(_user_targets(ctx, user_name))
    targets, implicit = listed.stored, listed.implicit
    rows = [
        {
            "name": target.name,
            "type": target.notifier,
            "active": target.active,
            "source": "stored",
            "settings": dict(sorted(target.settings.items())),
            "secrets": dict.fromkeys(sorted(target.secrets), "stored"),
            "secrets_unreadable": target.secrets_unreadable,
            "created_at": timestamp(target.created_at),
        }
        for target in targets
    ] + [{"name": name, "type": name, "active": True, "source": "environment"} for name in implicit]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(
            f"{user.name}'s digests go nowhere yet; add a target with "
            f"`tradecore notify add telegram --user {user.name}`."
        )
        return
    table = Table(title=f"Notification targets of {user.name}", title_justify="left")
    for header in ("name", "type", "active", "source", "settings", "secrets"):
        table.add_column(header)
    for target in targets:
        table.add_row(
            target.name,
            target.notifier,
            "yes" if target.active else "no",
            "stored",
            settings_text(target.settings) or "-",
            (
                "UNREADABLE (lost key): `tradecore secrets forget`, then add it again"
                if target.secrets_unreadable
                else ", ".join(f"{key} stored" for key in sorted(target.secrets)) or "-"
            ),
        )
    for name in implicit:
        table.add_row(name, name, "yes", "environment", "-", "-")
    print_table(Console(soft_wrap=True), table)


async def _change(ctx: click.Context, user_name: str | None, name: str, action: str) -> str:
    async with open_app(ctx) as app:
        user = await find_user(app, user_name)
        await app.targets.set_active(user.id, name, active=action == "enable")
        return user.name


@notify.command("remove")
@click.argument("name")
@user_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def notify_remove(ctx: click.Context, name: str, user_name: str | None, yes: bool) -> None:
    """Stop sending the user's digests to target NAME and forget it (with its secrets).

    Asks first unless --yes is given.
    """

    async def run() -> str | None:
        async with open_app(ctx) as app:
            user = await find_user(app, user_name)
            if not yes:
                listed = await app.targets.list(user.id)
                found = next((t for t in listed.stored if t.name == name.strip()), None)
                # An unknown name is not asked about: remove says it is not found.
                if found is not None and not confirm(
                    f"Remove {found.notifier} target {found.name} of {user.name} and its "
                    "stored secrets?"
                ):
                    return None
            await app.targets.remove(user.id, name)
            return user.name

    owner = asyncio.run(run())
    if owner is None:
        click.echo("Nothing removed.")
        ctx.exit(1)
    click.echo(f"Removed notification target {name} of {owner}.")


@notify.command("enable")
@click.argument("name")
@user_option
@click.pass_context
def notify_enable(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Send the user's digests to target NAME again."""
    owner = asyncio.run(_change(ctx, user_name, name, "enable"))
    click.echo(f"Target {name} of {owner} receives digests again.")


@notify.command("disable")
@click.argument("name")
@user_option
@click.pass_context
def notify_disable(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Keep target NAME but send it nothing (it also stops an implicit target of its type)."""
    owner = asyncio.run(_change(ctx, user_name, name, "disable"))
    click.echo(f"Target {name} of {owner} receives nothing until `tradecore notify enable`.")


@notify.command("test", short_help="Send a test message to the user's targets.")
@user_option
@json_option
@click.pass_context
def notify_test(ctx: click.Context, user_name: str | None, as_json: bool) -> None:
    """Send a short test message to each of the user's active targets.

    Prints one line per target; the exit status is 1 when any could not be reached.
    """

    out = Output(as_json=as_json)

    async def run() -> tuple[str, list[tuple[str, str | None]]]:
        async with open_app(ctx) as app:
            user = await find_user(app, user_name)
            with out.guarded():  # the console target prints its test message
                tested = await app.targets.test(user.id)
            return user.name, [(each.name, each.problem) for each in tested]

    owner, results = asyncio.run(run())
    if not results:
        raise click.ClickException(
            f"{owner} has no active notification target; add one with "
            f"`tradecore notify add telegram --user {owner}`"
        )
    out.data(
        {
            "user": owner,
            "targets": [
                {"name": name, "sent": error is None, "error": error} for name, error in results
            ],
        }
    )
    for name, error in results:
        if error is None:
            out.say(f"sent: {name}")
        else:
            click.echo(f"FAILED: {name}: {error}", err=True)
    ctx.exit(1 if any(error for _, error in results) else 0)
