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
from tradecore.services.orders import ReconcileResult, reconcile_orders, submit_order
from tradecore.services.strategy_run import StrategyTarget, run_strategy
from tradecore.services.sync import SyncResult, sync_connection
from tradecore.services.tokens import RepositoryTokenStore, login_hint, save_login

__all__ = [
    "AutomationCycle",
    "CycleOutcome",
    "DemoSetup",
    "ReconcileResult",
    "RepositoryTokenStore",
    "StrategyTarget",
    "SyncResult",
    "create_broker",
    "describe_broker_failure",
    "ensure_demo",
    "login_hint",
    "mask_secrets",
    "open_broker",
    "reconcile_orders",
    "run_strategy",
    "save_login",
    "submit_order",
    "sync_connection",
]
