"""The use cases: they take ports as arguments and never import an adapter."""

from __future__ import annotations

from tradecore.services._steps import describe_error
from tradecore.services.api_tokens import ApiTokens, NewApiToken, TokenUse
from tradecore.services.automation import (
    RECENT_RUNS,
    AutomationStatus,
    automation_status,
    change_automation,
    change_frequency,
    pause_automation,
    request_run,
    resume_automation,
    start_automation,
    stop_automation,
)
from tradecore.services.automation_controls import Automation, Daemons, RunQueued
from tradecore.services.brokers import (
    create_broker,
    describe_broker_failure,
    mask_secrets,
    open_broker,
)
from tradecore.services.connections import (
    ConnectionCheck,
    ConnectionFootprint,
    Connections,
    connection_by_name,
)
from tradecore.services.context import ServiceContext
from tradecore.services.cycle import AutomationCycle, CycleOutcome
from tradecore.services.demo import Demo, DemoLogin, DemoRun, DemoSetup, ensure_demo
from tradecore.services.equity import MAX_EQUITY_POINTS, EquityHistory, EquitySeries
from tradecore.services.fencing import FencedRepository, LeaseGuard
from tradecore.services.health import CheckLine, Health
from tradecore.services.leased_cycle import LeasedCycle, LeasedRun
from tradecore.services.ledger import DEFAULT_RETENTION, PruneResult, Retention, prune_ledger
from tradecore.services.listings import STREAM_PAGE_SIZE, TradeStream
from tradecore.services.logins import KEEP_ALIVE_HORIZON, KeptLogin, keep_logins_alive
from tradecore.services.manual_orders import (
    ManualOrder,
    PlacedOrder,
    cancel_recorded_order,
    manual_client_order_id,
    place_manual_order,
)
from tradecore.services.metrics import (
    DURATION_BOUNDS,
    FIGURES_HORIZON,
    BrokerFigures,
    Metrics,
    MetricsSnapshot,
    RateLimitFigure,
    UserFreshness,
    broker_figures,
)
from tradecore.services.oauth import OAuthLogins, TokenRenewal
from tradecore.services.order_desk import Orders
from tradecore.services.order_forms import (
    AccountNotChosen,
    ConnectionInactive,
    Estimate,
    KeyUsedElsewhere,
    OrderForm,
    OrderListing,
    OrderLookup,
    OrderPlacement,
    OrderStepFailed,
    OrderTicket,
    PlacementFailed,
    checked_side,
)
from tradecore.services.orders import (
    SAFE_WINDOW,
    ReconcileResult,
    describe_order,
    reconcile_orders,
    refresh_order,
    submit_order,
)
from tradecore.services.overview import ConnectionOverview, Overview, UserOverview
from tradecore.services.paging import (
    MAX_PAGE_SIZE,
    OrdersPage,
    RunsPage,
    TradesPage,
    check_page_size,
    decode_cursor,
    encode_cursor,
)
from tradecore.services.passwords import Passwords
from tradecore.services.portfolio import Holdings, Portfolio, SyncOutcome, SyncProgress, TradeList
from tradecore.services.risk import (
    UNCHANGED,
    HaltChange,
    Risk,
    RiskOverview,
    Unchanged,
    load_risk_gate,
    notional_of,
)
from tradecore.services.scheduler import DEFAULT_LEASE_TTL, PassReport, Scheduler
from tradecore.services.secrets import Secrets, UnreadableSecrets
from tradecore.services.strategies import (
    SHOWN_ORDERS,
    Strategies,
    StrategyChange,
    StrategyDetails,
    StrategyFootprint,
    StrategyView,
    UnknownStrategyType,
    add_strategy,
    strategy_factory,
)
from tradecore.services.strategy_run import StrategyTarget, describe_intent, run_strategy
from tradecore.services.sync import SyncResult, sync_connection
from tradecore.services.targets import NewTarget, TargetAdded, TargetList, Targets, TargetTest
from tradecore.services.tokens import RepositoryTokenStore, login_hint, save_login
from tradecore.services.users import NoUserChosen, UserFootprint, Users, UserSummary
from tradecore.services.venues import LocalVenueStore, RepositoryVenueStore
from tradecore.services.web_sessions import RENEW_AFTER, WebSessions, session_digest

