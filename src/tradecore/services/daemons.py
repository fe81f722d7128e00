"""The registry of running daemons (``uow.daemons``): a daemon registers when it starts, says it
is alive every third of a lease's time to live, and unregisters when it stops
(:meth:`tradecore.services.scheduler.Scheduler.serve`)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tradecore.domain import DaemonInfo
from tradecore.errors import ConfigurationError
from tradecore.ports import RepositoryPort
from tradecore.services._steps import describe_error

__all__ = ["FORGET_SILENT_DAEMONS", "daemon_seen", "register_daemon", "unregister_daemon"]

FORGET_SILENT_DAEMONS = timedelta(days=1)
"""A starting daemon removes the registrations of daemons silent for this long."""

_log = logging.getLogger("tradecore.scheduler")


async def register_daemon(
    repository: RepositoryPort,
    *,
    owner: str,
    host: str,
    pid: int,
    single_host: bool,
    alive_for: timedelta,
) -> datetime:
    """Register daemon ``owner`` and return when it started (the store's clock), forgetting
    daemons silent for :data:`FORGET_SILENT_DAEMONS`.

    :param single_host: the store is SQLite: refuse while a daemon of another host was seen
        within ``alive_for``.
    :raises ConfigurationError: ``single_host`` and another host's daemon is alive.
    """
    async with repository.unit_of_work() as uow:
        now = await uow.leases.now()
        if single_host:
            alive = [
                daemon
                for daemon in await uow.daemons.list()
                if daemon.host != host and now - daemon.seen_at < alive_for
            ]
            if alive:
                other = alive[0]
                raise ConfigurationError(
                    f"a daemon on another host is using this SQLite database: "
                    f"{other.owner} on {other.host!r}, last seen "
                    f"{other.seen_at:%Y-%m-%d %H:%M:%S} UTC. SQLite's locks do not work "
                    "across machines: run one daemon per SQLite database, or use "
                    "PostgreSQL for several (docs/operations.md)"
                )
        for daemon in await uow.daemons.list():
            if now - daemon.seen_at > FORGET_SILENT_DAEMONS:
                await uow.daemons.unregister(daemon.owner)  # died without unregistering
        await uow.daemons.register(
            DaemonInfo(owner=owner, host=host, pid=pid, started_at=now, seen_at=now)
        )
        await uow.commit()
    return now


async def daemon_seen(
    repository: RepositoryPort, *, owner: str, host: str, pid: int, started_at: datetime | None
) -> None:
    """Record that daemon ``owner`` is alive now; a failure is logged, never raised."""
    try:
        async with repository.unit_of_work() as uow:
            now = await uow.leases.now()
            await uow.daemons.register(
                DaemonInfo(
                    owner=owner, host=host, pid=pid, started_at=started_at or now, seen_at=now
                )
            )
            await uow.commit()
    except Exception as exc:
        _log.warning("could not refresh this daemon's registration: %s", describe_error(exc))


async def unregister_daemon(repository: RepositoryPort, owner: str) -> None:
    """Remove daemon ``owner``'s registration; a failure is logged, never raised."""
    try:
        async with repository.unit_of_work() as uow:
            await uow.daemons.unregister(owner)
            await uow.commit()
    except Exception as exc:
        _log.warning("could not unregister this daemon: %s", describe_error(exc))
