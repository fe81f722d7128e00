"""Serving the web front end with uvicorn, and the scheduler beside it in the same process."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import socket
from collections.abc import Callable, Iterator

import uvicorn
from attrs import frozen

from tradecore_adapters.bootstrap import Application
from tradecore_web.app import WebOptions, create_app

__all__ = ["ServeOptions", "is_loopback", "serve"]

_log = logging.getLogger("tradecore.web")


@frozen(kw_only=True)
class ServeOptions:
    """How ``tradecore web`` serves.

    :param scheduler: run the scheduler in the same process (leases keep it safe beside other
        daemons); "Run now" then wakes it at once.
    :param behind_proxy: a TLS reverse proxy is in front: cookies are ``Secure`` and the
        proxy's ``X-Forwarded-For``/``-Proto`` headers are trusted when they come from
        ``forwarded_allow``.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    scheduler: bool = True
    behind_proxy: bool = False
    forwarded_allow: str = "127.0.0.1"
    single_host: bool = True
    log_level: str = "warning"


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: uvicorn raises a caught SIGTERM again
    once it has stopped, which would kill the process before the scheduler beside it has
    finished its cycles and released its leases. :func:`serve` handles the signals instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def serve(
    application: Application,
    options: ServeOptions,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then stop the scheduler cleanly (its running cycles
    get the shutdown grace, as in ``tradecore daemon``)."""
    wake = asyncio.Event() if options.scheduler else None
    app = create_app(
        application,
        WebOptions(
            secure_cookies=options.behind_proxy,
            wake_scheduler=wake,
            metrics_from_loopback=not options.behind_proxy,
        ),
    )
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        proxy_headers=options.behind_proxy,
        forwarded_allow_ips=options.forwarded_allow if options.behind_proxy else None,
        server_header=False,
        access_log=False,
        lifespan="on",
    )
    server = _Server(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def _signalled() -> None:
        if server.should_exit:  # a second Ctrl-C: do not wait for open connections
            server.force_exit = True
        server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _signalled)
    scheduling: asyncio.Task[None] | None = None
    if wake is not None:
        scheduler = application.scheduler()
        scheduling = asyncio.create_task(
            scheduler.serve(
                stop,
                host=socket.gethostname(),
                pid=os.getpid(),
                single_host=options.single_host,
                wake=wake,
            )
        )

        def _ended(task: asyncio.Task[None]) -> None:
            if not task.cancelled() and task.exception() is not None:
                _log.error("the scheduler stopped: %s", task.exception())
                server.should_exit = True

        scheduling.add_done_callback(_ended)
    try:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if server.started and on_ready is not None:
            on_ready(f"http://{options.host}:{options.port}/")
        await serving
    finally:
        stop.set()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if scheduling is not None and not scheduling.done():
            await scheduling
        elif scheduling is not None and scheduling.exception() is not None:
            raise scheduling.exception()  # type: ignore[misc]
