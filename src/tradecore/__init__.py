"""tradecore: keep a trader's brokers in one place.

Every N minutes tradecore syncs each user's positions and trades from their brokers into a database,
runs their active strategies, places their orders safely, records the run and sends a digest.

The supported import paths are :mod:`tradecore` (the domain types and the cycle service),
:mod:`tradecore.ports`, :mod:`tradecore.plugins`, :mod:`tradecore.testing` and :mod:`tradecore.errors`;
anything named ``_x`` is private.
"""

from __future__ import annotations

from typing import Any

from tradecore.domain import (
    CLIENT_ORDER_ID_MAX_LENGTH,
    DEFAULT_FREQUENCY_MINUTES,
    MAX_FREQUENCY_MINUTES,
    MIN_FREQUENCY_MINUTES,
    Account,
    Asset,
    AssetType,
    AutomationConfig,
    AutomationRun,
    AutomationState,
    BrokerConnection,
    Digest,
    DigestLine,
    DigestSection,
    Instrument,
    OAuthTokens,
    Order,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Phrase,
    Position,
    PositionKey,
    Quote,
    RiskLimits,
    RiskRule,
    RunStatus,
    Secret,
    Side,
    StrategyConfig,
    StrategyDecision,
    TaskKind,
    TaskResult,
    TaskStatus,
    TimeInForce,
    Trade,
    TradeKey,
    TradePage,
    TradingHalt,
    Trigger,
    User,
    client_order_id_for,
    fact_label,
    new_id,
    phrase,
    render_plain,
    run_status,
)
from tradecore.services import AutomationCycle, CycleOutcome

__all__ = [
    "CLIENT_ORDER_ID_MAX_LENGTH",
    "DEFAULT_FREQUENCY_MINUTES",
    "MAX_FREQUENCY_MINUTES",
    "MIN_FREQUENCY_MINUTES",
    "Account",
    "Asset",
    "AssetType",
    "AutomationConfig",
    "AutomationCycle",
    "AutomationRun",
    "AutomationState",
    "BrokerConnection",
    "CycleOutcome",
    "Digest",
    "DigestLine",
    "DigestSection",
    "Instrument",
    "OAuthTokens",
    "Order",
    "OrderIntent",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Phrase",
    "Position",
    "PositionKey",
    "Quote",
    "RiskLimits",
    "RiskRule",
    "RunStatus",
    "Secret",
    "Side",
    "StrategyConfig",
    "StrategyDecision",
    "TaskKind",
    "TaskResult",
    "TaskStatus",
    "TimeInForce",
    "Trade",
    "TradeKey",
    "TradePage",
    "TradingHalt",
    "Trigger",
    "User",
    "__version__",
    "client_order_id_for",
    "fact_label",
    "new_id",
    "phrase",
    "render_plain",
    "run_status",
]


def __getattr__(name: str) -> Any:
    # The version is read lazily from the installed metadata, never at import time.
    if name == "__version__":
        from importlib.metadata import version

        return version("tradecore")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
