"""The checks that a venue's faults reach the caller as :mod:`tradecore.errors` (never a raw
``KeyError``, ``ValueError`` or HTTP library error) and that amounts keep the venue's digits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from tradecore.domain import Account, Instrument
from tradecore.errors import BrokerError, BrokerUnavailable, RateLimited
from tradecore.ports.broker import BrokerPort
from tradecore.testing._venue_faults import VenueFaults
from tradecore.testing.contracts.broker._base import ContractBase, arm
from tradecore.testing.contracts.broker._helpers import _all_trades, _no_floats

RETRY_AFTER = 7
"""The seconds the rate-limit check makes the venue ask for."""

_Read = Callable[[], Awaitable[object]]


def _reads(broker: BrokerPort, account: Account, instrument: Instrument) -> dict[str, _Read]:
    return {
        "get_asset_price": lambda: broker.get_asset_price(instrument),
        "get_positions": lambda: broker.get_positions(account),
        "get_trades": lambda: broker.get_trades(account),
        "get_assets": broker.get_assets,
        "get_accounts": broker.get_accounts,
    }


async def _errors_under_fault(
    broker: BrokerPort, instrument: Instrument, faults: VenueFaults, switch: Callable[[], None]
) -> dict[str, BaseException]:
    # Every read under the armed fault: what each raised (a read answered from what the adapter
    # already holds may succeed). None raising means the fault never reached the broker.
    account = (await broker.get_accounts())[0]
    raised: dict[str, BaseException] = {}
    arm(switch)
    try:
        for name, read in _reads(broker, account, instrument).items():
            try:
                await read()
            except Exception as exc:  # judged below, by class
                raised[name] = exc
    finally:
        faults.clear()
    assert raised, "no read failed: the armed fault never reached the broker (check venue_faults)"
    return raised


def _all_are(raised: dict[str, BaseException], kind: type[BaseException]) -> None:
    wrong = {name: f"{type(exc).__module__}.{type(exc).__name__}" for name, exc in raised.items()}
    wrong = {name: cls for name, cls in wrong.items() if not isinstance(raised[name], kind)}
    assert not wrong, f"expected {kind.__name__}, got {wrong}"


class TranslationChecks(ContractBase):
    """Malformed answers, HTML error pages, timeouts, rate limits; exact decimals."""

    @pytest.mark.asyncio
    async def test_a_malformed_answer_is_a_broker_error(
        self,
        broker: BrokerPort,
        tradable_instrument: Instrument,
        venue_faults: VenueFaults | None,
    ) -> None:
        faults = self._require_faults(venue_faults)
        raised = await _errors_under_fault(
            broker, tradable_instrument, faults, faults.answer_malformed
        )
        _all_are(raised, BrokerError)

    @pytest.mark.asyncio
    async def test_an_html_error_page_is_broker_unavailable(
        self,
        broker: BrokerPort,
        tradable_instrument: Instrument,
        venue_faults: VenueFaults | None,
    ) -> None:
        faults = self._require_faults(venue_faults)
        raised = await _errors_under_fault(
            broker, tradable_instrument, faults, faults.answer_html_error_page
        )
        _all_are(raised, BrokerUnavailable)

    @pytest.mark.asyncio
    async def test_a_read_timing_out_is_broker_unavailable(
        self,
        broker: BrokerPort,
        tradable_instrument: Instrument,
        venue_faults: VenueFaults | None,
    ) -> None:
        faults = self._require_faults(venue_faults)
        raised = await _errors_under_fault(broker, tradable_instrument, faults, faults.time_out)
        _all_are(raised, BrokerUnavailable)

    @pytest.mark.asyncio
    async def test_a_rate_limit_is_rate_limited_with_the_venues_retry_after(
        self,
        broker: BrokerPort,
        tradable_instrument: Instrument,
        venue_faults: VenueFaults | None,
    ) -> None:
        faults = self._require_faults(venue_faults)
        raised = await _errors_under_fault(
            broker, tradable_instrument, faults, lambda: faults.rate_limit(RETRY_AFTER)
        )
        _all_are(raised, RateLimited)
        waits = {name: exc.retry_after for name, exc in raised.items()}  # type: ignore[attr-defined]
        assert all(wait == RETRY_AFTER for wait in waits.values()), (
            f"the venue asked to wait {RETRY_AFTER} s; retry_after was {waits}"
        )

    @pytest.mark.asyncio
    async def test_prices_keep_the_venues_digits_and_nothing_is_a_float(
        self,
        broker: BrokerPort,
        tradable_instrument: Instrument,
        exact_price: tuple[Instrument, Decimal] | None,
    ) -> None:
        account = (await broker.get_accounts())[0]
        quote = await broker.get_asset_price(tradable_instrument)
        positions = await broker.get_positions(account)
        trades, _ = await _all_trades(broker, account, None)
        _no_floats([quote, *positions, *trades, *await broker.get_assets()], "a returned value")
        if exact_price is None:
            pytest.skip(
                f"{type(self).__name__} provides no 'exact_price' fixture (an instrument and "
                "the price its venue quotes), so the digits were not compared"
            )
        instrument, price = exact_price
        last = (await broker.get_asset_price(instrument)).last
        assert last == price, f"the venue quoted {price}, the broker returned {last}"
        assert last.as_tuple() == price.as_tuple(), (
            f"the venue quoted {price}, the broker returned {last}: digits or exponent changed"
        )
