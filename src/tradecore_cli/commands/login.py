"""``tradecore broker login NAME``: log a connection in through its broker's web page (OAuth).

The command prints the broker's login URL (and opens it in a browser unless ``--no-browser``),
listens on the host and port of the connection's redirect URI for the browser to come back, then
exchanges the code for tokens and stores them encrypted. With ``--paste`` it listens for nothing:
the person pastes the address the browser was sent to (for machines without a browser, e.g. over
SSH). A login that fails or is cancelled says why and changes nothing.
"""

from __future__ import annotations

import asyncio
import sys
import webbrowser
from datetime import datetime

import click

from tradecore.domain import BrokerConnection, OAuthTokens
from tradecore.errors import AuthenticationFailed, DomainError
from tradecore.ports import LoginRequest
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.plugin_values import interruptible

__all__ = ["broker_login", "expiry_text"]

DEFAULT_TIMEOUT = 300


@click.command("login", short_help="Log a connection in at its broker (OAuth, in a browser).")
@click.argument("name")
@user_option
@click.option(
    "--paste",
    is_flag=True,
    help="Do not listen for the redirect: paste the address the browser was sent to instead "
    "(for machines without a browser).",
)
@click.option("--no-browser", is_flag=True, help="Print the login URL without opening it.")
@click.option(
    "--timeout",
    type=click.IntRange(10, 3600),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the browser to come back.",
)
@click.pass_context
def broker_login(
    ctx: click.Context,
    name: str,
    user_name: str | None,
    paste: bool,
    no_browser: bool,
    timeout: int,
) -> None:
    """Log the user's connection NAME in at its broker and store the tokens, encrypted.

    Afterwards every cycle keeps the login alive by refreshing its tokens; when the broker ends
    the session (a refresh token unused for too long, a sign-out everywhere), run this again.
    """

    async def run() -> tuple[BrokerConnection, OAuthTokens]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            try:
                connection, request = await app.logins.begin(owner.id, name)
            except DomainError as exc:
                raise click.UsageError(str(exc)) from None
            if paste:
                redirected = await asyncio.to_thread(_ask_pasted, request)
            else:
                redirected = await _listen(request, open_browser=not no_browser, timeout=timeout)
            return connection, await app.logins.complete(owner.id, name, request, redirected)

    try:
        connection, tokens = asyncio.run(run())
    except KeyboardInterrupt:
        click.echo("Login cancelled; nothing was changed.", err=True)
        ctx.exit(1)
    except TimeoutError:
        click.echo(
            f"Error: the browser did not come back within {timeout} s; nothing was changed. "
            "Run the command again (or use --paste).",
            err=True,
        )
        ctx.exit(1)
    except AuthenticationFailed as exc:
        click.echo(f"Error: login failed: {exc}", err=True)
        ctx.exit(1)
    click.echo(
        f"Logged in: connection {connection.name} ({connection.broker}). "
        f"The access token is valid until {expiry_text(tokens.access_expires_at)}"
        + (
            f", the refresh token until {expiry_text(tokens.refresh_expires_at)}"
            if tokens.refresh_expires_at is not None
            else ""
        )
        + "; every cycle (or `tradecore refresh-tokens`) renews them."
    )


def expiry_text(moment: datetime) -> str:
    """``2026-11-21 14:05 UTC``."""
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _ask_pasted(request: LoginRequest) -> str:
    click.echo("Open this address in a browser and log in:\n")
    click.echo(f"  {request.url}\n")
    click.echo(
        f"Your browser is then sent to {request.redirect_uri}?code=… (the page may fail to "
        "load: that is expected)."
    )
    if not sys.stdin.isatty():  # piped in (a script, a test): read one line
        click.echo("Reading the address from standard input.")
        with interruptible():
            return sys.stdin.readline()
    with interruptible():
        pasted: str = click.prompt(
            "Paste that whole address here (it is not shown)", hide_input=True, show_default=False
        )
    return pasted


async def _listen(request: LoginRequest, *, open_browser: bool, timeout: int) -> str:
    from tradecore_adapters.bootstrap import RedirectListener

    async with RedirectListener(request.redirect_uri) as listener:
        click.echo(
            "Log in at this address (waiting for your browser to come back to "
            f"{request.redirect_uri}):\n"
        )
        click.echo(f"  {request.url}\n")
        if open_browser:
            await asyncio.to_thread(_open, request.url)
        return await listener.wait(timeout)


def _open(url: str) -> None:
    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        click.echo("(No browser could be opened here: open the address yourself.)")
