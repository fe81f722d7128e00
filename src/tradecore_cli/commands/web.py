"""``tradecore web``: the dashboard and the HTTP API, with the scheduler in the same process."""

from __future__ import annotations

import asyncio

import click

from tradecore_cli.app import open_app
from tradecore_cli.settings import apply_verbosity, settings_of

__all__ = ["web"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="The port to listen on.",
)
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Serve pages only; cycles are left to `tradecore daemon` processes.",
)
@click.option(
    "--behind-proxy",
    is_flag=True,
    help="A TLS reverse proxy is in front: Secure cookies, and its X-Forwarded-* headers "
    "trusted from --forwarded-allow.",
)
@click.option(
    "--forwarded-allow",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDRESSES",
    help="With --behind-proxy: the proxy's addresses (comma-separated).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Serve the demo's data (the home `tradecore demo` uses, created if missing) and print "
    "a new password for its user `demo`.",
)
@click.option(
    "-v", "--verbose", count=True, help="Log more: -v INFO, -vv DEBUG (and each request)."
)
@click.pass_context
def web(
    ctx: click.Context,
    host: str,
    port: int,
    no_scheduler: bool,
    behind_proxy: bool,
    forwarded_allow: str,
    demo: bool,
    verbose: int,
) -> None:
    """Serve the dashboard and the HTTP API (http://127.0.0.1:8000/ by default).

    Unless --no-scheduler, the same process runs due cycles like `tradecore daemon` (leases
    keep it safe beside other daemons). Stop it with Ctrl-C or SIGTERM. Log in with a user
    whose password `tradecore user passwd NAME` set. See docs/web.md.
    """
    # The web app (Litestar, Jinja) is imported when it is served, not for `tradecore --help`.
    from tradecore_adapters.bootstrap import initialise
    from tradecore_web.server import ServeOptions, is_loopback, serve

    settings = settings_of(ctx).demo() if demo else settings_of(ctx)
    apply_verbosity(ctx, verbose)
    if not is_loopback(host):
        click.echo(
            f"Warning: listening on {host}, reachable from other machines. Serve it behind a "
            "reverse proxy with TLS (--behind-proxy), never as plain HTTP over a network "
            "(docs/web.md).",
            err=True,
        )
    options = ServeOptions(
        host=host,
        port=port,
        scheduler=not no_scheduler,
        behind_proxy=behind_proxy,
        forwarded_allow=forwarded_allow,
        single_host=settings.database.startswith("sqlite"),
        log_level="debug" if verbose >= 2 else "info" if verbose else "warning",
    )

    def ready(url: str) -> None:
        scheduler = "" if no_scheduler else ", with the scheduler"
        click.echo(f"tradecore web: serving {url}{scheduler}; stop with Ctrl-C.", err=True)

    async def go() -> None:
        if demo:
            await initialise(settings)
        async with open_app(ctx, settings) as app:
            if demo:
                login = await app.demo.web_login()
                click.echo(
                    f"Demo data in {settings.home}: log in as {login.setup.user.name} with the "
                    f"password {login.password} (new at each start).",
                    err=True,
                )
            await serve(app, options, on_ready=ready)
        click.echo("tradecore web: stopped.", err=True)

    asyncio.run(go())
