"""The use cases: they take ports as arguments and never import an adapter."""

from __future__ import annotations

from tradecore.services.brokers import (
    create_broker,
    describe_broker_failure,
    mask_secrets,
    open_broker,
)
from tradecore.services.cycle import AutomationCycle, CycleOutcome
from tradecore.services.demo import DemoSetup, ensure_demo
from tradecore.services.manual_orders import (
    ManualOrder,
    PlacedOrder,
    cancel_recorded_order,
    manual_client_order_id,
    place_manual_order,
)
from tradecore.services.orders import (
    SAFE_WINDOW,
    ReconcileResult,
    describe_order,
    reconcile_orders,
    refresh_order,
    submit_order,
)
from tradecore.services.risk import engage_halt, load_risk_gate, notional_of, release_halt
from tradecore.services.strategies import (
    add_strategy,
    remove_strategy,
    set_strategy_active,
    strategy_factory,
)
from tradecore.services.strategy_run import StrategyTarget, describe_intent, run_strategy
from tradecore.services.sync import SyncResult, sync_connection
from tradecore.services.tokens import RepositoryTokenStore, login_hint, save_login

__all__ = [
    "SAFE_WINDOW",
    "AutomationCycle",
    "CycleOutcome",
    "DemoSetup",
    "ManualOrder",
    "PlacedOrder",
    "ReconcileResult",
    "RepositoryTokenStore",
    "StrategyTarget",
    "SyncResult",
    "add_strategy",
    "cancel_recorded_order",
    "create_broker",
    "describe_broker_failure",
    "describe_intent",
    "describe_order",
    "engage_halt",
    "ensure_demo",
    "load_risk_gate",
    "login_hint",
    "manual_client_order_id",
    "mask_secrets",
    "notional_of",
    "open_broker",
    "place_manual_order",
    "reconcile_orders",
    "refresh_order",
    "release_halt",
    "remove_strategy",
    "run_strategy",
    "save_login",
    "set_strategy_active",
    "strategy_factory",
    "submit_order",
    "sync_connection",
]
