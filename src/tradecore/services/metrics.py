"""Monitoring: one snapshot of the whole deployment for a Prometheus scrape (docs/metrics.md).

The snapshot is read from the database in a few aggregate queries (the run ledger is never
loaded), so one scrape of any web server covers every daemon on every machine sharing the
database: runs by status and trigger, how long cycles took, cycles running now (held leases),
the age of each active user's last successful run, the daemons, the kill switch, and the API
figures (requests, rate-limit headroom) the latest sync of each connection recorded.

It covers every user, so only a loopback client or an administrator's ``metrics`` token may
read it (:meth:`Metrics.authorise`). Users are named by their id, never by their name (an id
is stable across renames and says nothing about the person); nothing secret is in it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from attrs import frozen

from tradecore.domain import AutomationState, RecordedFigures, RunStats, Scope
from tradecore.errors import LoginRefused
from tradecore.services.api_tokens import ApiTokens
from tradecore.services.context import ServiceContext

__all__ = [
    "DURATION_BOUNDS",
    "FIGURES_HORIZON",
    "BrokerFigures",
    "Metrics",
    "MetricsSnapshot",
    "RateLimitFigure",
    "UserFreshness",
    "broker_figures",
]

DURATION_BOUNDS: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s) for s in (1, 5, 15, 30, 60, 120, 300, 600, 1800)
)
"""The upper bounds of the cycle-duration histogram's buckets."""

FIGURES_HORIZON = timedelta(days=1)
"""API figures are read from the syncs of runs started this recently (older ones say nothing
about the headroom now)."""

_NEED_TOKEN = "the metrics need a bearer token with the metrics scope (or a loopback client)"
_USED = re.compile(r"^(\d+)(?:/(\d+))?$")
_LEFT = re.compile(r"^(\S+) (\d+)(?:/(\d+))?$")


@frozen(kw_only=True)
class UserFreshness:
    """An active user (automation ``active``) and its latest successful run.

    :param last_success_at: when it finished; ``None`` when the user never had one.
    :param age: how long ago, at the snapshot; ``None`` when never.
    """

    user_id: str
    last_success_at: datetime | None
    age: timedelta | None


@frozen(kw_only=True)
class RateLimitFigure:
    """One rate limit as a broker's answers showed it: ``weight`` (Binance's used request
    weight of the minute), ``futures_weight``, or a Saxo service group (``port``, ``trade``).

    :param used: what was used, when the broker says so.
    :param remaining: what was left (the limit less the use when both are known).
    :param limit: the limit, when the broker says it.
    """

    name: str
    used: int | None
    remaining: int | None
    limit: int | None


@frozen(kw_only=True)
class BrokerFigures:
    """What the latest sync of one connection recorded (see :func:`broker_figures`)."""

    user_id: str
    connection_id: str
    broker: str | None
    recorded_at: datetime
    age: timedelta
    requests: int | None
    limits: tuple[RateLimitFigure, ...]


@frozen(kw_only=True)
class MetricsSnapshot:
    """The deployment at ``taken_at``.

    :param running: cycles running now (leases held and unexpired).
    :param daemons_alive: registered daemons seen within three lease lifetimes.
    :param daemons_silent: registered daemons not seen for longer (stopped without
        unregistering, or hung).
    :param halted_since: when the kill switch was engaged; ``None`` when trading is allowed.
    :param active_users: every user whose automation is active, by id.
    :param brokers: per connection, its latest recorded figures, by user then connection id.
    """

    taken_at: datetime
    runs: RunStats
    running: int
    daemons_alive: int
    daemons_silent: int
    halted_since: datetime | None
    active_users: tuple[UserFreshness, ...]
    brokers: tuple[BrokerFigures, ...]


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


