"""The fixtures of :class:`~tradecore.testing.contracts.BrokerPortContract` and what its checks
share: the required fixtures fail when missing, the optional ones default to ``None`` (the checks
needing them then skip, naming the fixture)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest

from tradecore.domain import Account, Instrument, OrderRequest
from tradecore.ports.broker import BrokerPort
from tradecore.ports.tokens import TokenStore
from tradecore.testing._venue_faults import VenueFaults
from tradecore.testing.contracts.broker._helpers import _request


class ContractBase:
    """Fixtures and shared steps; see :class:`BrokerPortContract` for what each fixture means."""

    supports_orders: ClassVar[bool] = True

    @pytest.fixture
    def broker(self) -> BrokerPort:
        """Override: yield a ready broker and close it afterwards."""
        pytest.fail(f"{type(self).__name__} must provide a 'broker' fixture")

    @pytest.fixture
    def tradable_instrument(self) -> Instrument:
        """Override: return an instrument the broker can quote and trade."""
        pytest.fail(f"{type(self).__name__} must provide a 'tradable_instrument' fixture")

    @pytest.fixture
    def order_quantity(self) -> Decimal:
        """Override when one unit of ``tradable_instrument`` is not a sensible order size."""
        return Decimal(1)

    @pytest.fixture
    def venue_faults(self) -> VenueFaults | None:
        """Override: the switches on the path between ``broker`` and its venue."""
        return None

    @pytest.fixture
    def broker_tokens(self) -> TokenStore | None:
        """Override for an OAuth broker: the ``TokenStore`` given to ``broker`` in its context."""
        return None

    @pytest.fixture
    def caller_http_client(self) -> object | None:
        """Override: the HTTP client ``broker`` was given (``BrokerContext.http_client``)."""
        return None

    @pytest.fixture
    def exact_price(self) -> tuple[Instrument, Decimal] | None:
        """Override: an instrument and the price its venue quotes, digit for digit."""
        return None

    def _require_orders(self) -> None:
        if not self.supports_orders:
            pytest.skip(f"{type(self).__name__}.supports_orders is False")

    def _require_faults(self, faults: VenueFaults | None) -> VenueFaults:
        if faults is None:
            pytest.skip(
                f"{type(self).__name__} provides no 'venue_faults' fixture: transport faults "
                "cannot be injected, so this check did not run"
            )
        return faults

    async def _market_buy(
        self, broker: BrokerPort, instrument: Instrument, quantity: Decimal
    ) -> tuple[Account, OrderRequest]:
        account = (await broker.get_accounts())[0]
        return account, _request(account, instrument, quantity)


def arm(arming: object, *args: object) -> None:
    """Call a :class:`VenueFaults` switch; a venue that cannot produce the fault skips."""
    try:
        arming(*args)  # type: ignore[operator]
    except NotImplementedError as exc:
        pytest.skip(f"venue_faults cannot produce this fault: {exc}")
