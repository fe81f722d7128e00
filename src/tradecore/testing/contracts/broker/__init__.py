"""The contract every :class:`~tradecore.ports.BrokerPort` implementation must pass.

Subclass :class:`BrokerPortContract` in a test module and provide its fixtures::

    from tradecore.testing.contracts.broker import BrokerPortContract

    class TestAcmeBroker(BrokerPortContract):
        @pytest.fixture
        async def broker(self):            # a ready BrokerPort; close it yourself
            broker = AcmeBroker(...)
            yield broker
            await broker.aclose()

        @pytest.fixture
        def tradable_instrument(self):      # something the broker can quote and trade
            return Instrument(symbol="BTCUSDT")

The tests only assume what the :class:`~tradecore.ports.BrokerPort` docstrings promise. They are
marked ``asyncio`` explicitly, so they run under pytest-asyncio in strict mode too (an async
``broker`` fixture then needs ``@pytest_asyncio.fixture``); set pytest-asyncio's
``asyncio_default_fixture_loop_scope = "function"`` (docs/plugins/writing.md shows the settings).
Order tests place real orders on the first account returned by ``get_accounts``: point the
broker at a sandbox, or set ``supports_orders = False`` to skip them. No check passes on an
empty broker: the position and trade checks fail when the fixture's account has none, and the
fill check fails when the market order does not fill. A check needing an optional fixture the
subclass does not provide skips, naming the fixture.
"""

from __future__ import annotations

from tradecore.testing._venue_faults import VenueFaults
from tradecore.testing.contracts.broker._base import ContractBase
from tradecore.testing.contracts.broker._helpers import (
    MAX_PAGES,
    _all_trades,
    _belongs_to,
    _far_below,
    _price_step,
    _request,
)
from tradecore.testing.contracts.broker._orders import OrderChecks
from tradecore.testing.contracts.broker._reads import ReadChecks
from tradecore.testing.contracts.broker._safety import SafetyChecks
from tradecore.testing.contracts.broker._translation import RETRY_AFTER, TranslationChecks

__all__ = [
    "MAX_PAGES",
    "RETRY_AFTER",
    "BrokerPortContract",
    "VenueFaults",
    "_all_trades",
    "_belongs_to",
    "_far_below",
    "_price_step",
    "_request",
]


class BrokerPortContract(ReadChecks, OrderChecks, SafetyChecks, TranslationChecks, ContractBase):
    """pytest base class: the behaviour every broker adapter shares.

    Fixtures a subclass provides:

    - ``broker`` (required): a ready adapter, closed afterwards; its first account holds at
      least one position and one fill.
    - ``tradable_instrument`` (required): something it can quote and trade; a market buy of
      ``order_quantity`` fills.
    - ``order_quantity`` (default ``Decimal("1")``): a quantity the first account can afford.
    - ``venue_faults`` (default ``None``): a :class:`VenueFaults` on the path between
      ``broker`` and its venue; without it the checks of lost answers, malformed answers, HTML
      error pages, timeouts and rate limits skip.
    - ``broker_tokens`` (default ``None``): for a broker declaring OAuth, the ``TokenStore`` it
      was given (holding tokens); without it the token-refresh check skips.
    - ``caller_http_client`` (default ``None``): the HTTP client given in
      ``BrokerContext.http_client``; ``aclose`` must leave it open.
    - ``exact_price`` (default ``None``): ``(instrument, price)``, a price the venue quotes with
      more digits than a float keeps (``Decimal("123.456789012345678")``); the broker must return
      it digit for digit, exponent included.

    :cvar supports_orders: ``False`` skips every test that places or looks up orders.
    """
