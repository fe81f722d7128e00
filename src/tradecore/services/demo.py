"""The demo: a user with a paper connection and three ``dca`` strategies, so a newcomer sees a full
cycle with no setup: a live strategy that buys, a dry run that only says what it would buy, and a
dry run too large for the demo's risk limit, which is blocked with the rule named."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal

from attrs import evolve, field, frozen

from tradecore.domain import BrokerConnection, Position, StrategyConfig, TaskKind, Trigger, User
from tradecore.errors import NotFound
from tradecore.ports import Clock, RepositoryPort
from tradecore.services.context import ServiceContext
from tradecore.services.cycle import AutomationCycle, CycleOutcome
from tradecore.services.notify import implicit_targets
from tradecore.services.passwords import Passwords

__all__ = [
    "DEMO_CONNECTION",
    "DEMO_MAX_ORDER_NOTIONAL",
    "DEMO_STRATEGIES",
    "DEMO_USER",
    "Demo",
    "DemoRun",
    "DemoSetup",
    "ensure_demo",
]

DEMO_USER = "demo"
DEMO_CONNECTION = "paper-demo"
DEMO_MAX_ORDER_NOTIONAL = Decimal(1000)
"""The demo user's risk limit on one order's notional."""

DEMO_STRATEGIES: tuple[tuple[str, dict[str, str], bool], ...] = (
    ("dca-btc-live", {"instrument": "BTC-USD", "amount": "100", "every": "1h"}, False),
    (
        "dca-eth-dry-run",
        {"instrument": "ETH-USD", "amount": "50", "every": "1h", "quantity_step": "0.001"},
        True,
    ),
    ("dca-btc-oversized", {"instrument": "BTC-USD", "amount": "5000", "every": "1h"}, True),
)
"""The demo's strategies: name, ``dca`` parameters, dry run."""


@frozen(kw_only=True)
class DemoSetup:
    """The demo user and its paper connection; ``created`` is ``False`` when they existed."""

    user: User
    connection: BrokerConnection
    created: bool


async def ensure_demo(*, repository: RepositoryPort, clock: Clock, seed: str = "42") -> DemoSetup:
    """Return the demo user and its ``paper`` connection, creating them on first use, with the
    demo's strategies and risk limit (each created when missing, never changed once there)."""
    created = False
    async with repository.unit_of_work() as uow:
        try:
            user = await uow.users.get_by_name(DEMO_USER)
        except NotFound:
            user = User(name=DEMO_USER, created_at=clock.now())
            await uow.users.add(user)
            created = True
        try:
            connection = await uow.connections.get_by_name(user.id, DEMO_CONNECTION)
        except NotFound:
            connection = BrokerConnection(
                user_id=user.id,
                broker="paper",
                name=DEMO_CONNECTION,
                settings={"seed": seed},
                created_at=clock.now(),
            )
            await uow.connections.add(connection)
            created = True
        existing = {config.name for config in await uow.strategies.list(user.id)}
        for name, parameters, dry_run in DEMO_STRATEGIES:
            if name in existing:
                continue
            limits = await uow.risk.get_limits(user.id)
            if limits.max_order_notional is None:
                await uow.risk.save_limits(
                    evolve(limits, max_order_notional=DEMO_MAX_ORDER_NOTIONAL)
                )
            await uow.strategies.add(
                StrategyConfig(
                    user_id=user.id,
                    strategy_type="dca",
                    name=name,
                    connection_id=connection.id,
                    parameters=parameters,
                    dry_run=dry_run,
                    created_at=clock.now(),
                )
            )
        await uow.commit()
    return DemoSetup(user=user, connection=connection, created=created)


@frozen(kw_only=True)
class DemoRun:
    """One demo cycle: the setup, the stored run and its digest, where the digest went, and
    what the demo database holds afterwards.

    :param elsewhere: the notification targets the environment configures (Telegram), which
        replace the console; empty when the digest went to the console.
    :param undelivered: those of ``elsewhere`` that failed, with why; the digest then went to
        the console too.
    """

    setup: DemoSetup
    outcome: CycleOutcome
    trades_before: int
    trades_after: int
    positions: tuple[Position, ...]
    elsewhere: tuple[str, ...]
    undelivered: tuple[tuple[str, str], ...]


@frozen(kw_only=True)
class DemoLogin:
    """The demo user with a new password, to log in to the web dashboard with.

    :param password: random, new at each call; hidden from ``repr``.
    """

    setup: DemoSetup
    password: str = field(repr=False)


class Demo:
    """The demo as a use case: set the demo user up (once) and run one cycle for it.

    :param cycle: runs the cycle; its notifiers (the console) get the digest unless the
        environment configures targets of its own, and whenever those fail.
    """

    def __init__(self, context: ServiceContext, cycle: AutomationCycle) -> None:
        self._context = context
        self._cycle = cycle

    async def web_login(self, *, seed: str = "42") -> DemoLogin:
        """Create the demo user when missing (with one cycle run, so that there is something
        to see) and give it a new random password for the web dashboard (``tradecore web
        --demo``); the previous one stops working."""
        repository = self._context.repository
        setup = await ensure_demo(repository=repository, clock=self._context.clock, seed=seed)
        async with repository.unit_of_work() as uow:
            runs = await uow.runs.list(setup.user.id, limit=1)
        if not runs:
            await self.run(seed=seed)
        password = secrets.token_urlsafe(12)
        await Passwords(self._context).set_password(setup.user.id, password)
        return DemoLogin(setup=setup, password=password)

    async def run(
        self, *, seed: str = "42", on_ready: Callable[[DemoSetup, int], None] | None = None
    ) -> DemoRun:
        """Create the demo user when missing (``seed`` seeds its paper market, only then) and
        run one cycle for it now.

        :param on_ready: called with the setup and the trades stored so far just before the
            cycle runs (a front end introduces the demo before the digest appears).
        """
        repository = self._context.repository
        setup = await ensure_demo(repository=repository, clock=self._context.clock, seed=seed)
        async with repository.unit_of_work() as uow:
            before = await uow.trades.count(setup.user.id)
        if on_ready is not None:
            on_ready(setup, before)
        # The demo user has no stored targets: the environment's (Telegram) replace the console.
        elsewhere = tuple(
            implicit_targets(
                [], factories=self._context.notifiers, defaults=self._context.notifier_defaults
            )
        )
        cycle = evolve(self._cycle, notifiers=()) if elsewhere else self._cycle
        outcome = await cycle.run(setup.user.id, trigger=Trigger.MANUAL)
        undelivered = tuple(
            (step.subject, str(step.error or ""))
            for step in outcome.run.steps
            if step.kind is TaskKind.NOTIFY and step.subject in elsewhere and step.failed
        )
        if undelivered:
            for notifier in self._cycle.notifiers:
                await notifier.send(outcome.digest)
        async with repository.unit_of_work() as uow:
            positions = tuple(await uow.positions.list(setup.user.id))
            after = await uow.trades.count(setup.user.id)
        return DemoRun(
            setup=setup,
            outcome=outcome,
            trades_before=before,
            trades_after=after,
            positions=positions,
            elsewhere=elsewhere,
            undelivered=undelivered,
        )
