"""The health of a user's setup: each active connection logs in and lists its accounts, each
notification target is reachable. Nothing is sent and no order is placed (an OAuth token due
for renewal is renewed and stored, as any use of the connection would)."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from tradecore.domain import BrokerConnection, User
from tradecore.services.brokers import describe_broker_failure
from tradecore.services.context import ServiceContext
from tradecore.services.notify import TargetNotifier, notifiers_for

__all__ = ["CheckLine", "Health"]


@frozen(kw_only=True)
class CheckLine:
    """One check: what was checked, whether it passed, and what was found (never a secret)."""

    ok: bool
    subject: str
    text: str


class Health:
    """Check users' connections and notification targets."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    async def check(self, user_ids: Sequence[str] | None = None) -> list[CheckLine]:
        """One line per active connection and per target of each user given (every user by
        default), in order; a user with neither gets one line saying so.

        :raises NotFound: a user given does not exist.
        """
        async with self._context.repository.unit_of_work() as uow:
            if user_ids is None:
                users = list(await uow.users.list())
            else:
                users = [await uow.users.get(user_id) for user_id in user_ids]
        if not users:
            return [CheckLine(ok=True, subject="users", text="none yet")]
        lines: list[CheckLine] = []
        for user in users:
            lines.extend(await self._user(user))
        return lines

    async def _user(self, user: User) -> list[CheckLine]:
        async with self._context.repository.unit_of_work() as uow:
            connections = await uow.connections.list(user.id, active_only=True)
            targets = await uow.notification_targets.list(user.id)
        lines = [await self._connection(user, connection) for connection in connections]
        resolved = notifiers_for(
            targets,
            factories=self._context.notifiers,
            defaults=self._context.notifier_defaults,
            clock=self._context.clock,
            limits=self._context.limits,
        )
        lines.extend([await _target(user, item) for item in resolved])
        if not lines:
            lines.append(
                CheckLine(
                    ok=True, subject=f"user {user.name}", text="no active connection or target yet"
                )
            )
        return lines

    async def _connection(self, user: User, connection: BrokerConnection) -> CheckLine:
        subject = f"{user.name} / connection {connection.name} ({connection.broker})"
        try:
            async with self._context.open_broker(connection) as adapter:
                await adapter.authenticate()
                accounts = await adapter.get_accounts()
                figures = dict(adapter.api_figures())
        except Exception as exc:
            return CheckLine(
                ok=False, subject=subject, text=describe_broker_failure(exc, connection)
            )
        text = f"logged in, {len(accounts)} account(s)"
        offset = figures.get("clock_offset_ms")
        text += (
            f", clock offset {offset} ms" if offset is not None else ", no clock offset reported"
        )
        return CheckLine(ok=True, subject=subject, text=text)


async def _target(user: User, item: TargetNotifier) -> CheckLine:
    subject = f"{user.name} / notify {item.name}"
    if item.notifier is None:
        return CheckLine(ok=False, subject=subject, text=item.error or "cannot be built")
    try:
        text = await item.notifier.check()
    except Exception as exc:
        return CheckLine(
            ok=False, subject=subject, text=item.masked(str(exc) or type(exc).__name__)
        )
    return CheckLine(ok=True, subject=subject, text=text)
