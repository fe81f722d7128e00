"""One automation cycle of one user (docs/cycle.md).

1. Load the user's active connections and strategies.
2. For every connection, concurrently (bounded): refresh its OAuth token when near expiry, sync
   positions and trades, then reconcile its open orders. One broker failing never stops the others.
3. Run every active strategy against its synced connection, one after the other, through one risk
   gate (the user's limits, the kill switch, paused automation) so per-cycle limits count every
   order of the cycle.
4. Save the run with every step's result and its status.
5. Send the digest to every notifier, once (:mod:`tradecore.services.digests`: a digest its
   sender could not finish sending is sent by the next owner of the cycle); a notification
   failure is its own step and changes nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta

from attrs import define, field, frozen

from tradecore.domain import (
    TOKEN_REFRESH_MARGIN,
    Account,
    AutomationRun,
    BrokerConnection,
    Digest,
    DigestDelivery,
    NotificationTarget,
    TaskKind,
    TaskResult,
    TaskStatus,
    Trigger,
    Wording,
    new_id,
    phrase,
)
from tradecore.logs import run_context
from tradecore.ports import (
    BrokerCaches,
    BrokerFactory,
    BrokerPort,
    Clock,
    NotifierFactory,
    NotifierPort,
    RepositoryPort,
    SharedLimits,
    StrategyFactory,
)
from tradecore.services._steps import StepTimer, describe_error
from tradecore.services.brokers import create_broker
from tradecore.services.digests import deliver_digest
from tradecore.services.notify import NotifierDefaults, TargetNotifier, notifiers_for
from tradecore.services.orders import SAFE_WINDOW, reconcile_orders
from tradecore.services.risk import load_risk_gate
from tradecore.services.strategy_run import StrategyTarget, run_strategy
from tradecore.services.sync import sync_connection

__all__ = ["AutomationCycle", "CycleOutcome"]

_log = logging.getLogger("tradecore.cycle")


@frozen(kw_only=True)
class CycleOutcome:
    """A finished cycle: the run as stored, and the digest that was sent."""

    run: AutomationRun
    digest: Digest


@define(kw_only=True)
class AutomationCycle:
    """Runs cycles. Build it once (see ``tradecore_adapters.bootstrap``) and call :meth:`run`.

    :param brokers: broker factories by name (from the plugin registry).
    :param strategies: strategy factories by type.
    :param notifiers: where every user's digests go (the console), besides each user's own
        notification targets.
    :param notifier_factories: notifier factories by name, to build users' targets.
    :param notifier_defaults: what a target does not set, by notifier (from the environment);
        see :mod:`tradecore.services.notify`.
    :param max_concurrent_connections: how many connections sync at the same time.
    :param http_client: handed to broker factories (tests pass one over a mock transport).
    :param token_refresh_margin: refresh OAuth tokens expiring within this margin.
    :param order_safe_window: how long after an order was recorded a broker that does not know
        it proves nothing (see :func:`~tradecore.services.reconcile_orders`).
    :param limits: the limits every process obeys together, handed to every broker and
        notifier (see :class:`~tradecore.ports.SharedLimits`).
    :param broker_caches: the process's cache per broker type, which outlives the cycle's
        adapters (``BrokerContext.cache``); ``None``: adapters get no cache.
    """

    repository: RepositoryPort
    clock: Clock
    brokers: Mapping[str, BrokerFactory]
    strategies: Mapping[str, StrategyFactory] = field(factory=dict)
    notifiers: Sequence[NotifierPort] = ()
    notifier_factories: Mapping[str, NotifierFactory] = field(factory=dict)
    notifier_defaults: Mapping[str, NotifierDefaults] = field(factory=dict)
    max_concurrent_connections: int = 4
    http_client: object | None = None
    token_refresh_margin: timedelta = TOKEN_REFRESH_MARGIN
    order_safe_window: timedelta = SAFE_WINDOW
    limits: SharedLimits | None = None
    broker_caches: BrokerCaches | None = None

    async def run(
        self, user_id: str, *, trigger: Trigger = Trigger.MANUAL, run_id: str | None = None
    ) -> CycleOutcome:
        """Run one cycle for ``user_id`` and return the stored run and its digest.

        Every log line written while it runs carries the run's id (:mod:`tradecore.logs`).

        :param run_id: the id to give the run (a scheduler chooses it when it claims the
            cycle); a new one by default.
        :raises NotFound: no such user.
        :raises LeaseLost: the cycle runs under a lease (a fenced repository) that was lost.
        """
        run_id = run_id or new_id()
        with run_context(run_id, user_id):
            return await self._run(user_id, trigger=trigger, run_id=run_id)

    async def _run(self, user_id: str, *, trigger: Trigger, run_id: str) -> CycleOutcome:
        async with self.repository.unit_of_work() as uow:
            user = await uow.users.get(user_id)
            connections = list(await uow.connections.list(user_id, active_only=True))
            strategies = list(await uow.strategies.list(user_id, active_only=True))
            notify_to = list(await uow.notification_targets.list(user_id))
            gate = await load_risk_gate(uow, user_id)
            run = AutomationRun(
                id=run_id, user_id=user_id, trigger=trigger, started_at=self.clock.now()
            )
            await uow.runs.add(run)
            await uow.commit()
        _log.debug(
            "cycle of %s started (%s): %d connection(s), %d strategy(ies)",
            user.name,
            trigger.value,
            len(connections),
            len(strategies),
        )

        limit = asyncio.Semaphore(max(1, self.max_concurrent_connections))
        prepared = await asyncio.gather(*(self._connection(c, limit) for c in connections))
        steps = [step for connection_steps, _ in prepared for step in connection_steps]
        targets = {target.connection.id: target for _, target in prepared}
        try:
            for config in strategies:
                steps.append(
                    await run_strategy(
                        config=config,
                        target=targets.get(config.connection_id),
                        factories=self.strategies,
                        repository=self.repository,
                        clock=self.clock,
                        run_id=run.id,
                        gate=gate,
                    )
                )
        finally:
            await asyncio.gather(
                *(_close(t.broker) for t in targets.values() if t.broker is not None)
            )

        run.finish(self.clock.now(), steps)
        targets_to = self.targets_of(notify_to)
        run.digest = DigestDelivery.PENDING if targets_to else DigestDelivery.DELIVERED
        await self._save(run)
        for step in run.steps:
            _log.log(
                logging.WARNING if step.failed else logging.DEBUG,
                "%s %s: %s%s",
                step.kind.value,
                step.subject,
                step.status.value,
                f" ({step.error})" if step.error else "",
            )
        _log.info(
            "cycle of %s finished: %s in %.1f s",
            user.name,
            run.status.value if run.status else "unknown",
            run.duration.total_seconds() if run.duration else 0.0,
        )
        digest = Digest.from_run(run, user_name=user.name)
        if targets_to:
            await deliver_digest(
                run, digest, targets_to, repository=self.repository, clock=self.clock
            )
        return CycleOutcome(run=run, digest=digest)

    async def deliver_pending_digests(self, user_id: str, *, limit: int = 5) -> int:
        """Deliver the digests of ``user_id``'s finished runs that are still pending (their
        sender lost its lease, or stopped, while sending them: see
        :mod:`tradecore.services.digests`), oldest first, at most ``limit``; a scheduler calls
        it under the user's lease before the cycle. Returns how many it delivered.

        :raises LeaseLost: the lease was lost; what is left stays pending.
        """
        async with self.repository.unit_of_work() as uow:
            pending = list(await uow.runs.pending_digests(user_id, limit=limit))
            if not pending:  # the common case: one query
                return 0
            user = await uow.users.get(user_id)
            notify_to = list(await uow.notification_targets.list(user_id))
        delivered = 0
        for run in pending:
            _log.info(
                "sending the digest of run %s (%s), left undelivered by its cycle",
                run.id,
                run.started_at.strftime("%Y-%m-%d %H:%M UTC"),
            )
            digest = Digest.from_run(run, user_name=user.name)
            targets = self.targets_of(notify_to)
            if await deliver_digest(
                run, digest, targets, repository=self.repository, clock=self.clock
            ):
                delivered += 1
        return delivered

    async def _save(self, run: AutomationRun) -> None:
        async with self.repository.unit_of_work() as uow:
            await uow.runs.update(run)
            await uow.commit()

    async def _connection(
        self, connection: BrokerConnection, limit: asyncio.Semaphore
    ) -> tuple[list[TaskResult], StrategyTarget]:
        async with limit:
            steps: list[TaskResult] = []
            timer = StepTimer(
                self.clock,
                TaskKind.SYNC,
                connection.name,
                connection.id,
                secrets=connection.secret_values(),
            )
            try:
                broker = self._create_broker(connection)
            except Exception as exc:
                error = describe_error(exc)
                steps.append(timer.result(TaskStatus.FAILURE, error=error))
                return steps, StrategyTarget(connection=connection, broker=None)
            if not await self._refresh_if_due(connection, broker, steps):
                blocked = phrase(
                    "connection {name} could not refresh its token", name=repr(connection.name)
                )
                return steps, StrategyTarget(
                    connection=connection, broker=broker, blocked_reason=blocked
                )
            accounts = await self._sync(connection, broker, steps)
            if accounts is None:
                blocked = phrase("connection {name} did not sync", name=repr(connection.name))
                return steps, StrategyTarget(
                    connection=connection, broker=broker, blocked_reason=blocked
                )
            blocked_by_orders = await self._reconcile(connection, broker, steps)
            return steps, StrategyTarget(
                connection=connection,
                broker=broker,
                accounts=accounts,
                blocked_reason=blocked_by_orders,
            )

    async def _sync(
        self, connection: BrokerConnection, broker: BrokerPort, steps: list[TaskResult]
    ) -> tuple[Account, ...] | None:
        timer = StepTimer(
            self.clock,
            TaskKind.SYNC,
            connection.name,
            connection.id,
            secrets=connection.secret_values(),
        )
        try:
            result = await sync_connection(
                repository=self.repository, broker=broker, connection=connection, clock=self.clock
            )
        except Exception as exc:
            error = describe_error(exc)
            steps.append(timer.result(TaskStatus.FAILURE, api=_figures(broker), error=error))
            return None
        counts = {
            "accounts": len(result.accounts),
            "positions": result.positions,
            "trades_seen": result.trades_seen,
            "trades_new": result.trades_new,
        }
        steps.append(timer.result(TaskStatus.SUCCESS, counts=counts, api=_figures(broker)))
        return result.accounts

    def _create_broker(self, connection: BrokerConnection) -> BrokerPort:
        return create_broker(
            connection,
            brokers=self.brokers,
            repository=self.repository,
            clock=self.clock,
            http_client=self.http_client,
            token_refresh_margin=self.token_refresh_margin,
            limits=self.limits,
            caches=self.broker_caches,
        )

    async def _refresh_if_due(
        self, connection: BrokerConnection, broker: BrokerPort, steps: list[TaskResult]
    ) -> bool:
        tokens = connection.tokens
        if tokens is None or not tokens.refresh_due(
            self.clock.now(), margin=self.token_refresh_margin
        ):
            return True
        timer = StepTimer(
            self.clock,
            TaskKind.TOKEN_REFRESH,
            connection.name,
            connection.id,
            secrets=connection.secret_values(),
        )
        try:
            await broker.refresh_auth_token()
        except Exception as exc:
            error = describe_error(exc)
            steps.append(timer.result(TaskStatus.FAILURE, error=error))
            return False
        steps.append(timer.result(TaskStatus.SUCCESS, counts={"refreshed": 1}))
        return True

    async def _reconcile(
        self, connection: BrokerConnection, broker: BrokerPort, steps: list[TaskResult]
    ) -> Wording | None:
        timer = StepTimer(
            self.clock,
            TaskKind.RECONCILE,
            connection.name,
            connection.id,
            secrets=connection.secret_values(),
        )
        try:
            result = await reconcile_orders(
                repository=self.repository,
                broker=broker,
                connection=connection,
                clock=self.clock,
                safe_window=self.order_safe_window,
            )
        except Exception as exc:
            steps.append(timer.result(TaskStatus.FAILURE, error=describe_error(exc)))
            return phrase(
                "the open orders of {name} could not be reconciled", name=repr(connection.name)
            )
        if result.checked:
            counts = {
                "orders_checked": result.checked,
                "orders_updated": result.updated,
                "orders_unresolved": result.unresolved,
                "orders_not_placed": result.not_placed,
            }
            steps.append(timer.result(TaskStatus.SUCCESS, counts=counts, notes=result.notes))
        if result.unresolved:
            return phrase(
                "{count} order(s) on {name} have an unknown outcome; no strategy trades it "
                "until they are found or shown never placed",
                count=str(result.unresolved),
                name=repr(connection.name),
            )
        return None

    def targets_of(self, targets: Sequence[NotificationTarget]) -> list[TargetNotifier]:
        """Where a user's digest goes: the shared notifiers, then the user's own targets."""
        shared = [
            TargetNotifier(name=notifier.name, notifier=notifier) for notifier in self.notifiers
        ]
        return shared + notifiers_for(
            targets,
            factories=self.notifier_factories,
            defaults=self.notifier_defaults,
            clock=self.clock,
            limits=self.limits,
        )


def _figures(broker: BrokerPort) -> Mapping[str, str]:
    try:
        return dict(broker.api_figures())
    except Exception:  # figures are informative; never let them fail a step
        return {}


async def _close(broker: BrokerPort) -> None:
    try:
        await broker.aclose()
    except Exception:  # closing is best effort; the cycle's result is already decided
        return
