"""``tradecore secrets rotate|forget``: re-encrypt every stored secret under the newest key, or
drop the secrets a lost key sealed."""

from __future__ import annotations

import asyncio

import click

from tradecore.services import UnreadableSecrets
from tradecore_cli.app import confirm, find_user, open_app
from tradecore_cli.settings import settings_of

__all__ = ["secrets"]


@click.group()
def secrets() -> None:
    """Broker and notifier secrets at rest (encrypted with the keys of TRADECORE_SECRET_KEY or the
    key file)."""


@secrets.command("rotate")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Connections (then notification targets) re-encrypted per transaction.",
)
@click.pass_context
def rotate(ctx: click.Context, batch_size: int) -> None:
    """Re-encrypt every connection's and notification target's secrets under the newest key.

    Put the new key first and keep the old ones (TRADECORE_SECRET_KEY=new,old, or a new first
    line in the key file), run this, then remove the old keys. It can be interrupted and run
    again: connections and targets already under the newest key are skipped.
    """
    from tradecore_adapters.bootstrap import rotate_secrets

    done = asyncio.run(rotate_secrets(settings_of(ctx), batch_size=batch_size))
    click.echo(
        f"Re-encrypted {done.connections} connection(s) and {done.targets} notification "
        f"target(s) under key {done.key_id}; every stored secret is now under the newest key, so older "
        "keys can be removed."
    )


@secrets.command("forget")
@click.option(
    "--user",
    "user_name",
    metavar="NAME",
    default=None,
    help="Only this user's connections and targets (by default: every user's).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def forget(ctx: click.Context, user_name: str | None, yes: bool) -> None:
    """Drop the secrets that cannot be decrypted with the current key (the key that sealed
    them was lost), so every command works again.

    The connections and notification targets stay, with their settings, history and
    strategies, but without secrets (and without OAuth logins). Give a connection its secrets
    again with `tradecore broker secrets NAME`; remove a target and add it again with
    `tradecore notify add`. Paper connections lose nothing. Asks first unless --yes is given.
    """

    async def run() -> list[UnreadableSecrets] | None:
        async with open_app(ctx) as app:
            service = app.secrets
            user_id = None if user_name is None else (await find_user(app, user_name)).id
            found = await service.unreadable(user_id)
            if not found:
                return []
            for entry in found:
                click.echo(f"{entry.user.name}: {_what(entry)}")
            if not yes and not confirm(
                "Forget these secrets? Only the lost key could still decrypt them"
            ):
                return None
            return await service.forget(user_id)

    forgotten = asyncio.run(run())
    if forgotten is None:
        click.echo("Nothing was changed.")
        ctx.exit(1)
    if not forgotten:
        click.echo("Every stored secret can be decrypted with the current key; nothing to forget.")
        return
    for entry in forgotten:
        click.echo(f"Forgot the secrets of {entry.user.name}: {_what(entry)}.")
        for connection in entry.connections:
            if connection.name in entry.lost_connections:
                click.echo(
                    f"  add them again: tradecore broker secrets {connection.name} "
                    f"--user {entry.user.name}"
                )
        for target in entry.targets:
            click.echo(
                f"  target {target.name}: tradecore notify remove {target.name} --user "
                f"{entry.user.name}, then tradecore notify add {target.notifier} --user "
                f"{entry.user.name}"
            )


def _what(entry: UnreadableSecrets) -> str:
    parts = []
    for connection in entry.connections:
        note = "" if connection.name in entry.lost_connections else ", needs none"
        parts.append(f"connection {connection.name} ({connection.broker}{note})")
    parts += [f"notification target {t.name} ({t.notifier})" for t in entry.targets]
    return "; ".join(parts)
