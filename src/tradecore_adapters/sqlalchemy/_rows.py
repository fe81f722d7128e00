"""Rows to domain objects and back: pure functions, one pair per table.

Reading a row the domain refuses (a hand-edited database, a bug elsewhere) raises
:class:`UnreadableRow`, which names the table and the row's key, never its values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from decimal import InvalidOperation
from typing import Any

from sqlalchemy import RowMapping, null

from tradecore.domain import (
    AutomationConfig,
    AutomationRun,
    DaemonInfo,
    Instrument,
    LeaseInterval,
    Order,
    OrderRequest,
    Position,
    RiskLimits,
    RunStatus,
    StrategyConfig,
    TaskResult,
    Trade,
    TradingHalt,
    User,
)
from tradecore.errors import DomainError, RepositoryError
from tradecore_adapters.sqlalchemy._wording import (
    error_from_text,
    error_to_text,
    wording_from_json,
    wording_to_json,
)

__all__ = [
    "TRADE_COLUMNS",
    "UnreadableRow",
    "automation_from_row",
    "automation_row",
    "daemon_from_row",
    "daemon_row",
    "fetching",
    "halt_from_row",
    "halt_row",
    "instrument_columns",
    "interval_from_row",
    "order_from_row",
    "order_row",
    "position_from_row",
    "position_row",
    "risk_limits_from_row",
    "risk_limits_row",
    "run_from_row",
    "run_row",
    "step_from_row",
    "step_row",
    "strategy_from_row",
    "strategy_row",
    "trade_from_row",
    "trade_row",
    "user_from_row",
    "user_row",
]

Row = Mapping[str, Any] | RowMapping


class UnreadableRow(RepositoryError):
    """A stored row does not make a valid domain object (the database was changed by hand?)."""


_BAD_VALUE = (DomainError, ValueError, TypeError, KeyError, InvalidOperation)


@contextmanager
def _reading(table: str, key: Callable[[], object]) -> Iterator[None]:
    try:
        yield
    except _BAD_VALUE as exc:
        raise UnreadableRow(
            f"a row of table {table!r} ({key()}) cannot be read: {type(exc).__name__}; "
            "the database holds a value tradecore never writes"
        ) from None


@contextmanager
def fetching(table: str) -> Iterator[None]:
    """Around fetching rows of ``table``: a value the column type cannot convert (text that is not
    a decimal or not JSON on SQLite) raises :class:`UnreadableRow` naming the table."""
    try:
        yield
    except _BAD_VALUE as exc:
        raise UnreadableRow(
            f"a row of table {table!r} cannot be read: {type(exc).__name__}; "
            "the database holds a value tradecore never writes"
        ) from None


def _instrument(row: Row) -> Instrument:
    return Instrument(
        symbol=row["symbol"],
        asset_type=row["asset_type"],
        broker_key=row["broker_key"],
        base=row["base"],
        quote=row["quote"],
    )


def instrument_columns(instrument: Instrument) -> dict[str, Any]:
    """The instrument's columns, shared by positions, trades and orders."""
    return {
        "symbol": instrument.symbol,
        "asset_type": instrument.asset_type.value,
        "broker_key": instrument.broker_key,
        "base": instrument.base,
        "quote": instrument.quote,
    }


def user_row(user: User) -> dict[str, Any]:
    """A :class:`User` as a ``users`` row."""
    return {
        "id": user.id,
        "name": user.name,
        "created_at": user.created_at,
        "is_admin": user.is_admin,
        "language": user.language,
    }


def user_from_row(row: Row) -> User:
    """A ``users`` row as a :class:`User`."""
    with _reading("users", lambda: f"id {row['id']!r}"):
        return User(
            id=row["id"],
            name=row["name"],
            created_at=row["created_at"],
            is_admin=bool(row["is_admin"]),
            language=row["language"],
        )


