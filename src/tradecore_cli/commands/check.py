"""``tradecore check``: a self-check of the whole setup, one line per check.

Checks, in order: the secret key is present and usable; the database is reachable and at the
newest migration; then for each user (or the one given): each active connection authenticates and
lists its accounts (with the clock offset when its broker measures one), and each notification
target is reachable (for Telegram: the bot token is valid and the chat exists) without sending a
message. The exit status is 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import click

from tradecore.services import CheckLine
from tradecore_cli.app import find_user, open_app
from tradecore_cli.output import Output, json_option
from tradecore_cli.settings import settings_of

if TYPE_CHECKING:
    from tradecore_adapters.bootstrap import Settings

__all__ = ["check"]


@click.command(short_help="Check the whole setup: database, key, brokers, notifications.")
@click.option(
    "--user",
    "user_name",
    metavar="NAME",
    default=None,
    help="Check only this user's connections and targets (default: every user's).",
)
@json_option
@click.pass_context
def check(ctx: click.Context, user_name: str | None, as_json: bool) -> None:
    """Check the setup and print one line per check; no message is sent, no order placed.

    The secret key, the database (reachable, at the newest migration), then for every user (or
    only --user): each active connection logs in and lists its accounts (and its clock offset,
    when the broker reports one), and each notification target is reachable (for Telegram: the
    bot token is valid and the bot can reach the chat). Logging in renews (and stores) an OAuth
    connection's tokens when they are due, as any command would. Exit status 0 when all passed,
    else 1.
    """
    out = Output(as_json=as_json)
    settings = settings_of(ctx)
    lines = asyncio.run(_check_all(ctx, settings, user_name))
    failed = sum(1 for line in lines if not line.ok)
    out.data(
        {
            "ok": not failed,
            "passed": len(lines) - failed,
            "failed": failed,
            "checks": [
                {"ok": line.ok, "subject": line.subject, "text": line.text} for line in lines
            ],
        }
    )
    for line in lines:
        out.say(f"{'ok  ' if line.ok else 'FAIL'}  {line.subject}: {line.text}")
    out.say(f"{len(lines) - failed} passed, {failed} failed.")
    ctx.exit(1 if failed else 0)


async def _check_all(
    ctx: click.Context, settings: Settings, user_name: str | None
) -> list[CheckLine]:
    from tradecore_adapters.bootstrap import check_setup

    lines = await check_setup(settings)
    if not all(line.ok for line in lines):
        return lines
    async with open_app(ctx) as app:
        user_ids = None if user_name is None else [(await find_user(app, user_name)).id]
        checked = await app.health.check(user_ids)
    return lines + checked
