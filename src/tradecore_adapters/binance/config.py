"""The Binance connection's settings and secrets, parsed into a frozen :class:`BinanceConfig`."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from attrs import field, frozen

from tradecore.domain import BrokerConnection, Secret
from tradecore.errors import ConfigurationError
from tradecore.ports.factories import SecretSpec, SettingSpec, check_settings
from tradecore_adapters._urls import checked_server_url
from tradecore_adapters.binance._signing import (
    Ed25519Signer,
    HmacSigner,
    Signer,
    load_ed25519_key,
)

__all__ = [
    "DEFAULT_QUOTE_ASSETS",
    "DEFAULT_RECV_WINDOW_MS",
    "MAX_RECV_WINDOW_MS",
    "SECRETS",
    "SETTINGS",
    "BinanceConfig",
    "Market",
]

_OWNER = "binance"

SPOT_URL = "https://api.binance.com"
FUTURES_URL = "https://fapi.binance.com"
SPOT_TESTNET_URL = "https://testnet.binance.vision"
# The current futures docs name demo-fapi; older ones (and some SDKs) testnet.binancefuture.com.
FUTURES_TESTNET_URL = "https://demo-fapi.binance.com"

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
DEFAULT_QUOTE_ASSETS = "USDT,USDC,FDUSD,BTC,ETH,BNB,EUR"

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


class Market(enum.StrEnum):
    """Which Binance markets a connection syncs."""

    SPOT = "spot"
    FUTURES = "futures"
    BOTH = "both"


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        name="testnet",
        description="true: use the spot testnet (testnet.binance.vision) and the futures demo "
        "(demo-fapi.binance.com); testnet keys do not work in production, nor the reverse.",
        default="false",
        env_var="BINANCE_TESTNET",
    ),
    SettingSpec(
        name="base_url",
        description="Spot REST base URL, overriding production and testnet "
        "(demo mode, a proxy, a local fake: http://127.0.0.1:9000). https:// is required "
        "unless the host is this machine (127.0.0.1, ::1, localhost).",
    ),
    SettingSpec(
        name="futures_base_url",
        description="USD-M futures REST base URL, overriding production and testnet "
        "(https://, or http:// on this machine only).",
    ),
    SettingSpec(
        name="market",
        description="spot: spot balances and trades; futures: USD-M futures positions and "
        "trades; both.",
        default=Market.SPOT.value,
        choices=tuple(market.value for market in Market),
    ),
    SettingSpec(
        name="symbols",
        description="Comma-separated spot symbols whose trades are always synced (BTCUSDT,ETHBTC), "
        "besides those implied by balances and those synced before.",
        default="",
    ),
    SettingSpec(
        name="futures_symbols",
        description="Comma-separated USD-M symbols whose trades are always synced, besides those "
        "with an open position and those synced before.",
        default="",
    ),
    SettingSpec(
        name="quote_assets",
        description="Quote assets tried against every non-zero balance to find the symbols to "
        "sync (BTC held + USDT quoted → BTCUSDT, when Binance lists it).",
        default=DEFAULT_QUOTE_ASSETS,
    ),
    SettingSpec(
        name="recv_window",
        description=f"Milliseconds a signed request stays valid (1-{MAX_RECV_WINDOW_MS}; "
        "Binance advises 5000 or less).",
        default=str(DEFAULT_RECV_WINDOW_MS),
    ),
)
"""What a ``binance`` connection accepts."""

SECRETS: tuple[SecretSpec, ...] = (
    SecretSpec(name="api_key", description="The API key.", env_var="BINANCE_API_KEY"),
    SecretSpec(
        name="api_secret",
        description="The secret of an HMAC API key (give this or private_key).",
        env_var="BINANCE_API_SECRET",
        required=False,
    ),
    SecretSpec(
        name="private_key",
        description="The unencrypted PKCS#8 PEM private key of an Ed25519 API key (give this or "
        "api_secret).",
        env_var="BINANCE_PRIVATE_KEY",
        required=False,
    ),
)
"""The secrets a ``binance`` connection needs: the API key, and its secret or private key."""


def _texts(value: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(value)


@frozen(kw_only=True)
class BinanceConfig:
    """How one Binance connection talks to Binance.

    :param spot_url: the spot REST base URL (no trailing slash).
    :param futures_url: the USD-M futures REST base URL.
    :param symbols: spot symbols always synced.
    :param futures_symbols: USD-M symbols always synced.
    :param quote_assets: tried against balances to find the symbols that were traded.
    :param recv_window_ms: how long a signed request stays valid at Binance.
    :param api_key: sent as ``X-MBX-APIKEY``.
    :param signer: signs every signed request (HMAC or Ed25519).
    """

    spot_url: str = SPOT_URL
    futures_url: str = FUTURES_URL
    testnet: bool = False
    market: Market = Market.SPOT
    symbols: tuple[str, ...] = field(default=(), converter=_texts)
    futures_symbols: tuple[str, ...] = field(default=(), converter=_texts)
    quote_assets: tuple[str, ...] = field(
        default=tuple(DEFAULT_QUOTE_ASSETS.split(",")), converter=_texts
    )
    recv_window_ms: int = DEFAULT_RECV_WINDOW_MS
    api_key: Secret
    signer: Signer = field(repr=False)

    @property
    def spot(self) -> bool:
        """``True`` when the spot account is synced."""
        return self.market in (Market.SPOT, Market.BOTH)

    @property
    def futures(self) -> bool:
        """``True`` when the USD-M futures account is synced."""
        return self.market in (Market.FUTURES, Market.BOTH)

    @classmethod
    def from_connection(cls, connection: BrokerConnection) -> BinanceConfig:
        """Validate the connection's settings and secrets.

        :raises ConfigurationError: an unknown setting, a value that cannot be used, or missing
            or contradictory secrets. Messages never quote a secret.
        """
        values = check_settings(SETTINGS, connection.settings, owner=_OWNER)
        testnet = _boolean(values, "testnet")
        return cls(
            spot_url=_url(values, "base_url", SPOT_TESTNET_URL if testnet else SPOT_URL),
            futures_url=_url(
                values, "futures_base_url", FUTURES_TESTNET_URL if testnet else FUTURES_URL
            ),
            testnet=testnet,
            market=Market(values["market"]),
            symbols=_symbols(values, "symbols"),
            futures_symbols=_symbols(values, "futures_symbols"),
            quote_assets=_symbols(values, "quote_assets"),
            recv_window_ms=_recv_window(values["recv_window"]),
            api_key=_required(connection.secrets, "api_key"),
            signer=_signer(connection.secrets),
        )


def _boolean(values: Mapping[str, str], name: str) -> bool:
    text = values[name].strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(
        f"{_OWNER}: setting {name!r} must be true or false; got {values[name]!r}"
    )


def _url(values: Mapping[str, str], name: str, default: str) -> str:
    raw = values.get(name)
    if raw is None or not raw.strip():
        return default
    return checked_server_url(raw, owner=_OWNER, setting=name, example=SPOT_URL)


def _symbols(values: Mapping[str, str], name: str) -> tuple[str, ...]:
    items: list[str] = []
    for raw in values[name].split(","):
        item = raw.strip().upper()
        if not item:
            continue
        if any(character.isspace() or character in "/&=?#%" for character in item):
            raise ConfigurationError(
                f"{_OWNER}: setting {name!r} must list names such as BTCUSDT separated by commas; "
                f"got {raw.strip()!r}"
            )
        if item not in items:
            items.append(item)
    return tuple(items)


def _recv_window(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_RECV_WINDOW_MS:
        raise ConfigurationError(
            f"{_OWNER}: setting 'recv_window' must be a whole number of milliseconds from 1 to "
            f"{MAX_RECV_WINDOW_MS}; got {text!r}"
        )
    return value


def _required(secrets: Mapping[str, Secret], name: str) -> Secret:
    secret = secrets.get(name)
    if secret is None or not secret.reveal().strip():
        raise ConfigurationError(f"{_OWNER}: the secret {name!r} is missing")
    return Secret(secret.reveal().strip())


def _signer(secrets: Mapping[str, Secret]) -> Signer:
    unknown = sorted(set(secrets) - {spec.name for spec in SECRETS})
    if unknown:
        raise ConfigurationError(f"{_OWNER}: unknown secret(s) {', '.join(unknown)}")
    api_secret = secrets.get("api_secret")
    private_key = secrets.get("private_key")
    if api_secret is not None and private_key is not None:
        raise ConfigurationError(
            f"{_OWNER}: give either api_secret (HMAC key) or private_key (Ed25519 key), not both"
        )
    if private_key is not None:
        return Ed25519Signer(load_ed25519_key(private_key.reveal()))
    if api_secret is not None:
        return HmacSigner(api_secret.reveal().strip())
    raise ConfigurationError(
        f"{_OWNER}: the secret 'api_secret' (HMAC key) or 'private_key' (Ed25519 key) is missing"
    )
