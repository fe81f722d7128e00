"""``tradecore token create|list|revoke``: a user's API tokens for scripts (docs/accounts.md).

A token is printed once, when created; only its SHA-256 digest is stored, so it can never be
shown again: lost, it is revoked and a new one created.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from tradecore.domain import ApiToken, Scope, User
from tradecore.services import NewApiToken
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.output import Output, json_option
from tradecore_cli.render import print_table
from tradecore_cli.render_trades import timestamp

__all__ = ["token"]


def _scopes_text(token: ApiToken) -> str:
    return ",".join(scope.value for scope in Scope if scope in token.scopes)


def _when(value: Any) -> str | None:
    return None if value is None else timestamp(value)


def token_json(token: ApiToken) -> dict[str, Any]:
    """A token as ``--json`` shows it: never the token itself nor its digest."""
    return {
        "id": token.id,
        "name": token.name,
        "scopes": [scope.value for scope in Scope if scope in token.scopes],
        "created_at": timestamp(token.created_at),
        "last_used_at": _when(token.last_used_at),
        "expires_at": _when(token.expires_at),
    }


@click.group()
def token() -> None:
    """API tokens: let a script act for a user with chosen scopes (read, write, execute), or
    let Prometheus scrape /metrics (metrics)."""


@token.command("create")
@user_option
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([scope.value for scope in Scope]),
    help="What the token may do; repeat for several: read (status, logs, history), write "
    "(start, stop, configuration), execute (manual cycles and orders); or metrics alone "
    "(GET /metrics only; an administrator's token).",
)
@click.option("--name", "label", default=None, metavar="LABEL", help="A label to tell it by.")
@click.option(
    "--expires",
    "days",
    type=int,
    default=None,
    metavar="DAYS",
    help="Refuse the token after this many days (default: it does not expire).",
)
@json_option
@click.pass_context
def token_create(
    ctx: click.Context,
    user_name: str | None,
    scopes: Sequence[str],
    label: str | None,
    days: int | None,
    as_json: bool,
) -> None:
    """Create an API token for the user and print it, once: store it now, it cannot be shown
    again (only its SHA-256 digest is kept)."""

    async def run() -> tuple[User, NewApiToken]:
        async with open_app(ctx) as app:
            found = await find_user(app, user_name)
            return found, await app.api_tokens.create(
                found.id, scopes, name=label, expires_days=days
            )

    owner, created = asyncio.run(run())
    out = Output(as_json=as_json)
    out.data({**token_json(created.token), "user": owner.name, "token": created.secret})
    out.say(
        f"Created API token {created.token.id} for user {owner.name} "
        f"(scopes {_scopes_text(created.token)}"
        + (
            f", expires {created.token.expires_at:%Y-%m-%d %H:%M} UTC)."
            if created.token.expires_at
            else ", no expiry)."
        )
    )
    out.say("The token, shown this once (store it now; it cannot be shown again):")
    out.say(created.secret)


@token.command("list")
@user_option
@json_option
@click.pass_context
def token_list(ctx: click.Context, user_name: str | None, as_json: bool) -> None:
    """List the user's API tokens: id, label, scopes, created, last used, expiry (never the
    token)."""

    async def run() -> tuple[User, Sequence[ApiToken]]:
        async with open_app(ctx) as app:
            found = await find_user(app, user_name)
            return found, await app.api_tokens.list(found.id)

    owner, tokens = asyncio.run(run())
    if as_json:
        Output(as_json=True).data([token_json(each) for each in tokens])
        return
    if not tokens:
        click.echo(
            f"User {owner.name} has no API tokens; create one with `tradecore token create`."
        )
        return
    table = Table(title=f"API tokens of {owner.name}", title_justify="left")
    for column in ("id", "name", "scopes", "created (UTC)", "last used", "expires"):
        table.add_column(column)
    for each in tokens:
        table.add_row(
            each.id,
            each.name or "",
            _scopes_text(each),
            each.created_at.strftime("%Y-%m-%d %H:%M"),
            each.last_used_at.strftime("%Y-%m-%d %H:%M") if each.last_used_at else "never",
            each.expires_at.strftime("%Y-%m-%d %H:%M") if each.expires_at else "never",
        )
    print_table(Console(soft_wrap=True), table)


@token.command("revoke")
@click.argument("token_id", metavar="ID")
@user_option
@click.pass_context
def token_revoke(ctx: click.Context, token_id: str, user_name: str | None) -> None:
    """Revoke the user's API token ID (see `tradecore token list`): it is refused from now on."""

    async def run() -> tuple[User, ApiToken]:
        async with open_app(ctx) as app:
            found = await find_user(app, user_name)
            return found, await app.api_tokens.revoke(found.id, token_id)

    owner, revoked = asyncio.run(run())
    click.echo(f"Revoked API token {revoked.id} of user {owner.name}.")
