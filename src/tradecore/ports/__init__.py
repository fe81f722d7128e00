"""The ports: the protocols the core calls and the adapters implement. All I/O is ``async``."""

from __future__ import annotations

from tradecore.ports.broker import (
    BrokerCapabilities,
    BrokerInfo,
    BrokerPort,
    OrderSearch,
    RateLimits,
)
from tradecore.ports.cache import BrokerCache, BrokerCaches
from tradecore.ports.clock import Clock
from tradecore.ports.factories import (
    BrokerContext,
    BrokerFactory,
    NotifierContext,
    NotifierFactory,
    SecretSpec,
    SettingSpec,
    StrategyFactory,
    check_settings,
)
from tradecore.ports.limits import Block, SharedLimits
from tradecore.ports.login import LoginRequest, OAuthLogin
from tradecore.ports.notifier import NotifierPort
from tradecore.ports.paging import Page, PageKey, check_page_limit, numbered_key
from tradecore.ports.parameters import (
    ParameterKind,
    ParameterValues,
    StrategyParameter,
    format_duration,
    parse_duration,
    parse_parameters,
)
from tradecore.ports.passwords import PasswordHasher
from tradecore.ports.repository import (
    ApiTokenRepository,
    AutomationRepository,
    ConnectionRepository,
    CursorRepository,
    DaemonRepository,
    EquityRepository,
    LeaseRepository,
    NotificationTargetRepository,
    OrderRepository,
    PositionRepository,
    RepositoryPort,
    RiskRepository,
    RunRepository,
    StrategyRepository,
    TradeRepository,
    UnitOfWork,
    UserRepository,
)
from tradecore.ports.strategy import Strategy, StrategyContext
from tradecore.ports.tokens import TokenExchange, TokenStore
from tradecore.ports.venues import (
    VenueEntry,
    VenueRepository,
    VenueSnapshot,
    VenueStore,
    VenueTransaction,
)
from tradecore.ports.web_sessions import StoredWebSession, WebSessionRepository

__all__ = [
    "ApiTokenRepository",
    "AutomationRepository",
    "Block",
    "BrokerCache",
    "BrokerCaches",
    "BrokerCapabilities",
    "BrokerContext",
    "BrokerFactory",
    "BrokerInfo",
    "BrokerPort",
    "Clock",
    "ConnectionRepository",
    "CursorRepository",
    "DaemonRepository",
    "EquityRepository",
    "LeaseRepository",
    "LoginRequest",
    "NotificationTargetRepository",
    "NotifierContext",
    "NotifierFactory",
    "NotifierPort",
    "OAuthLogin",
    "OrderRepository",
    "OrderSearch",
    "Page",
    "PageKey",
    "ParameterKind",
    "ParameterValues",
    "PasswordHasher",
    "PositionRepository",
    "RateLimits",
    "RepositoryPort",
    "RiskRepository",
    "RunRepository",
    "SecretSpec",
    "SettingSpec",
    "SharedLimits",
    "StoredWebSession",
    "Strategy",
    "StrategyContext",
    "StrategyFactory",
    "StrategyParameter",
    "StrategyRepository",
    "TokenExchange",
    "TokenStore",
    "TradeRepository",
    "UnitOfWork",
    "UserRepository",
    "VenueEntry",
    "VenueRepository",
    "VenueSnapshot",
    "VenueStore",
    "VenueTransaction",
    "WebSessionRepository",
    "check_page_limit",
    "check_settings",
    "format_duration",
    "numbered_key",
    "parse_duration",
    "parse_parameters",
]