__all__ = [
    "DEFAULT_LEASE_TTL",
    "DEFAULT_RETENTION",
    "DURATION_BOUNDS",
    "FIGURES_HORIZON",
    "KEEP_ALIVE_HORIZON",
    "MAX_EQUITY_POINTS",
    "MAX_PAGE_SIZE",
    "RECENT_RUNS",
    "RENEW_AFTER",
    "SAFE_WINDOW",
    "SHOWN_ORDERS",
    "STREAM_PAGE_SIZE",
    "UNCHANGED",
    "AccountNotChosen",
    "ApiTokens",
    "Automation",
    "AutomationCycle",
    "AutomationStatus",
    "BrokerFigures",
    "CheckLine",
    "ConnectionCheck",
    "ConnectionFootprint",
    "ConnectionInactive",
    "ConnectionOverview",
    "Connections",
    "CycleOutcome",
    "Daemons",
    "Demo",
    "DemoLogin",
    "DemoRun",
    "DemoSetup",
    "EquityHistory",
    "EquitySeries",
    "Estimate",
    "FencedRepository",
    "HaltChange",
    "Health",
    "Holdings",
    "KeptLogin",
    "KeyUsedElsewhere",
    "LeaseGuard",
    "LeasedCycle",
    "LeasedRun",
    "LocalVenueStore",
    "ManualOrder",
    "Metrics",
    "MetricsSnapshot",
    "NewApiToken",
    "NewTarget",
    "NoUserChosen",
    "OAuthLogins",
    "OrderForm",
    "OrderListing",
    "OrderLookup",
    "OrderPlacement",
    "OrderStepFailed",
    "OrderTicket",
    "Orders",
    "OrdersPage",
    "Overview",
    "PassReport",
    "Passwords",
    "PlacedOrder",
    "PlacementFailed",
    "Portfolio",
    "PruneResult",
    "RateLimitFigure",
    "ReconcileResult",
    "RepositoryTokenStore",
    "RepositoryVenueStore",
    "Retention",
    "Risk",
    "RiskOverview",
    "RunQueued",
    "RunsPage",
    "Scheduler",
    "Secrets",
    "ServiceContext",
    "Strategies",
    "StrategyChange",
    "StrategyDetails",
    "StrategyFootprint",
    "StrategyTarget",
    "StrategyView",
    "SyncOutcome",
    "SyncProgress",
    "SyncResult",
    "TargetAdded",
    "TargetList",
    "TargetTest",
    "Targets",
    "TokenRenewal",
    "TokenUse",
    "TradeList",
    "TradeStream",
    "TradesPage",
    "Unchanged",
    "UnknownStrategyType",
    "UnreadableSecrets",
    "UserFootprint",
    "UserFreshness",
    "UserOverview",
    "UserSummary",
    "Users",
    "WebSessions",
    "add_strategy",
    "automation_status",
    "broker_figures",
    "cancel_recorded_order",
    "change_automation",
    "change_frequency",
    "check_page_size",
    "checked_side",
    "connection_by_name",
    "create_broker",
    "decode_cursor",
    "describe_broker_failure",
    "describe_error",
    "describe_intent",
    "describe_order",
    "encode_cursor",
    "ensure_demo",
    "keep_logins_alive",
    "load_risk_gate",
    "login_hint",
    "manual_client_order_id",
    "mask_secrets",
    "notional_of",
    "open_broker",
    "pause_automation",
    "place_manual_order",
    "prune_ledger",
    "reconcile_orders",
    "refresh_order",
    "request_run",
    "resume_automation",
    "run_strategy",
    "save_login",
    "session_digest",
    "start_automation",
    "stop_automation",
    "strategy_factory",
    "submit_order",
    "sync_connection",
]
