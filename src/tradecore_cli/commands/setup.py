"""``tradecore init`` and ``tradecore db upgrade|current``: the home, the key and the schema."""

from __future__ import annotations

import asyncio

import click

from tradecore_cli.output import json_option, print_json
from tradecore_cli.settings import settings_of

__all__ = ["db", "init"]


@click.command()
@click.option(
    "--new-key",
    is_flag=True,
    help="Make a new key file even though the database holds secrets sealed by a lost key "
    "(then run `tradecore secrets forget`).",
)
@click.pass_context
def init(ctx: click.Context, new_key: bool) -> None:
    """Create the data directory, the secret key file and the database (at the newest schema).

    Safe to run again: it keeps an existing key file and only migrates the database forward.
    With TRADECORE_SECRET_KEY set, no key file is created.

    When the key file is missing but the database holds secrets it sealed, init refuses to
    make a new key and changes nothing: restore the key file (or set TRADECORE_SECRET_KEY).
    If the key is lost for good, `tradecore init --new-key` makes a new one, `tradecore
    secrets forget` drops what the lost key sealed, and `tradecore broker secrets NAME` gives
    each connection its secrets again (see docs/security.md).
    """
    settings = settings_of(ctx)
    from tradecore_adapters.bootstrap import initialise

    done = asyncio.run(initialise(settings, new_key=new_key))
    click.echo(f"Home: {done.home}")
    if done.key_file is None:
        click.echo("Secret keys: from TRADECORE_SECRET_KEY (no key file needed).")
    elif done.key_created:
        click.echo(
            f"Secret key: created {done.key_file} (mode 0600). Back it up: without it the "
            "broker secrets stored in the database cannot be read."
        )
    else:
        click.echo(f"Secret key: {done.key_file} (kept).")
    if done.revision_before == done.revision:
        click.echo(f"Database: {done.database} (already at revision {done.revision}).")
    else:
        before = done.revision_before or "empty"
        click.echo(f"Database: {done.database} (migrated from {before} to {done.revision}).")
    if done.unreadable_connections or done.unreadable_targets:
        click.echo(
            f"Warning: the secrets of {done.unreadable_connections} connection(s) and "
            f"{done.unreadable_targets} notification target(s) were sealed by a key you no "
            "longer have; restore it, or run `tradecore secrets forget` and add them again.",
            err=True,
        )
        return
    click.echo("Next: tradecore user add NAME")


@click.group()
def db() -> None:
    """The database schema: see where it is, migrate it to this version of tradecore."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Migrate the database to the newest schema (run it after upgrading tradecore)."""
    from tradecore_adapters.bootstrap import upgrade_schema

    was, now = asyncio.run(upgrade_schema(settings_of(ctx)))
    before, after, where = was.current, now.current, now.database
    if before == after:
        click.echo(f"{where} is already at the newest revision ({after}).")
    else:
        click.echo(f"{where} migrated from {before or 'empty'} to {after}.")


@db.command("current")
@json_option
@click.pass_context
def db_current(ctx: click.Context, as_json: bool) -> None:
    """Show the database's schema revision and whether it is the newest (exit status 1 when
    it is not)."""
    from tradecore_adapters.bootstrap import schema_state

    state = asyncio.run(schema_state(settings_of(ctx)))
    current, head, where = state.current, state.head, state.database
    if as_json:
        print_json(
            {"database": where, "revision": current, "newest": head, "up_to_date": current == head}
        )
        ctx.exit(0 if current == head else 1)
    if current == head:
        click.echo(f"{where}: revision {current} (the newest).")
    elif current is None:
        click.echo(f"{where}: no tradecore schema yet (newest is {head}); run `tradecore init`.")
        ctx.exit(1)
    else:
        click.echo(
            f"{where}: revision {current}, but this tradecore needs {head}; "
            "run `tradecore db upgrade`."
        )
        ctx.exit(1)