def position_row(user_id: str, position: Position) -> dict[str, Any]:
    """A :class:`Position` as a ``positions`` row."""
    return {
        "user_id": user_id,
        "connection_id": position.connection_id,
        "account_id": position.account_id,
        **instrument_columns(position.instrument),
        "quantity": position.quantity,
        "average_price": position.average_price,
        "currency": position.currency,
        "market_value": position.market_value,
        "unrealized_pnl": position.unrealized_pnl,
        "as_of": position.as_of,
    }


def position_from_row(row: Row) -> Position:
    """A ``positions`` row as a :class:`Position`."""
    with _reading("positions", lambda: f"symbol {row['symbol']!r}"):
        return Position(
            connection_id=row["connection_id"],
            account_id=row["account_id"],
            instrument=_instrument(row),
            quantity=row["quantity"],
            average_price=row["average_price"],
            currency=row["currency"],
            market_value=row["market_value"],
            unrealized_pnl=row["unrealized_pnl"],
            as_of=row["as_of"],
        )


def trade_row(user_id: str, trade: Trade) -> dict[str, Any]:
    """A :class:`Trade` as a ``trades`` row."""
    return {
        "user_id": user_id,
        "connection_id": trade.connection_id,
        "account_id": trade.account_id,
        **instrument_columns(trade.instrument),
        "broker_trade_id": trade.broker_trade_id,
        "broker_order_id": trade.broker_order_id,
        "client_order_id": trade.client_order_id,
        "side": trade.side.value,
        "quantity": trade.quantity,
        "price": trade.price,
        "fee": trade.fee,
        "fee_asset": trade.fee_asset,
        "executed_at": trade.executed_at,
    }


TRADE_COLUMNS = (
    "user_id",
    "connection_id",
    "account_id",
    "symbol",
    "asset_type",
    "broker_key",
    "base",
    "quote",
    "broker_trade_id",
    "broker_order_id",
    "client_order_id",
    "side",
    "quantity",
    "price",
    "fee",
    "fee_asset",
    "executed_at",
)
"""The columns :func:`trade_row` fills, in order."""


def trade_from_row(row: Row) -> Trade:
    """A ``trades`` row as a :class:`Trade`."""
    with _reading("trades", lambda: f"broker trade id {row['broker_trade_id']!r}"):
        return Trade(
            connection_id=row["connection_id"],
            account_id=row["account_id"],
            broker_trade_id=row["broker_trade_id"],
            broker_order_id=row["broker_order_id"],
            client_order_id=row["client_order_id"],
            instrument=_instrument(row),
            side=row["side"],
            quantity=row["quantity"],
            price=row["price"],
            fee=row["fee"],
            fee_asset=row["fee_asset"],
            executed_at=row["executed_at"],
        )


def order_row(user_id: str, order: Order) -> dict[str, Any]:
    """An :class:`Order` as an ``orders`` row."""
    request = order.request
    return {
        "user_id": user_id,
        "connection_id": request.connection_id,
        "account_id": request.account_id,
        "client_order_id": request.client_order_id,
        "broker_order_id": order.broker_order_id,
        **instrument_columns(request.instrument),
        "side": request.side.value,
        "order_type": request.order_type.value,
        "quantity": request.quantity,
        "limit_price": request.limit_price,
        "time_in_force": request.time_in_force.value,
        "status": order.status.value,
        "filled_quantity": order.filled_quantity,
        "average_fill_price": order.average_fill_price,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "reason": order.reason,
        "strategy_id": order.strategy_id,
        "missing_lookups": order.missing_lookups,
    }


