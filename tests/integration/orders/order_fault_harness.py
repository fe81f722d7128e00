"""What the order-protocol fault tests share: one venue per broker (the paper venue, the fake
Binance, the fake Saxo) behind the same small interface, a SQLite ledger that survives a
"restart", and a strategy that buys once per slot.

A *process* here is a repository object and broker objects; a *restart* is a new repository
object on the same SQLite file and new broker objects (a fresh plugin factory) on the same venue,
which, like a real broker, outlives the process. :class:`~tests.fakes.faulty_broker.BrokerFaults`
is shared across processes: it is the test's view of what reached the venue.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, API_SECRET, binance_connection, market
from tests.fakes.faulty_broker import BrokerFaults
from tests.fakes.saxo_exchange import API_BASE, AUTH_BASE, FakeSaxo
from tests.fakes.saxo_server import FakeSaxoTransport
from tests.fakes.saxo_wire import JSON_TYPE, dumps

from tradecore.domain import (
    BrokerConnection,
    Instrument,
    OAuthTokens,
    Order,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Secret,
    Side,
    StrategyConfig,
    StrategyDecision,
    TaskKind,
    TaskResult,
    client_order_id_for,
    new_id,
)
from tradecore.errors import InsufficientFunds
from tradecore.ports import (
    BrokerContext,
    BrokerFactory,
    BrokerPort,
    ParameterValues,
    RepositoryPort,
    StrategyContext,
    StrategyFactory,
)
from tradecore.services import AutomationCycle, CycleOutcome, LocalVenueStore, create_broker
from tradecore.testing import FakeClock
from tradecore.testing.builders import make_user
from tradecore_adapters.binance.plugin import tradecore_register_brokers as binance_brokers
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.paper._state import load_state
from tradecore_adapters.paper.broker import PaperBroker
from tradecore_adapters.paper.config import PaperConfig
from tradecore_adapters.saxo.plugin import tradecore_register_brokers as saxo_brokers
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import upgrade

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
"""A Friday noon (UTC): markets open; the slot of the test strategy is this day."""
USER_ID = "user-1"
STRATEGY_TYPE = "buy-per-slot"

SAXO_ACCOUNT_KEY = "LZTc7DdejXODf-WSl2aCyQ=="
SAXO_OTHER_ACCOUNT_KEY = "Qm9nLWFjY291bnQ+Lw|2=="
SAXO_AAPL = 211


# -- the venues ------------------------------------------------------------------------------------


class Venue(ABC):
    """One broker's venue and how the tests drive it.

    :param name: the broker's plugin name.
    :param connection: the user's connection to it (stored in the ledger).
    :param instrument: what the test strategy buys, ``quantity`` of it, on ``account_id``.
    """

    name: str
    connection: BrokerConnection
    instrument: Instrument
    account_id: str
    quantity: Decimal

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.faults = BrokerFaults()
        self.http: httpx.AsyncClient | None = None

    @abstractmethod
    def plugin_factory(self) -> BrokerFactory:
        """A new process's broker factory (fresh adapter objects on the same venue)."""

    def factory(self) -> BrokerFactory:
        """:meth:`plugin_factory` with the shared :attr:`faults`."""
        return self.faults.factory(self.plugin_factory(), name=self.name)

    def broker(self, repository: RepositoryPort) -> BrokerPort:
        """An adapter as tradecore builds it (tokens kept in ``repository``), with the faults."""
        return create_broker(
            self.connection,
            brokers={self.name: self.factory()},
            repository=repository,
            clock=self.clock,
            http_client=self.http,
        )

    def cycle(self, repository: RepositoryPort) -> AutomationCycle:
        """A process's automation cycle: this venue's broker, the test strategy."""
        return AutomationCycle(
            repository=repository,
            clock=self.clock,
            brokers={self.name: self.factory()},
            strategies={STRATEGY_TYPE: buy_per_slot(self)},
            http_client=self.http,
        )

    def request(
        self, client_order_id: str | None = None, quantity: str | None = None
    ) -> OrderRequest:
        """A market buy of :attr:`quantity` (or ``quantity``) of :attr:`instrument`."""
        return OrderRequest(
            connection_id=self.connection.id,
            account_id=self.account_id,
            client_order_id=client_order_id or client_order_id_for(f"test:{new_id()}"),
            instrument=self.instrument,
            side=Side.BUY,
            order_type=OrderType.MARKET,
            quantity=self.quantity if quantity is None else Decimal(quantity),
        )

    @abstractmethod
    def orders(self) -> list[str]:
        """The client id of every order the venue holds, whatever its status."""

    @abstractmethod
    def placements(self) -> int:
        """Order requests that reached the venue (the POSTs the fake received)."""

    def lookups(self, client_order_id: str) -> int:
        """Lookups of ``client_order_id`` made by the code under test."""
        return self.faults.lookups.count(client_order_id)

    @abstractmethod
    def lose_next_answer(self) -> None:
        """The next order is executed, then its answer is lost (the broker's own way)."""

    @abstractmethod
    def lag(self, lookups: int) -> None:
        """The next ``lookups`` lookups do not show any order yet."""

    @abstractmethod
    def refuse_next(self) -> None:
        """The next order is definitively refused (not executed): no funds."""

    def internal_errors(self) -> list[BaseException]:
        """Exceptions raised inside a fake (a bug in the test or the fake, never expected)."""
        return []

    async def aclose(self) -> None:
        """Close what the venue opened."""
        if self.http is not None:
            await self.http.aclose()


