"""``tradecore check``: a self-check of the whole setup, one line per check.

Checks, in order: the secret key is present and usable; the database is reachable and at the
newest migration; then for each user (or the one given): each active connection authenticates and
lists its accounts (with the clock offset when its broker measures one), and each notification
target is reachable (for Telegram: the bot token is valid and the chat exists) without sending a
message. The exit status is 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import asyncio

import click
from attrs import frozen

from tradecore.domain import BrokerConnection, User
from tradecore.services import describe_broker_failure, open_broker
from tradecore.services.notify import TargetNotifier, notifiers_for
from tradecore_adapters.bootstrap import Application, key_ring_of
from tradecore_adapters.settings import Settings
from tradecore_adapters.sqlalchemy import describe_url
from tradecore_adapters.sqlalchemy.migrate import current_revision, head_revision
from tradecore_cli.app import open_app, user_named
from tradecore_cli.settings import settings_of

__all__ = ["check"]


@frozen
class _Line:
    ok: bool
    subject: str
    text: str


@click.command(short_help="Check the whole setup: database, key, brokers, notifications.")
@click.option(
    "--user",
    "user_name",
    metavar="NAME",
    default=None,
    help="Check only this user's connections and targets (default: every user's).",
)
@click.pass_context
def check(ctx: click.Context, user_name: str | None) -> None:
    """Check the setup and print one line per check; no message is sent, no order placed.

    The secret key, the database (reachable, at the newest migration), then for every user (or
    only --user): each active connection logs in and lists its accounts (and its clock offset,
    when the broker reports one), and each notification target is reachable (for Telegram: the
    bot token is valid and the bot can reach the chat). Logging in renews (and stores) an OAuth
    connection's tokens when they are due, as any command would. Exit status 0 when all passed,
    else 1.
    """
    settings = settings_of(ctx)
    lines = asyncio.run(_check_all(ctx, settings, user_name))
    for line in lines:
        click.echo(f"{'ok  ' if line.ok else 'FAIL'}  {line.subject}: {line.text}")
    failed = sum(1 for line in lines if not line.ok)
    click.echo(f"{len(lines) - failed} passed, {failed} failed.")
    ctx.exit(1 if failed else 0)


async def _check_all(ctx: click.Context, settings: Settings, user_name: str | None) -> list[_Line]:
    lines = [_key(settings)]
    database = await _database(settings)
    lines.append(database)
    if not (database.ok and lines[0].ok):
        return lines
    async with open_app(ctx) as app:
        async with app.repository.unit_of_work() as uow:
            users = (
                [await user_named(uow, user_name)] if user_name else list(await uow.users.list())
            )
        if not users:
            lines.append(_Line(True, "users", "none yet; add one with `tradecore user add NAME`"))
        for user in users:
            lines.extend(await _user(app, user))
    return lines


def _key(settings: Settings) -> _Line:
    try:
        ring = key_ring_of(settings)
    except Exception as exc:
        return _Line(False, "secret key", str(exc))
    where = "TRADECORE_SECRET_KEY" if settings.secret_keys is not None else str(settings.key_file)
    return _Line(True, "secret key", f"{len(ring.key_ids)} key(s) from {where}")


async def _database(settings: Settings) -> _Line:
    subject = f"database {describe_url(settings.database)}"
    try:
        current = await current_revision(settings.database)
    except Exception as exc:
        return _Line(False, subject, str(exc))
    head = head_revision()
    if current == head:
        return _Line(True, subject, f"at revision {head} (the newest)")
    if current is None:
        return _Line(False, subject, "empty; run `tradecore init`")
    return _Line(
        False,
        subject,
        f"at revision {current}, this tradecore needs {head}; run `tradecore db upgrade`",
    )


async def _user(app: Application, user: User) -> list[_Line]:
    async with app.repository.unit_of_work() as uow:
        connections = await uow.connections.list(user.id, active_only=True)
        targets = await uow.notification_targets.list(user.id)
    lines = [await _connection(app, user, connection) for connection in connections]
    resolved = notifiers_for(
        targets, factories=app.registry.notifiers, defaults=app.notifier_defaults, clock=app.clock
    )
    lines.extend([await _target(user, item) for item in resolved])
    if not connections and not resolved:
        lines.append(_Line(True, f"user {user.name}", "no active connection or target yet"))
    return lines


async def _connection(app: Application, user: User, connection: BrokerConnection) -> _Line:
    subject = f"{user.name} / connection {connection.name} ({connection.broker})"
    try:
        async with open_broker(
            connection, brokers=app.registry.brokers, repository=app.repository, clock=app.clock
        ) as adapter:
            await adapter.authenticate()
            accounts = await adapter.get_accounts()
            figures = dict(adapter.api_figures())
    except Exception as exc:
        return _Line(False, subject, describe_broker_failure(exc, connection))
    text = f"logged in, {len(accounts)} account(s)"
    offset = figures.get("clock_offset_ms")
    text += f", clock offset {offset} ms" if offset is not None else ", no clock offset reported"
    return _Line(True, subject, text)


async def _target(user: User, item: TargetNotifier) -> _Line:
    subject = f"{user.name} / notify {item.name}"
    if item.notifier is None:
        return _Line(False, subject, item.error or "cannot be built")
    try:
        text = await item.notifier.check()
    except Exception as exc:
        return _Line(False, subject, item.masked(str(exc) or type(exc).__name__))
    return _Line(True, subject, text)
