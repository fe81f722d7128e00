"""Builders of valid domain objects for tests: sensible defaults, every field overridable by keyword.

Money is :class:`~decimal.Decimal` and time is UTC, as in the domain. Defaults are deterministic:
times default to :data:`DEFAULT_TIME`, and an id left out is derived from the object's natural key
(a user's name; a connection's, a notification target's or a strategy's user and name), in the
same 32-hex form as :func:`~tradecore.domain.new_id`. So the defaults fit together:
``make_connection()`` and ``make_notification_target()`` belong to ``make_user()``, and
``make_trade()``, ``make_position()``, ``make_order()`` and ``make_strategy()`` are on
``make_connection()``::

    user = make_user()                         # "alice", id DEFAULT_USER_ID
    connection = make_connection()             # "main" of alice, id DEFAULT_CONNECTION_ID
    bob = make_user(name="bob")
    bobs = make_connection(user_id=bob.id)
    trade = make_trade(connection_id=bobs.id, broker_trade_id="7", price=Decimal("101.5"))
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tradecore.domain import (
    AssetType,
    AutomationConfig,
    AutomationRun,
    AutomationState,
    BrokerConnection,
    Instrument,
    NotificationTarget,
    OAuthTokens,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    RiskLimits,
    RunStatus,
    Secret,
    Side,
    StrategyConfig,
    TaskKind,
    TaskResult,
    TaskStatus,
    TimeInForce,
    Trade,
    Trigger,
    User,
    new_id,
)

__all__ = [
    "DEFAULT_CONNECTION_ID",
    "DEFAULT_TIME",
    "DEFAULT_USER_ID",
    "make_automation_config",
    "make_connection",
    "make_instrument",
    "make_notification_target",
    "make_order",
    "make_position",
    "make_risk_limits",
    "make_run",
    "make_strategy",
    "make_task_result",
    "make_tokens",
    "make_trade",
    "make_user",
]

DEFAULT_TIME = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)
"""The time every builder uses unless told otherwise."""

_NAMESPACE = uuid.UUID("6f1d7c1e-3b52-4c38-9a55-2b6c1f0e7a11")


def _stable_id(*parts: str) -> str:
    # A deterministic id shaped like new_id(): 32 lowercase hex characters.
    return uuid.uuid5(_NAMESPACE, "\x1f".join(parts)).hex


def make_user(
    *,
    name: str = "alice",
    id: str | None = None,
    created_at: datetime = DEFAULT_TIME,
    is_admin: bool = False,
    language: str | None = None,
) -> User:
    """Build a :class:`~tradecore.domain.User`.

    :param id: defaults to an id derived from ``name``.
    """
    return User(
        id=id or _stable_id("user", name),
        name=name,
        created_at=created_at,
        is_admin=is_admin,
        language=language,
    )


DEFAULT_USER_ID = make_user().id
"""The id of ``make_user()`` (alice)."""


def make_tokens(
    *,
    access_token: str = "access-token",
    refresh_token: str | None = "refresh-token",
    access_expires_at: datetime = DEFAULT_TIME + timedelta(minutes=20),
    refresh_expires_at: datetime | None = DEFAULT_TIME + timedelta(days=30),
) -> OAuthTokens:
    """Build :class:`~tradecore.domain.OAuthTokens`; plain strings are wrapped in ``Secret``."""
    return OAuthTokens(
        access_token=Secret(access_token),
        refresh_token=None if refresh_token is None else Secret(refresh_token),
        access_expires_at=access_expires_at,
        refresh_expires_at=refresh_expires_at,
    )


def make_connection(
    *,
    user_id: str = DEFAULT_USER_ID,
    name: str = "main",
    broker: str = "paper",
    id: str | None = None,
    settings: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    tokens: OAuthTokens | None = None,
    active: bool = True,
    created_at: datetime = DEFAULT_TIME,
) -> BrokerConnection:
    """Build a :class:`~tradecore.domain.BrokerConnection`.

    :param id: defaults to an id derived from ``user_id`` and ``name``.
    :param settings: defaults to ``{"environment": "sim"}``.
    :param secrets: plain strings, wrapped in :class:`~tradecore.domain.Secret`; none by default.
    """
    return BrokerConnection(
        id=id or _stable_id("connection", user_id, name),
        user_id=user_id,
        broker=broker,
        name=name,
        settings={"environment": "sim"} if settings is None else settings,
        secrets={key: Secret(value) for key, value in (secrets or {}).items()},
        tokens=tokens,
        active=active,
        created_at=created_at,
    )


DEFAULT_CONNECTION_ID = make_connection().id
"""The id of ``make_connection()`` (alice's "main")."""


def make_notification_target(
    *,
    user_id: str = DEFAULT_USER_ID,
    notifier: str = "telegram",
    name: str | None = None,
    id: str | None = None,
    settings: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    active: bool = True,
    created_at: datetime = DEFAULT_TIME,
) -> NotificationTarget:
    """Build a :class:`~tradecore.domain.NotificationTarget`.

    :param name: defaults to the notifier's name.
    :param id: defaults to an id derived from ``user_id`` and the name.
    :param settings: defaults to ``{"chat_id": "1001"}``.
    :param secrets: plain strings, wrapped in :class:`~tradecore.domain.Secret`; none by default.
    """
    name = notifier if name is None else name
    return NotificationTarget(
        id=id or _stable_id("notification_target", user_id, name),
        user_id=user_id,
        notifier=notifier,
        name=name,
        settings={"chat_id": "1001"} if settings is None else settings,
        secrets={key: Secret(value) for key, value in (secrets or {}).items()},
        active=active,
        created_at=created_at,
    )


def make_instrument(
    symbol: str = "BTCUSDT",
    *,
    asset_type: AssetType = AssetType.SPOT,
    broker_key: str | None = None,
    base: str | None = None,
    quote: str | None = None,
) -> Instrument:
    """Build an :class:`~tradecore.domain.Instrument`."""
    return Instrument(
        symbol=symbol, asset_type=asset_type, broker_key=broker_key, base=base, quote=quote
    )


def make_position(
    *,
    connection_id: str = DEFAULT_CONNECTION_ID,
    account_id: str = "spot",
    symbol: str = "BTCUSDT",
    instrument: Instrument | None = None,
    quantity: Decimal = Decimal("0.5"),
    average_price: Decimal | None = Decimal("42000.00"),
    currency: str | None = "USDT",
    market_value: Decimal | None = None,
    unrealized_pnl: Decimal | None = None,
    as_of: datetime = DEFAULT_TIME,
) -> Position:
    """Build a :class:`~tradecore.domain.Position`.

    :param instrument: defaults to ``make_instrument(symbol)``.
    """
    return Position(
        connection_id=connection_id,
        account_id=account_id,
        instrument=instrument or make_instrument(symbol),
        quantity=quantity,
        average_price=average_price,
        currency=currency,
        market_value=market_value,
        unrealized_pnl=unrealized_pnl,
        as_of=as_of,
    )


def make_trade(
    *,
    connection_id: str = DEFAULT_CONNECTION_ID,
    account_id: str = "spot",
    broker_trade_id: str = "1",
    symbol: str = "BTCUSDT",
    instrument: Instrument | None = None,
    side: Side = Side.BUY,
    quantity: Decimal = Decimal("0.1"),
    price: Decimal = Decimal("42000.00"),
    fee: Decimal = Decimal("0"),
    fee_asset: str | None = None,
    broker_order_id: str | None = None,
    client_order_id: str | None = None,
    executed_at: datetime = DEFAULT_TIME,
) -> Trade:
    """Build a :class:`~tradecore.domain.Trade`.

    :param instrument: defaults to ``make_instrument(symbol)``.
    """
    return Trade(
        connection_id=connection_id,
        account_id=account_id,
        broker_trade_id=broker_trade_id,
        broker_order_id=broker_order_id,
        client_order_id=client_order_id,
        instrument=instrument or make_instrument(symbol),
        side=side,
        quantity=quantity,
        price=price,
        fee=fee,
        fee_asset=fee_asset,
        executed_at=executed_at,
    )


def make_order(
    *,
    connection_id: str = DEFAULT_CONNECTION_ID,
    account_id: str = "spot",
    client_order_id: str = "tc-order-1",
    symbol: str = "BTCUSDT",
    instrument: Instrument | None = None,
    side: Side = Side.BUY,
    order_type: OrderType = OrderType.MARKET,
    quantity: Decimal = Decimal("0.1"),
    limit_price: Decimal | None = None,
    time_in_force: TimeInForce = TimeInForce.GTC,
    status: OrderStatus = OrderStatus.PENDING_SUBMIT,
    broker_order_id: str | None = None,
    filled_quantity: Decimal = Decimal("0"),
    average_fill_price: Decimal | None = None,
    created_at: datetime = DEFAULT_TIME,
    updated_at: datetime | None = None,
    reason: str | None = None,
    strategy_id: str | None = None,
    missing_lookups: int = 0,
) -> Order:
    """Build an :class:`~tradecore.domain.Order` with its :class:`~tradecore.domain.OrderRequest`.

    :param instrument: defaults to ``make_instrument(symbol)``.
    :param limit_price: required with ``order_type=OrderType.LIMIT``, as in the domain.
    """
    request = OrderRequest(
        connection_id=connection_id,
        account_id=account_id,
        client_order_id=client_order_id,
        instrument=instrument or make_instrument(symbol),
        side=side,
        order_type=order_type,
        quantity=quantity,
        limit_price=limit_price,
        time_in_force=time_in_force,
    )
    return Order(
        request=request,
        status=status,
        broker_order_id=broker_order_id,
        filled_quantity=filled_quantity,
        average_fill_price=average_fill_price,
        created_at=created_at,
        updated_at=updated_at,
        reason=reason,
        strategy_id=strategy_id,
        missing_lookups=missing_lookups,
    )


def make_strategy(
    *,
    user_id: str = DEFAULT_USER_ID,
    connection_id: str = DEFAULT_CONNECTION_ID,
    name: str = "dca-btc",
    strategy_type: str = "dca",
    id: str | None = None,
    parameters: Mapping[str, str] | None = None,
    active: bool = True,
    dry_run: bool = False,
    created_at: datetime = DEFAULT_TIME,
    state: Mapping[str, str] | None = None,
) -> StrategyConfig:
    """Build a :class:`~tradecore.domain.StrategyConfig`.

    :param id: defaults to an id derived from ``user_id`` and ``name``.
    :param parameters: defaults to ``{"symbol": "BTCUSDT", "amount": "25"}``.
    :param state: defaults to nothing remembered (``{}``).
    """
    return StrategyConfig(
        id=id or _stable_id("strategy", user_id, name),
        user_id=user_id,
        strategy_type=strategy_type,
        name=name,
        connection_id=connection_id,
        parameters={"symbol": "BTCUSDT", "amount": "25"} if parameters is None else parameters,
        active=active,
        dry_run=dry_run,
        created_at=created_at,
        state=state or {},
    )


def make_risk_limits(
    *,
    user_id: str = DEFAULT_USER_ID,
    max_order_notional: Decimal | None = Decimal("1000.50"),
    max_cycle_notional: Decimal | None = Decimal("2500.00"),
    max_orders_per_cycle: int | None = 3,
    allowed_instruments: Iterable[str] | None = ("BTCUSDT", "ETHUSDT"),
) -> RiskLimits:
    """Build :class:`~tradecore.domain.RiskLimits` with every limit set (unlike the domain's
    defaults); pass ``None`` to lift one."""
    return RiskLimits(
        user_id=user_id,
        max_order_notional=max_order_notional,
        max_cycle_notional=max_cycle_notional,
        max_orders_per_cycle=max_orders_per_cycle,
        allowed_instruments=None if allowed_instruments is None else frozenset(allowed_instruments),
    )


def make_automation_config(
    *,
    user_id: str = DEFAULT_USER_ID,
    state: AutomationState = AutomationState.ACTIVE,
    frequency_minutes: int = 30,
    next_due_at: datetime | None = DEFAULT_TIME,
    last_run_at: datetime | None = None,
) -> AutomationConfig:
    """Build an :class:`~tradecore.domain.AutomationConfig` (active and due by default)."""
    return AutomationConfig(
        user_id=user_id,
        state=state,
        frequency_minutes=frequency_minutes,
        next_due_at=next_due_at,
        last_run_at=last_run_at,
    )


def make_task_result(
    *,
    kind: TaskKind = TaskKind.SYNC,
    subject: str = "main",
    subject_id: str | None = DEFAULT_CONNECTION_ID,
    status: TaskStatus = TaskStatus.SUCCESS,
    started_at: datetime = DEFAULT_TIME,
    duration: timedelta = timedelta(seconds=1),
    counts: Mapping[str, int] | None = None,
    api: Mapping[str, str] | None = None,
    error: str | None = None,
    notes: Sequence[str] = (),
) -> TaskResult:
    """Build a :class:`~tradecore.domain.TaskResult`.

    :param error: defaults to ``"simulated failure"`` when ``status`` is ``FAILURE``.
    :param notes: plain text or :class:`~tradecore.domain.Phrase` notes.
    """
    if error is None and TaskStatus(status) is TaskStatus.FAILURE:
        error = "simulated failure"
    return TaskResult(
        kind=kind,
        subject=subject,
        subject_id=subject_id,
        status=status,
        started_at=started_at,
        duration=duration,
        counts=counts or {},
        api=api or {},
        error=error,
        notes=tuple(notes),
    )


def make_run(
    *,
    user_id: str = DEFAULT_USER_ID,
    trigger: Trigger = Trigger.SCHEDULE,
    started_at: datetime = DEFAULT_TIME,
    finished_at: datetime | None = None,
    status: RunStatus | None = None,
    steps: Iterable[TaskResult] = (),
    id: str | None = None,
) -> AutomationRun:
    """Build an :class:`~tradecore.domain.AutomationRun` (unfinished, no steps, by default).

    :param id: defaults to a new random id (runs have no natural key).
    """
    return AutomationRun(
        id=id or new_id(),
        user_id=user_id,
        trigger=trigger,
        started_at=started_at,
        finished_at=finished_at,
        status=status,
        steps=tuple(steps),
    )