class PaperVenueHarness(Venue):
    """The paper venue: one simulated account every process's :class:`PaperBroker` trades on.

    The venue itself cannot be scripted: the faults come from the wrapper (an execution whose
    answer is lost, an order hidden from lookups, a refusal before sending).
    """

    name = "paper"
    instrument = Instrument(symbol="BTC-USD")
    account_id = "paper"
    quantity = Decimal("0.01")

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.connection = BrokerConnection(
            id="conn-paper",
            user_id=USER_ID,
            broker="paper",
            name="paper",
            settings={"history_days": "0", "starting_cash": "100000"},
            created_at=START - timedelta(hours=1),
        )
        self._config = PaperConfig.from_settings(self.connection.settings)
        self.store = LocalVenueStore()

    def plugin_factory(self) -> BrokerFactory:
        def create(connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
            return PaperBroker(
                connection, clock=context.clock, config=self._config, store=self.store
            )

        return BrokerFactory(name="paper", description="paper on the test's venue", create=create)

    def orders(self) -> list[str]:
        # The venue does not list its orders: ask it about every client id that reached it.
        return [cid for cid in dict.fromkeys(self.faults.sent_ids) if self._holds(cid)]

    def _holds(self, client_order_id: str) -> bool:
        saved = self.store.state
        orders = [] if saved is None else load_state(saved)["orders"]
        return client_order_id in {order.ticket.client_order_id for order in orders}

    def placements(self) -> int:
        return len(self.faults.sent)

    def lose_next_answer(self) -> None:
        self.faults.lose_answer()

    def lag(self, lookups: int) -> None:
        self.faults.hide_from_lookups(lookups)

    def refuse_next(self) -> None:
        self.faults.fail_before_send(
            InsufficientFunds("paper: the buy costs more than the free cash", broker="paper")
        )


BINANCE_INSUFFICIENT = {
    "code": -2010,
    "msg": "Account has insufficient balance for requested action.",
}
BINANCE_NOT_FOUND = {"code": -2013, "msg": "Order does not exist."}


class BinanceVenue(Venue):
    """The fake Binance (spot) on an in-process mock transport."""

    name = "binance"
    instrument = Instrument(symbol="BTCUSDT")
    account_id = "spot"
    quantity = Decimal("0.01000")

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        fake = FakeBinance()
        fake.server_time_ms = lambda: int(clock.now().timestamp() * 1000) + fake.clock_offset_ms  # type: ignore[method-assign]
        market(fake)
        fake.add_account(
            API_KEY,
            secret=API_SECRET,
            balances={"USDT": ("100000.00000000", "0"), "BTC": ("1.50000000", "0")},
        )
        self.fake = fake
        self.connection = binance_connection()
        self.http = httpx.AsyncClient(transport=fake.mock_transport())

    def plugin_factory(self) -> BrokerFactory:
        (factory,) = binance_brokers()
        return factory

    def internal_errors(self) -> list[BaseException]:
        return self.fake.internal_errors

    def orders(self) -> list[str]:
        return [order.client_order_id for order in self.fake.accounts[API_KEY].orders]

    def placements(self) -> int:
        return self.fake.count("POST", "/api/v3/order")

    def lookups(self, client_order_id: str) -> int:
        return sum(
            1
            for r in self.fake.requests
            if (r.method, r.path) == ("GET", "/api/v3/order")
            and r.param("origClientOrderId") == client_order_id
        )

    def lose_next_answer(self) -> None:
        self.fake.script("POST", "/api/v3/order", drop=True, execute=True)

    def lag(self, lookups: int) -> None:
        self.fake.script("GET", "/api/v3/order", status=400, json=BINANCE_NOT_FOUND, times=lookups)

    def refuse_next(self) -> None:
        self.fake.script("POST", "/api/v3/order", status=400, json=BINANCE_INSUFFICIENT)


SAXO_EMPTY = dumps({"Data": []})
SAXO_ORDERS = "/sim/openapi/trade/v2/orders"


class _DegradingTransport(FakeSaxoTransport):
    """The fake Saxo, except that the next order placements queued in :attr:`degraded` are
    executed by the fake and then answered with that HTTP status instead (the fake's own 5xx
    scripts answer without executing)."""

    def __init__(self, fake: FakeSaxo) -> None:
        super().__init__(fake)
        self.degraded: deque[int] = deque()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and request.url.path == SAXO_ORDERS and self.degraded:
            status = self.degraded.popleft()
            body = dumps({"ErrorCode": "InternalServerError", "Message": "An error occurred."})
            headers = {"Content-Type": JSON_TYPE}
            if "x-correlation" in response.headers:
                headers["X-Correlation"] = response.headers["x-correlation"]
            return httpx.Response(status, headers=headers, content=body)
        return response


SAXO_NO_CASH = dumps({"ErrorCode": "InsufficientCash", "Message": "Insufficient cash on account."})


class SaxoVenue(Venue):
    """The fake Saxo (SIM) on an in-process mock transport; the connection has logged in."""

    name = "saxo"
    instrument = Instrument(symbol="AAPL:xnas", asset_type="stock")
    account_id = SAXO_ACCOUNT_KEY
    quantity = Decimal("5")

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        fake = FakeSaxo(now=clock.now)
        fake.add_instrument(
            SAXO_AAPL,
            "Stock",
            "AAPL:xnas",
            "Apple Inc.",
            "USD",
            Decimal("189.51"),
            Decimal("189.53"),
        )
        fake.add_account(SAXO_ACCOUNT_KEY, "192134INET", "EUR")
        fake.add_account(SAXO_OTHER_ACCOUNT_KEY, "192134USD", "USD")
        self.fake = fake
        answer = fake.issue_tokens()
        now = clock.now()
        tokens = OAuthTokens(
            access_token=Secret(str(answer["access_token"])),
            refresh_token=Secret(str(answer["refresh_token"])),
            access_expires_at=now + timedelta(seconds=int(str(answer["expires_in"]))),
            refresh_expires_at=now
            + timedelta(seconds=int(str(answer["refresh_token_expires_in"]))),
        )
        self.connection = BrokerConnection(
            id="conn-saxo",
            user_id=USER_ID,
            broker="saxo",
            name="saxo-sim",
            settings={
                "app_key": fake.app_key,
                "auth_base_url": AUTH_BASE,
                "api_base_url": API_BASE,
            },
            tokens=tokens,
            created_at=START - timedelta(days=1),
        )
        self.transport = _DegradingTransport(fake)
        self.http = httpx.AsyncClient(transport=self.transport)

    def plugin_factory(self) -> BrokerFactory:
        (factory,) = saxo_brokers()
        return factory

    def internal_errors(self) -> list[BaseException]:
        return self.fake.internal_errors

    def orders(self) -> list[str]:
        return [order.external_reference or "" for order in self.fake.orders]

    def placements(self) -> int:
        return self.fake.count("POST", "/trade/v2/orders")

    def lose_next_answer(self) -> None:
        self.fake.script("POST", "/trade/v2/orders", "timeout_after_execute")

    def lag(self, lookups: int) -> None:
        # A lookup reads the open orders, then the order-activity audit: both empty.
        for _ in range(lookups):
            self.fake.script("GET", "/port/v1/orders", ("status", 200, SAXO_EMPTY))
            self.fake.script("GET", "/cs/v1/audit/orderactivities", ("status", 200, SAXO_EMPTY))

    def refuse_next(self) -> None:
        self.fake.script("POST", "/trade/v2/orders", ("status", 400, SAXO_NO_CASH))

    def execute_then_answer(self, status: int) -> None:
        """The next order is executed, then answered with HTTP ``status`` (a 5xx)."""
        self.transport.degraded.append(status)


VENUES: Mapping[str, type[Venue]] = {
    "paper": PaperVenueHarness,
    "binance": BinanceVenue,
    "saxo": SaxoVenue,
}


# -- the ledger ------------------------------------------------------------------------------------


class Ledger:
    """A SQLite database file and the processes (repository objects) opened on it."""

    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path}"
        self.key_ring = KeyRing.from_keys([KeyRing.generate_key()])
        self._opened: list[SqlRepository] = []

    async def create(self, venue: Venue, *, strategy: bool = True) -> SqlRepository:
        """The first process: a migrated database with the user, the venue's connection and
        (unless ``strategy`` is false) the test strategy."""
        await upgrade(self.url)
        repository = await self.restart()
        async with repository.unit_of_work() as uow:
            await uow.users.add(make_user(id=USER_ID, created_at=START - timedelta(days=2)))
            await uow.connections.add(venue.connection)
            if strategy:
                await uow.strategies.add(strategy_config(venue))
            await uow.commit()
        return repository

    async def restart(self) -> SqlRepository:
        """A new process's repository on the same file."""
        repository = await SqlRepository.open(self.url, key_ring=self.key_ring)
        self._opened.append(repository)
        return repository

    async def aclose(self) -> None:
        for repository in self._opened:
            await repository.aclose()


