"""The demo: a user with a paper connection and three ``dca`` strategies, so a newcomer sees a full
cycle with no setup: a live strategy that buys, a dry run that only says what it would buy, and a
dry run too large for the demo's risk limit, which is blocked with the rule named."""

from __future__ import annotations

from decimal import Decimal

from attrs import evolve, frozen

from tradecore.domain import BrokerConnection, StrategyConfig, User
from tradecore.errors import NotFound
from tradecore.ports import Clock, RepositoryPort

__all__ = [
    "DEMO_CONNECTION",
    "DEMO_MAX_ORDER_NOTIONAL",
    "DEMO_STRATEGIES",
    "DEMO_USER",
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