def order_from_row(row: Row) -> Order:
    """An ``orders`` row as an :class:`Order`."""
    with _reading("orders", lambda: f"client order id {row['client_order_id']!r}"):
        return Order(
            request=OrderRequest(
                connection_id=row["connection_id"],
                account_id=row["account_id"],
                client_order_id=row["client_order_id"],
                instrument=_instrument(row),
                side=row["side"],
                order_type=row["order_type"],
                quantity=row["quantity"],
                limit_price=row["limit_price"],
                time_in_force=row["time_in_force"],
            ),
            status=row["status"],
            broker_order_id=row["broker_order_id"],
            filled_quantity=row["filled_quantity"],
            average_fill_price=row["average_fill_price"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            reason=row["reason"],
            strategy_id=row["strategy_id"],
            missing_lookups=row["missing_lookups"],
        )


def strategy_row(strategy: StrategyConfig) -> dict[str, Any]:
    """A :class:`StrategyConfig` as a ``strategies`` row."""
    return {
        "id": strategy.id,
        "user_id": strategy.user_id,
        "name": strategy.name,
        "strategy_type": strategy.strategy_type,
        "connection_id": strategy.connection_id,
        "parameters": dict(strategy.parameters),
        "active": strategy.active,
        "dry_run": strategy.dry_run,
        "created_at": strategy.created_at,
        "state": dict(strategy.state),
    }


def strategy_from_row(row: Row) -> StrategyConfig:
    """A ``strategies`` row as a :class:`StrategyConfig`."""
    with _reading("strategies", lambda: f"id {row['id']!r}"):
        parameters, state = row["parameters"], row["state"]
        if not isinstance(parameters, dict) or not isinstance(state, dict):
            raise TypeError("parameters or state")
        return StrategyConfig(
            id=row["id"],
            user_id=row["user_id"],
            strategy_type=row["strategy_type"],
            name=row["name"],
            connection_id=row["connection_id"],
            parameters=parameters,
            active=bool(row["active"]),
            dry_run=bool(row["dry_run"]),
            created_at=row["created_at"],
            state=state,
        )


def automation_row(config: AutomationConfig) -> dict[str, Any]:
    """An :class:`AutomationConfig` as an ``automation_configs`` row."""
    return {
        "user_id": config.user_id,
        "state": config.state.value,
        "frequency_minutes": config.frequency_minutes,
        "next_due_at": config.next_due_at,
        "last_run_at": config.last_run_at,
        "run_requested_at": config.run_requested_at,
    }


def automation_from_row(row: Row) -> AutomationConfig:
    """An ``automation_configs`` row as an :class:`AutomationConfig`."""
    with _reading("automation_configs", lambda: f"user id {row['user_id']!r}"):
        return AutomationConfig(
            user_id=row["user_id"],
            state=row["state"],
            frequency_minutes=row["frequency_minutes"],
            next_due_at=row["next_due_at"],
            last_run_at=row["last_run_at"],
            run_requested_at=row["run_requested_at"],
        )


def interval_from_row(row: Row) -> LeaseInterval:
    """A ``lease_audit`` row as a :class:`LeaseInterval`."""
    with _reading("lease_audit", lambda: f"id {row['id']!r}"):
        return LeaseInterval(
            user_id=row["user_id"],
            owner=row["owner"],
            fencing=row["fencing"],
            run_id=row["run_id"],
            claimed_at=row["claimed_at"],
            expires_at=row["expires_at"],
            released_at=row["released_at"],
            outcome=row["outcome"],
        )


def daemon_row(daemon: DaemonInfo) -> dict[str, Any]:
    """A :class:`DaemonInfo` as an ``automation_daemons`` row."""
    return {
        "owner": daemon.owner,
        "host": daemon.host,
        "pid": daemon.pid,
        "started_at": daemon.started_at,
        "seen_at": daemon.seen_at,
    }


def daemon_from_row(row: Row) -> DaemonInfo:
    """An ``automation_daemons`` row as a :class:`DaemonInfo`."""
    with _reading("automation_daemons", lambda: f"owner {row['owner']!r}"):
        return DaemonInfo(
            owner=row["owner"],
            host=row["host"],
            pid=row["pid"],
            started_at=row["started_at"],
            seen_at=row["seen_at"],
        )


def risk_limits_row(limits: RiskLimits) -> dict[str, Any]:
    """:class:`RiskLimits` as a ``risk_limits`` row.

    ``allowed_instruments`` is a sorted JSON list, or SQL ``NULL`` (not JSON ``null``) when every
    instrument is allowed; an empty list allows none.
    """
    allowed = limits.allowed_instruments
    return {
        "user_id": limits.user_id,
        "max_order_notional": limits.max_order_notional,
        "max_cycle_notional": limits.max_cycle_notional,
        "max_orders_per_cycle": limits.max_orders_per_cycle,
        "allowed_instruments": null() if allowed is None else sorted(allowed),
    }


def risk_limits_from_row(row: Row) -> RiskLimits:
    """A ``risk_limits`` row as :class:`RiskLimits`."""
    with _reading("risk_limits", lambda: f"user id {row['user_id']!r}"):
        allowed = row["allowed_instruments"]
        if allowed is not None and not isinstance(allowed, list):
            raise TypeError("allowed_instruments")
        return RiskLimits(
            user_id=row["user_id"],
            max_order_notional=row["max_order_notional"],
            max_cycle_notional=row["max_cycle_notional"],
            max_orders_per_cycle=row["max_orders_per_cycle"],
            allowed_instruments=allowed,
        )


def halt_row(halt: TradingHalt) -> dict[str, Any]:
    """The engaged kill switch as the ``trading_halt`` row (always id 1)."""
    return {"id": 1, "reason": halt.reason, "since": halt.since}


def halt_from_row(row: Row) -> TradingHalt:
    """The ``trading_halt`` row as a :class:`TradingHalt`."""
    with _reading("trading_halt", lambda: f"id {row['id']!r}"):
        return TradingHalt(reason=row["reason"], since=row["since"])


def run_row(run: AutomationRun) -> dict[str, Any]:
    """An :class:`AutomationRun` (without its steps) as an ``automation_runs`` row."""
    return {
        "id": run.id,
        "user_id": run.user_id,
        "trigger": run.trigger.value,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "status": None if run.status is None else run.status.value,
        "digest": None if run.digest is None else run.digest.value,
    }


def step_row(run_id: str, position: int, step: TaskResult) -> dict[str, Any]:
    """Step ``position`` of a run as a ``run_steps`` row."""
    return {
        "run_id": run_id,
        "position": position,
        "kind": step.kind.value,
        "subject": step.subject,
        "subject_id": step.subject_id,
        "status": step.status.value,
        "started_at": step.started_at,
        "duration_us": step.duration // timedelta(microseconds=1),
        "counts": dict(step.counts),
        "api": dict(step.api),
        "error": error_to_text(step.error),
        "notes": [wording_to_json(note) for note in step.notes],
    }


def step_from_row(row: Row) -> TaskResult:
    """A ``run_steps`` row as a :class:`TaskResult`."""
    with _reading("run_steps", lambda: f"run id {row['run_id']!r}, step {row['position']}"):
        counts, api, notes = row["counts"], row["api"], row["notes"]
        if not isinstance(counts, dict) or not isinstance(api, dict) or not isinstance(notes, list):
            raise TypeError("steps")
        return TaskResult(
            kind=row["kind"],
            subject=row["subject"],
            subject_id=row["subject_id"],
            status=row["status"],
            started_at=row["started_at"],
            duration=timedelta(microseconds=row["duration_us"]),
            counts=counts,
            api=api,
            error=error_from_text(row["error"]),
            notes=[wording_from_json(note) for note in notes],
        )


def run_from_row(row: Row, steps: list[TaskResult]) -> AutomationRun:
    """An ``automation_runs`` row and its steps as an :class:`AutomationRun`."""
    with _reading("automation_runs", lambda: f"id {row['id']!r}"):
        return AutomationRun(
            id=row["id"],
            user_id=row["user_id"],
            trigger=row["trigger"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            status=None if row["status"] is None else RunStatus(row["status"]),
            steps=steps,
            digest=row["digest"],
            digest_claim=row["digest_claim"],
        )