async def ledger_orders(repository: RepositoryPort, venue: Venue) -> list[Order]:
    """Every order of the venue's connection, oldest first."""
    async with repository.unit_of_work() as uow:
        return list(await uow.orders.list(USER_ID, connection_id=venue.connection.id))


async def ledger_order(repository: RepositoryPort, client_order_id: str) -> Order:
    async with repository.unit_of_work() as uow:
        return await uow.orders.get(USER_ID, client_order_id)


async def stored_steps(
    repository: RepositoryPort, outcome: CycleOutcome
) -> dict[TaskKind, list[TaskResult]]:
    """The steps of ``outcome``'s run as stored, by kind."""
    async with repository.unit_of_work() as uow:
        run = await uow.runs.get(USER_ID, outcome.run.id)
    steps: dict[TaskKind, list[TaskResult]] = {}
    for step in run.steps:
        steps.setdefault(step.kind, []).append(step)
    return steps


async def strategy_state(repository: RepositoryPort) -> Mapping[str, str]:
    async with repository.unit_of_work() as uow:
        return (await uow.strategies.get(USER_ID, STRATEGY_ID)).state


# -- the test strategy -----------------------------------------------------------------------------

STRATEGY_ID = "strategy-buy-per-slot"
SLOT = "slot"
GIVE_UP = frozenset({OrderStatus.NOT_PLACED, OrderStatus.REJECTED})