def _limits(api: Mapping[str, str]) -> list[RateLimitFigure]:
    found: list[RateLimitFigure] = []
    for key, value in sorted(api.items()):
        if key.endswith("used_weight") and (used := _USED.match(value.strip())):
            spent, limit = int(used[1]), _int(used[2])
            name = key.removesuffix("used_weight") + "weight"
            remaining = None if limit is None else max(limit - spent, 0)
            found.append(RateLimitFigure(name=name, used=spent, remaining=remaining, limit=limit))
        elif key == "rate_limit_left":
            for part in value.split(","):
                if left := _LEFT.match(part.strip()):
                    found.append(
                        RateLimitFigure(
                            name=left[1], used=None, remaining=int(left[2]), limit=_int(left[3])
                        )
                    )
    return found


def broker_figures(recorded: RecordedFigures, now: datetime) -> BrokerFigures:
    """Read the figures one sync step recorded (:attr:`~tradecore.domain.TaskResult.api`):
    ``requests``; ``used_weight`` and ``<prefix>_used_weight`` as ``used`` or ``used/limit``;
    ``rate_limit_left`` as ``group left[/limit], …``. A figure in another shape is left out
    (figures are informative, never a reason to fail a scrape)."""
    requests = recorded.api.get("requests", "").strip()
    return BrokerFigures(
        user_id=recorded.user_id,
        connection_id=recorded.connection_id,
        broker=recorded.broker,
        recorded_at=recorded.recorded_at,
        age=max(now - recorded.recorded_at, timedelta(0)),
        requests=int(requests) if requests.isdigit() else None,
        limits=tuple(_limits(recorded.api)),
    )


def _loopback(client: str | None) -> bool:
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client.strip("[]"))
    except ValueError:
        return False
    # A dual-stack server shows an IPv4 client as ::ffff:127.0.0.1.
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


class Metrics:
    """The monitoring use cases. Build it with the application's :class:`ServiceContext`."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    async def authorise(
        self, *, token: str | None, client: str | None, allow_loopback: bool = True
    ) -> None:
        """Let a scrape in, or refuse it: a client on a loopback address (``127.0.0.1``,
        ``::1``) when ``allow_loopback``, or else a bearer ``token`` with the ``metrics`` scope
        of a user who is an administrator (its use is recorded).

        :param token: the bearer token of the request, without ``Bearer``; ``None`` when none.
        :param client: the address of the client connected to this server (not a forwarded
            header: behind a reverse proxy on this host, pass ``allow_loopback=False``).
        :raises LoginRefused: neither holds.
        """
        if allow_loopback and _loopback(client):
            return
        if not token:
            raise LoginRefused(_NEED_TOKEN)
        await ApiTokens(self._context).authenticate(token, scope=Scope.METRICS)

    async def snapshot(self) -> MetricsSnapshot:
        """The deployment now, in one read of the database (a few aggregate queries)."""
        now = self._context.clock.now()
        async with self._context.repository.unit_of_work() as uow:
            runs = await uow.runs.stats(bounds=DURATION_BOUNDS)
            successes = await uow.runs.last_successes()
            recorded = await uow.runs.latest_figures(since=now - FIGURES_HORIZON)
            running = await uow.leases.held()
            store_now = await uow.leases.now()
            daemons = await uow.daemons.list()
            halt = await uow.risk.get_halt()
            configs = await uow.automation.list()
        silent_after = self._context.lease_ttl * 3
        alive = sum(1 for d in daemons if store_now - d.seen_at <= silent_after)
        active = []
        for config in sorted(configs, key=lambda c: c.user_id):
            if config.state is not AutomationState.ACTIVE:
                continue
            last = successes.get(config.user_id)
            age = None if last is None else max(now - last, timedelta(0))
            active.append(UserFreshness(user_id=config.user_id, last_success_at=last, age=age))
        return MetricsSnapshot(
            taken_at=now,
            runs=runs,
            running=running,
            daemons_alive=alive,
            daemons_silent=len(daemons) - alive,
            halted_since=None if halt is None else halt.since,
            active_users=tuple(active),
            brokers=tuple(broker_figures(figures, now) for figures in recorded),
        )
