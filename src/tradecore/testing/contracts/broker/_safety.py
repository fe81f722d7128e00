"""The checks of what costs money when it goes wrong: credentials, a client id placed twice, a
placement whose answer is lost, and closing the adapter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradecore.domain import Instrument, OAuthTokens, OrderStatus, OrderType
from tradecore.errors import OrderExists, OrderOutcomeUnknown
from tradecore.ports.broker import BrokerPort
from tradecore.ports.tokens import TokenStore
from tradecore.testing._venue_faults import VenueFaults
from tradecore.testing.contracts.broker._base import ContractBase, arm
from tradecore.testing.contracts.broker._helpers import _resting_limit


class SafetyChecks(ContractBase):
    """Authentication, duplicate client ids, uncertain placements, ``aclose``."""

    @pytest.mark.asyncio
    async def test_authenticate_succeeds_with_the_fixture_credentials(
        self, broker: BrokerPort
    ) -> None:
        await broker.authenticate()
        assert await broker.get_accounts(), "authenticated, yet no account is listed"

    @pytest.mark.asyncio
    async def test_token_refresh_rotates_and_persists_oauth_tokens_and_is_none_otherwise(
        self, broker: BrokerPort, broker_tokens: TokenStore | None
    ) -> None:
        if not broker.info.capabilities.oauth:
            assert await broker.refresh_auth_token() is None, "no OAuth declared: must be None"
            return
        if broker_tokens is None:
            pytest.skip(
                f"{type(self).__name__} provides no 'broker_tokens' fixture (the TokenStore "
                "given to the OAuth broker), so the refresh could not be checked"
            )
        before = broker_tokens.current()
        assert before is not None, "broker_tokens holds no tokens: log the fixture in first"
        rotated = await broker.refresh_auth_token()
        assert isinstance(rotated, OAuthTokens), "an OAuth broker's refresh returns the tokens"
        assert rotated.access_token.reveal() != before.access_token.reveal(), "not rotated"
        assert broker_tokens.current() == rotated, "the rotated tokens were not persisted"
        assert await broker.get_accounts(), "the broker stopped working with its new tokens"

    @pytest.mark.asyncio
    async def test_a_client_id_placed_twice_raises_order_exists_and_stays_one_order(
        self, broker: BrokerPort, tradable_instrument: Instrument, order_quantity: Decimal
    ) -> None:
        self._require_orders()
        if OrderType.LIMIT not in broker.info.capabilities.order_types:
            # Only an open order keeps its client id taken (Binance frees it once filled).
            pytest.skip("the broker declares no limit orders: no order rests to be duplicated")
        account = (await broker.get_accounts())[0]
        request = await _resting_limit(broker, account, tradable_instrument, order_quantity)
        first = await broker.place_order(request)
        with pytest.raises(OrderExists) as raised:
            await broker.place_order(request)
        assert raised.value.client_order_id == request.client_order_id
        found = await broker.get_order_status(
            account, request.client_order_id, instrument=request.instrument
        )
        assert found.broker_order_id == first.broker_order_id, "a second order was made"
        assert found.filled_quantity == first.filled_quantity
        await broker.cancel_order(account, request.client_order_id, instrument=request.instrument)

    @pytest.mark.asyncio
    async def test_a_lost_placement_answer_is_an_unknown_outcome_never_resent(
        self,
        broker: BrokerPort,
        tradable_instrument: Instrument,
        order_quantity: Decimal,
        venue_faults: VenueFaults | None,
    ) -> None:
        self._require_orders()
        faults = self._require_faults(venue_faults)
        account, request = await self._market_buy(broker, tradable_instrument, order_quantity)
        sent = faults.placements()
        arm(faults.lose_answers_after_execution)
        try:
            with pytest.raises(OrderOutcomeUnknown) as raised:
                await broker.place_order(request)
        finally:
            faults.clear()
        assert not isinstance(raised.value, OrderExists), "nothing existed before this placement"
        assert raised.value.client_order_id == request.client_order_id
        assert faults.placements() - sent == 1, "the adapter sent the placement again"
        found = await broker.get_order_status(
            account, request.client_order_id, instrument=request.instrument
        )
        assert found.client_order_id == request.client_order_id
        assert found.status is not OrderStatus.PENDING_SUBMIT

    @pytest.mark.asyncio
    async def test_aclose_twice_is_harmless_and_leaves_the_callers_client_open(
        self, broker: BrokerPort, caller_http_client: object | None
    ) -> None:
        await broker.get_accounts()
        await broker.aclose()
        await broker.aclose()
        if caller_http_client is not None:
            assert not getattr(caller_http_client, "is_closed", False), (
                "aclose closed the HTTP client the caller gave it"
            )
