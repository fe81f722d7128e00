"""The overview of a user, in one read: what a dashboard shows on its first screen.

Per connection: its state (enabled, secrets readable, logged in) and its last sync as the run
ledger recorded it; the automation's state, next and last run and success rate
(:class:`~tradecore.services.automation.AutomationStatus`).
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from tradecore.domain import (
    AutomationRun,
    BrokerConnection,
    TaskKind,
    TaskResult,
    TaskStatus,
    User,
)
from tradecore.services.automation import RECENT_RUNS, AutomationStatus
from tradecore.services.context import ServiceContext
from tradecore.services.unreadable import needs_secrets

__all__ = ["ConnectionOverview", "Overview", "UserOverview"]


@frozen(kw_only=True)
class ConnectionOverview:
    """One connection at a glance.

    :param last_sync: the newest sync step of the recent runs (``None``: not synced by a
        cycle lately).
    :param problem: what keeps it from working, in one sentence (disabled, secrets no key can
        decrypt, a login needed); ``None`` when nothing is known to be wrong.
    """

    connection: BrokerConnection
    last_sync: TaskResult | None
    problem: str | None

    @property
    def last_sync_at(self) -> datetime | None:
        """When the newest sync began."""
        return None if self.last_sync is None else self.last_sync.started_at

    @property
    def last_sync_ok(self) -> bool | None:
        """Whether the newest sync succeeded (``None``: none lately)."""
        return None if self.last_sync is None else self.last_sync.status is TaskStatus.SUCCESS


@frozen(kw_only=True)
class UserOverview:
    """A user's connections and automation, read together."""

    user: User
    connections: tuple[ConnectionOverview, ...]
    automation: AutomationStatus

    @property
    def last_run(self) -> AutomationRun | None:
        """The newest run, finished or not."""
        return self.automation.last_run

    @property
    def success_rate(self) -> float | None:
        """The share of the recent finished runs that succeeded."""
        return self.automation.success_rate


class Overview:
    """The overview read."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    async def of(self, user_id: str) -> UserOverview:
        """The user's overview, read in one unit of work.

        :raises NotFound: no such user.
        """
        async with self._context.repository.unit_of_work() as uow:
            user = await uow.users.get(user_id)
            connections = await uow.connections.list(user_id)
            config = await uow.automation.get(user_id)
            now = await uow.leases.now()
            runs = tuple(await uow.runs.list(user_id, limit=RECENT_RUNS))
            held = [
                interval
                for interval in await uow.leases.intervals(user_id)
                if interval.released_at is None and interval.expires_at > now
            ]
        status = AutomationStatus(
            user_id=user_id,
            config=config,
            now=now,
            recent=runs,
            running=held[-1] if held else None,
        )
        return UserOverview(
            user=user,
            connections=tuple(self._connection(each, runs) for each in connections),
            automation=status,
        )

    def _connection(
        self, connection: BrokerConnection, runs: tuple[AutomationRun, ...]
    ) -> ConnectionOverview:
        syncs = [
            step
            for run in runs
            for step in run.steps
            if step.kind is TaskKind.SYNC and step.subject_id == connection.id
        ]
        last = max(syncs, key=lambda step: step.started_at, default=None)
        return ConnectionOverview(
            connection=connection, last_sync=last, problem=self._problem(connection)
        )

    def _problem(self, connection: BrokerConnection) -> str | None:
        factory = self._context.brokers.get(connection.broker)
        if factory is None:
            return f"its broker plugin {connection.broker!r} is not installed"
        if not connection.active:
            return "disabled"
        if connection.secrets_unreadable and needs_secrets(factory):
            return "its secrets cannot be decrypted with the current key: add them again"
        tokens = connection.tokens
        if tokens is not None and tokens.login_required is not None:
            return f"a new login is needed: {tokens.login_required}"
        if factory.login is not None and tokens is None:
            return "never logged in"
        return None
