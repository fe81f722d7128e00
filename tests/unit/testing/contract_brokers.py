"""A good broker for the contract's own tests, and broken ones, each with one planted bug.

:class:`WiredBroker` is a :class:`FakeBroker` whose calls cross a simulated wire to its venue:
:class:`ScriptedFaults` decides what the wire does, a "vendor library" raises its own exceptions
for it (``KeyError`` on a payload of the wrong shape, ``TimeoutError``, an HTTP error with a
status), and :meth:`WiredBroker.translate` turns those into :mod:`tradecore.errors`, as an
adapter's ``_errors.py`` does. Each broken broker below overrides one thing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from attrs import evolve

from tradecore.domain import (
    AssetType,
    Instrument,
    OAuthTokens,
    Order,
    OrderRequest,
    OrderStatus,
    Position,
    Quote,
    Secret,
    Side,
    Trade,
)
from tradecore.errors import (
    AuthenticationFailed,
    BrokerError,
    BrokerUnavailable,
    MalformedResponse,
    OrderExists,
    OrderOutcomeUnknown,
    RateLimited,
)
from tradecore.ports import BrokerCapabilities
from tradecore.testing import FakeBroker, FakeClock, FaultKind, ScriptedFaults

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CONNECTION = "conn-wired"
BTC = Instrument(symbol="BTC-USD", asset_type=AssetType.SPOT)
XYZ = Instrument(symbol="XYZ-USD", asset_type=AssetType.SPOT)
EXACT = Decimal("123.456789012345678")
_READS = ("get_accounts", "get_positions", "get_trades", "get_assets", "get_asset_price")


class VendorHttpError(Exception):
    """What the simulated vendor library raises for an HTTP error answer."""

    def __init__(self, status: int, retry_after: int | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class CallerClient:
    """Stands for the HTTP client a caller hands the broker (``BrokerContext.http_client``)."""

    def __init__(self) -> None:
        self.is_closed = False

    async def aclose(self) -> None:
        self.is_closed = True


def _quote(instrument: Instrument, last: str) -> Quote:
    price = Decimal(last)
    return Quote(
        instrument=instrument,
        last=price,
        bid=price - 1,
        ask=price + 1,
        currency="USD",
        as_of=START,
    )


def _history() -> list[Trade]:
    return [
        Trade(
            connection_id=CONNECTION,
            account_id="main",
            broker_trade_id=f"t{n}",
            instrument=BTC,
            side=Side.BUY,
            quantity=Decimal("0.1"),
            price=Decimal(50000 + n),
            executed_at=START - timedelta(hours=n),
        )
        for n in range(3)
    ]


def _holding() -> list[Position]:
    return [
        Position(
            connection_id=CONNECTION,
            account_id="main",
            instrument=BTC,
            quantity=Decimal("0.3"),
            as_of=START,
        )
    ]


class WiredBroker(FakeBroker):
    """A broker that passes the whole contract: the good one the broken ones start from."""

    def __init__(self, *, faults: ScriptedFaults, client: CallerClient | None = None) -> None:
        super().__init__(
            clock=FakeClock(START),
            connection_id=CONNECTION,
            name="wired",
            positions=_holding(),
            trades=_history(),
            quotes=[_quote(BTC, "50000.00"), _quote(XYZ, str(EXACT))],
            page_size=2,
        )
        self.faults = faults
        self.client = client
        self._owned = CallerClient() if client is None else None

    # -- the wire --------------------------------------------------------------------------------

    async def _enter(self, method: str, *, closing: bool = False) -> None:
        await super()._enter(method, closing=closing)
        if method in _READS:
            try:
                self.wire_read()
            except Exception as exc:
                raise self.translate(exc) from exc

    def wire_read(self) -> None:
        """What the vendor library does on the way to the venue for a read."""
        fault = self.faults.on_request(placement=False)
        if fault is None:
            return
        if fault.kind is FaultKind.MALFORMED:
            raise KeyError("price")  # the payload has none of the fields the mapping reads
        if fault.kind is FaultKind.TIMEOUT:
            raise TimeoutError("the read timed out")
        if fault.kind is FaultKind.HTML_ERROR_PAGE:
            raise VendorHttpError(502)
        raise VendorHttpError(429, retry_after=fault.retry_after)

    def translate(self, exc: Exception, client_order_id: str | None = None) -> BrokerError:
        """The adapter's ``_errors.py``: vendor exceptions to tradecore's."""
        if client_order_id is not None:
            return OrderOutcomeUnknown(
                f"no answer: {exc!r}", broker="wired", client_order_id=client_order_id
            )
        if isinstance(exc, KeyError):
            return MalformedResponse(f"unreadable answer: {exc!r}", broker="wired")
        if isinstance(exc, VendorHttpError) and exc.status == 429:
            return RateLimited("slow down", broker="wired", retry_after=exc.retry_after)
        if isinstance(exc, TimeoutError | VendorHttpError):
            return BrokerUnavailable(f"unavailable: {exc!r}", broker="wired")
        return BrokerError(repr(exc), broker="wired")

    async def place_order(self, request: OrderRequest) -> Order:
        fault = self.faults.on_request(placement=True)
        order = await super().place_order(request)
        if fault is not None and fault.kind is FaultKind.LOSE_ANSWER:
            raise self.translate(ConnectionResetError("reset"), request.client_order_id)
        return order

    async def aclose(self) -> None:
        await super().aclose()
        if self._owned is not None:
            await self._owned.aclose()


# -- one planted bug each ----------------------------------------------------------------------


class RefusesItsCredentials(WiredBroker):
    async def authenticate(self) -> None:
        raise AuthenticationFailed("refused", broker="wired")


class RefreshesWithoutOAuth(WiredBroker):
    async def refresh_auth_token(self) -> OAuthTokens | None:
        return OAuthTokens(access_token=Secret("a"), access_expires_at=START)


class ReturnsTheExistingOrderForADuplicate(WiredBroker):
    async def place_order(self, request: OrderRequest) -> Order:
        try:
            return await super().place_order(request)
        except OrderExists:
            return self.orders[request.client_order_id]


class ResendsAfterALostAnswer(WiredBroker):
    async def place_order(self, request: OrderRequest) -> Order:
        try:
            return await super().place_order(request)
        except OrderExists:
            raise
        except OrderOutcomeUnknown:
            # The bug: "probing" with a resend (which places a second order on some venues).
            with contextlib.suppress(OrderOutcomeUnknown):
                await super().place_order(request)
            raise


class LetsAKeyErrorEscape(WiredBroker):
    def translate(self, exc: Exception, client_order_id: str | None = None) -> BrokerError:
        if isinstance(exc, KeyError):
            raise exc
        return super().translate(exc, client_order_id)


class CallsAnErrorPagePermanent(WiredBroker):
    def translate(self, exc: Exception, client_order_id: str | None = None) -> BrokerError:
        if isinstance(exc, VendorHttpError) and exc.status >= 500:
            return BrokerError("HTTP 502", broker="wired")
        return super().translate(exc, client_order_id)


class LetsATimeoutEscape(WiredBroker):
    def translate(self, exc: Exception, client_order_id: str | None = None) -> BrokerError:
        if isinstance(exc, TimeoutError):
            raise exc
        return super().translate(exc, client_order_id)


class ForgetsRetryAfter(WiredBroker):
    def translate(self, exc: Exception, client_order_id: str | None = None) -> BrokerError:
        error = super().translate(exc, client_order_id)
        if isinstance(error, RateLimited):
            error.retry_after = None
        return error


class ReadsPricesThroughFloat(WiredBroker):
    async def get_asset_price(self, instrument: Instrument) -> Quote:
        quote = await super().get_asset_price(instrument)
        return evolve(quote, last=Decimal(str(float(quote.last))))


class FailsOnASecondClose(WiredBroker):
    async def aclose(self) -> None:
        if self.closed:
            raise RuntimeError("already closed")
        await super().aclose()


class ClosesTheCallersClient(WiredBroker):
    async def aclose(self) -> None:
        await super().aclose()
        if self.client is not None:
            await self.client.aclose()


class HoldsNoPosition(WiredBroker):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.set_positions("main", [])


class HasNoTradeHistory(WiredBroker):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._trades.clear()


class NeverFillsAMarketOrder(WiredBroker):
    async def place_order(self, request: OrderRequest) -> Order:
        order = await super().place_order(request)
        if request.limit_price is None:  # the fill is taken back: the order rests
            order = evolve(order, status=OrderStatus.OPEN, filled_quantity=Decimal(0))
            self.orders[request.client_order_id] = order
            self._trades["main"] = [t for t in self._trades["main"] if t.client_order_id is None]
        return order


class MemoryTokens:
    """A ``TokenStore`` in memory: ``refresh`` calls the exchange and keeps its answer."""

    def __init__(self, tokens: OAuthTokens) -> None:
        self._tokens = tokens

    def current(self) -> OAuthTokens | None:
        return self._tokens

    async def refresh(
        self,
        exchange: Callable[[OAuthTokens], Awaitable[OAuthTokens]],
        *,
        stale: OAuthTokens | None = None,
        force: bool = False,
    ) -> OAuthTokens:
        self._tokens = await exchange(self._tokens)
        return self._tokens


def _tokens(n: int) -> OAuthTokens:
    return OAuthTokens(
        access_token=Secret(f"access-{n}"),
        refresh_token=Secret(f"refresh-{n}"),
        access_expires_at=START + timedelta(minutes=20),
        version=n,
    )


class OAuthBroker(WiredBroker):
    """The good broker with OAuth: it refreshes through its token store."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._info = evolve(self._info, capabilities=BrokerCapabilities(oauth=True))
        self.token_store = MemoryTokens(_tokens(1))

    async def refresh_auth_token(self) -> OAuthTokens | None:
        return await self.token_store.refresh(self._exchange, force=True)

    async def _exchange(self, tokens: OAuthTokens) -> OAuthTokens:
        return _tokens(tokens.version + 1)


class RefreshesWithoutPersisting(OAuthBroker):
    async def refresh_auth_token(self) -> OAuthTokens | None:
        current = self.token_store.current()
        assert current is not None
        return await self._exchange(current)  # the bug: the store never sees the new tokens


class RefreshesWithoutRotating(OAuthBroker):
    async def refresh_auth_token(self) -> OAuthTokens | None:
        return self.token_store.current()
