"""The domain: attrs types with Decimal money and UTC time. No I/O, no clock, no outer imports."""

from __future__ import annotations

from tradecore.domain.accounts import (
    MAX_PASSWORD_LENGTH,
    MAX_TOKEN_DAYS,
    MIN_PASSWORD_LENGTH,
    TOKEN_PREFIX,
    ApiToken,
    LoginPolicy,
    Scope,
    checked_password,
    checked_scopes,
    new_token_secret,
    token_digest,
)
from tradecore.domain.amounts import (
    MAX_AMOUNT,
    MAX_AMOUNT_DECIMALS,
    MAX_AMOUNT_DIGITS,
    checked_amount,
)
from tradecore.domain.automation import (
    DEFAULT_FREQUENCY_MINUTES,
    MAX_FREQUENCY_MINUTES,
    MIN_FREQUENCY_MINUTES,
    AutomationConfig,
    AutomationRun,
    AutomationState,
    DigestDelivery,
    RunStatus,
    TaskKind,
    TaskResult,
    TaskStatus,
    Trigger,
    run_status,
    slot_after,
    slot_at_or_after,
)
from tradecore.domain.connection import TOKEN_REFRESH_MARGIN, BrokerConnection, OAuthTokens
from tradecore.domain.digest import (
    Digest,
    DigestLine,
    DigestSection,
    fact_label,
    render_plain,
)
from tradecore.domain.equity import EquityKey, EquityPoint, EquitySpan, equity_points
from tradecore.domain.ids import new_id
from tradecore.domain.instrument import AssetType, Instrument
from tradecore.domain.lease import DaemonInfo, Lease, LeaseInterval
from tradecore.domain.monitoring import (
    DurationHistogram,
    RecordedFigures,
    RunCount,
    RunStats,
    checked_bounds,
)
from tradecore.domain.names import MAX_NAME_LENGTH, checked_name
from tradecore.domain.notification import NotificationTarget
from tradecore.domain.order import (
    CLIENT_ORDER_ID_MAX_LENGTH,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    TimeInForce,
    client_order_id_for,
)
from tradecore.domain.portfolio import Account, Asset, Position, PositionKey, Quote
from tradecore.domain.risk import (
    DEFAULT_MAX_ORDERS_PER_CYCLE,
    RiskBlock,
    RiskGate,
    RiskLimits,
    RiskRule,
    TradingHalt,
)
from tradecore.domain.secret import Secret
from tradecore.domain.strategy import OrderIntent, StrategyConfig, StrategyDecision
from tradecore.domain.trade import Side, Trade, TradeKey, TradePage
from tradecore.domain.user import User

__all__ = [
    "CLIENT_ORDER_ID_MAX_LENGTH",
    "DEFAULT_FREQUENCY_MINUTES",
    "DEFAULT_MAX_ORDERS_PER_CYCLE",
    "MAX_AMOUNT",
    "MAX_AMOUNT_DECIMALS",
    "MAX_AMOUNT_DIGITS",
    "MAX_FREQUENCY_MINUTES",
    "MAX_NAME_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MAX_TOKEN_DAYS",
    "MIN_FREQUENCY_MINUTES",
    "MIN_PASSWORD_LENGTH",
    "TOKEN_PREFIX",
    "TOKEN_REFRESH_MARGIN",
    "Account",
    "ApiToken",
    "Asset",
    "AssetType",
    "AutomationConfig",
    "AutomationRun",
    "AutomationState",
    "BrokerConnection",
    "DaemonInfo",
    "Digest",
    "DigestDelivery",
    "DigestLine",
    "DigestSection",
    "DurationHistogram",
    "EquityKey",
    "EquityPoint",
    "EquitySpan",
    "Instrument",
    "Lease",
    "LeaseInterval",
    "LoginPolicy",
    "NotificationTarget",
    "OAuthTokens",
    "Order",
    "OrderIntent",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionKey",
    "Quote",
    "RecordedFigures",
    "RiskBlock",
    "RiskGate",
    "RiskLimits",
    "RiskRule",
    "RunCount",
    "RunStats",
    "RunStatus",
    "Scope",
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
    "checked_amount",
    "checked_bounds",
    "checked_name",
    "checked_password",
    "checked_scopes",
    "client_order_id_for",
    "equity_points",
    "fact_label",
    "new_id",
    "new_token_secret",
    "render_plain",
    "run_status",
    "slot_after",
    "slot_at_or_after",
    "token_digest",
]