class BuyPerSlot:
    """Buys ``quantity`` of ``instrument`` once per slot (the UTC day), remembering the slot in
    its state. It decides again in a slot only when its last order there came to nothing
    (``NOT_PLACED`` or ``REJECTED``): everything else, ``UNKNOWN`` included, counts as bought."""

    def __init__(self, instrument: Instrument, quantity: Decimal, account_id: str) -> None:
        self._instrument = instrument
        self._quantity = quantity
        self._account_id = account_id

    def instruments(self) -> Sequence[Instrument]:
        return (self._instrument,)

    async def evaluate(self, context: StrategyContext) -> StrategyDecision:
        slot = context.now.date().isoformat()
        last = context.orders[-1] if context.orders else None
        if context.state.get(SLOT) == slot and (last is None or last.status not in GIVE_UP):
            return StrategyDecision(notes=[f"already bought in slot {slot}"])
        intent = OrderIntent(
            instrument=self._instrument,
            side=Side.BUY,
            quantity=self._quantity,
            account_id=self._account_id,
            reason=f"slot {slot}",
        )
        return StrategyDecision(intents=[intent], state={SLOT: slot})


def buy_per_slot(venue: Venue) -> StrategyFactory:
    def create(config: StrategyConfig, values: ParameterValues) -> Any:
        return BuyPerSlot(venue.instrument, venue.quantity, venue.account_id)

    return StrategyFactory(name=STRATEGY_TYPE, description="buys once per day", create=create)


def strategy_config(venue: Venue) -> StrategyConfig:
    return StrategyConfig(
        id=STRATEGY_ID,
        user_id=USER_ID,
        strategy_type=STRATEGY_TYPE,
        name="buy-per-slot",
        connection_id=venue.connection.id,
        created_at=START - timedelta(days=1),
    )


def strategy_client_id(outcome: CycleOutcome, index: int = 0) -> str:
    """The client id the strategy's ``index``-th intent got in ``outcome``'s cycle."""
    return client_order_id_for(f"{STRATEGY_ID}:{outcome.run.id}:{index}")
