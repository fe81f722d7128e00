"""The Saxo connection's settings and secrets, parsed into a frozen :class:`SaxoConfig`.

SIM and LIVE are separate worlds at Saxo (apps, users, tokens;
https://www.developer.saxo/openapi/learn/environments): one setting, ``environment``, switches the
authorization server and the gateway together, and the two URL settings only override them for
proxies and tests.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, timedelta
from urllib.parse import urlsplit

from attrs import frozen

from tradecore.domain import BrokerConnection, Secret
from tradecore.errors import ConfigurationError
from tradecore.ports.factories import SecretSpec, SettingSpec, check_settings
from tradecore_adapters._urls import checked_server_url

__all__ = [
    "DEFAULT_REDIRECT_URI",
    "ENVIRONMENT_URLS",
    "SECRETS",
    "SETTINGS",
    "ClientAuth",
    "Environment",
    "SaxoConfig",
]

_OWNER = "saxo"
DEFAULT_REDIRECT_URI = "http://localhost:8080/callback"
DEFAULT_HISTORY_DAYS = 90
MAX_HISTORY_DAYS = 3650


class Environment(enum.StrEnum):
    """Saxo's two environments."""

    SIM = "sim"
    LIVE = "live"


class ClientAuth(enum.StrEnum):
    """How a Code app (one with a secret) authenticates at the token endpoint (the ``client_auth``
    setting of docs/brokers/saxo.md)."""

    BASIC = "basic"
    BODY = "body"


ENVIRONMENT_URLS: dict[Environment, tuple[str, str]] = {
    # (authorization server, gateway): https://www.developer.saxo/openapi/learn/environments.
    Environment.SIM: (
        "https://sim.logonvalidation.net",
        "https://gateway.saxobank.com/sim/openapi",
    ),
    Environment.LIVE: ("https://live.logonvalidation.net", "https://gateway.saxobank.com/openapi"),
}

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        name="environment",
        description="sim (simulation, the default) or live; switches the login server and the "
        "gateway together. A SIM app and its tokens never work on LIVE, nor the reverse.",
        default=Environment.SIM.value,
        choices=tuple(environment.value for environment in Environment),
    ),
    SettingSpec(
        name="app_key",
        description="The AppKey (OAuth client_id) of your Saxo developer app.",
        required=True,
        env_var="SAXO_CLIENT_ID",
    ),
    SettingSpec(
        name="redirect_uri",
        description="A redirect URL registered for the app; `tradecore broker login` listens "
        "on its host and port.",
        default=DEFAULT_REDIRECT_URI,
        env_var="SAXO_REDIRECT_URI",
    ),
    SettingSpec(
        name="auth_base_url",
        description="Where /authorize and /token live, overriding the environment's "
        "(a proxy, a local fake); https://, or http:// on this machine only.",
    ),
    SettingSpec(
        name="api_base_url",
        description="The gateway root (…/sim/openapi), overriding the environment's; "
        "https://, or http:// on this machine only.",
    ),
    SettingSpec(
        name="client_auth",
        description="How an app with a secret authenticates at /token: basic (HTTP Basic, "
        "the default) or body (client_id and client_secret in the form).",
        default=ClientAuth.BASIC.value,
        choices=tuple(mode.value for mode in ClientAuth),
    ),
    SettingSpec(
        name="history_days",
        description=f"How many days of trade reports the first sync fetches (1-{MAX_HISTORY_DAYS}).",
        default=str(DEFAULT_HISTORY_DAYS),
    ),
    SettingSpec(
        name="asset_types",
        description="Comma-separated Saxo asset types listed by get_assets (Stock,Etf,FxSpot…).",
        default="Stock,Etf,FxSpot",
    ),
)
"""What a ``saxo`` connection accepts."""

SECRETS: tuple[SecretSpec, ...] = (
    SecretSpec(
        name="app_secret",
        description="The AppSecret of a Code app; leave it out for a PKCE app.",
        env_var="SAXO_CLIENT_SECRET",
        required=False,
    ),
)
"""The secrets of a ``saxo`` connection (the tokens come from `tradecore broker login`)."""


def _url(settings: Mapping[str, str], name: str, default: str) -> str:
    value = settings.get(name, "")
    if not value.strip():
        return default
    return checked_server_url(value, owner=_OWNER, setting=name, example=default)


@frozen(kw_only=True)
class SaxoConfig:
    """A ``saxo`` connection's settings, checked.

    :param auth_base_url: the authorization server root (``/authorize``, ``/token`` below it).
    :param api_base_url: the gateway root (``…/sim/openapi``).
    :param app_secret: the app's secret; ``None`` for a PKCE app.
    """

    environment: Environment
    app_key: str
    app_secret: Secret | None
    redirect_uri: str
    auth_base_url: str
    api_base_url: str
    client_auth: ClientAuth
    history_days: int
    asset_types: tuple[str, ...]

    @property
    def authorize_url(self) -> str:
        """The authorization endpoint."""
        return f"{self.auth_base_url}/authorize"

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return f"{self.auth_base_url}/token"

    def history_start(self, today: date) -> date:
        """The first day a first trade sync asks the reports for."""
        return today - timedelta(days=self.history_days)

    @classmethod
    def from_connection(cls, connection: BrokerConnection) -> SaxoConfig:
        """Check ``connection``'s settings and secrets.

        :raises ConfigurationError: an unknown or invalid setting, or no app key.
        """
        settings = check_settings(SETTINGS, connection.settings, owner=_OWNER)
        environment = Environment(settings["environment"])
        auth_default, api_default = ENVIRONMENT_URLS[environment]
        app_key = settings["app_key"].strip()
        if not app_key:
            raise ConfigurationError(f"{_OWNER}: setting 'app_key' is empty")
        redirect = settings["redirect_uri"]
        parts = urlsplit(redirect)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"{_OWNER}: redirect_uri must be a URL such as {DEFAULT_REDIRECT_URI}"
            )
        try:
            history_days = int(settings["history_days"])
        except ValueError:
            history_days = -1
        if not 1 <= history_days <= MAX_HISTORY_DAYS:
            raise ConfigurationError(
                f"{_OWNER}: history_days must be a whole number from 1 to {MAX_HISTORY_DAYS}"
            )
        asset_types = tuple(t.strip() for t in settings["asset_types"].split(",") if t.strip())
        secret = connection.secrets.get("app_secret")
        unknown = sorted(set(connection.secrets) - {"app_secret"})
        if unknown:
            raise ConfigurationError(f"{_OWNER}: unknown secret(s) {', '.join(unknown)}")
        return cls(
            environment=environment,
            app_key=app_key,
            app_secret=secret if secret is not None and secret.reveal() else None,
            redirect_uri=redirect,
            auth_base_url=_url(settings, "auth_base_url", auth_default),
            api_base_url=_url(settings, "api_base_url", api_default),
            client_auth=ClientAuth(settings["client_auth"]),
            history_days=history_days,
            asset_types=asset_types or ("Stock",),
        )
