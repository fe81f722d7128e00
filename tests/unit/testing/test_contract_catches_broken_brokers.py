"""The broker contract catches what costs money: every check of BrokerPortContract is run on a
good broker (all pass) and on brokers with one planted bug each (exactly the check made for that
bug fails; the others pass)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from decimal import Decimal

import pytest
from _pytest.outcomes import Failed, Skipped
from tests.unit.testing import contract_brokers as brokers

from tradecore.testing import ScriptedFaults
from tradecore.testing.contracts.broker import BrokerPortContract

CHECKS = sorted(name for name in dir(BrokerPortContract) if name.startswith("test_"))


async def _outcome(check: str, make: Callable[..., brokers.WiredBroker]) -> str:
    # Run one check with fresh fixtures, as pytest would: "passed", "failed" or "skipped".
    faults = ScriptedFaults()
    client = brokers.CallerClient()
    broker = make(faults=faults, client=client)
    fixtures: dict[str, object] = {
        "broker": broker,
        "tradable_instrument": brokers.BTC,
        "order_quantity": Decimal("0.01"),
        "venue_faults": faults,
        "broker_tokens": getattr(broker, "token_store", None),
        "caller_http_client": client,
        "exact_price": (brokers.XYZ, brokers.EXACT),
    }
    method = getattr(BrokerPortContract(), check)
    arguments = {name: fixtures[name] for name in inspect.signature(method).parameters}
    try:
        await method(**arguments)
    except Skipped:
        return "skipped"
    except (AssertionError, Failed, Exception):
        return "failed"
    finally:
        broker.faults.clear()
    return "passed"


async def _failing(make: Callable[..., brokers.WiredBroker]) -> set[str]:
    outcomes = {check: await _outcome(check, make) for check in CHECKS}
    return {check for check, outcome in outcomes.items() if outcome == "failed"}


async def test_the_good_broker_passes_every_check_and_skips_only_order_search() -> None:
    outcomes = {check: await _outcome(check, brokers.WiredBroker) for check in CHECKS}
    assert {c for c, o in outcomes.items() if o != "passed"} == {
        "test_a_broker_declaring_order_search_implements_it",
        "test_order_search_finds_a_placed_order_and_not_an_unknown_one",
    }


@pytest.mark.parametrize(
    ("broken", "check"),
    [
        (brokers.RefusesItsCredentials, "test_authenticate_succeeds_with_the_fixture_credentials"),
        (
            brokers.RefreshesWithoutOAuth,
            "test_token_refresh_rotates_and_persists_oauth_tokens_and_is_none_otherwise",
        ),
        (
            brokers.ReturnsTheExistingOrderForADuplicate,
            "test_a_client_id_placed_twice_raises_order_exists_and_stays_one_order",
        ),
        (
            brokers.ResendsAfterALostAnswer,
            "test_a_lost_placement_answer_is_an_unknown_outcome_never_resent",
        ),
        (brokers.LetsAKeyErrorEscape, "test_a_malformed_answer_is_a_broker_error"),
        (brokers.CallsAnErrorPagePermanent, "test_an_html_error_page_is_broker_unavailable"),
        (brokers.LetsATimeoutEscape, "test_a_read_timing_out_is_broker_unavailable"),
        (
            brokers.ForgetsRetryAfter,
            "test_a_rate_limit_is_rate_limited_with_the_venues_retry_after",
        ),
        (
            brokers.ReadsPricesThroughFloat,
            "test_prices_keep_the_venues_digits_and_nothing_is_a_float",
        ),
        (
            brokers.FailsOnASecondClose,
            "test_aclose_twice_is_harmless_and_leaves_the_callers_client_open",
        ),
        (
            brokers.ClosesTheCallersClient,
            "test_aclose_twice_is_harmless_and_leaves_the_callers_client_open",
        ),
        (brokers.HoldsNoPosition, "test_positions_belong_to_the_account_asked_for"),
        (brokers.HasNoTradeHistory, "test_trade_sync_following_the_cursor_never_repeats_a_fill"),
        (
            brokers.NeverFillsAMarketOrder,
            "test_filled_market_order_shows_in_trades_after_the_earlier_cursor",
        ),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
async def test_a_broker_with_one_planted_bug_fails_exactly_the_check_made_for_it(
    broken: Callable[..., brokers.WiredBroker], check: str
) -> None:
    assert await _failing(broken) == {check}


async def test_checks_needing_venue_faults_skip_naming_the_fixture_when_it_is_missing() -> None:
    broker = brokers.WiredBroker(faults=ScriptedFaults())
    with pytest.raises(Skipped, match="provides no 'venue_faults' fixture"):
        await BrokerPortContract().test_a_read_timing_out_is_broker_unavailable(
            broker=broker, tradable_instrument=brokers.BTC, venue_faults=None
        )


async def test_an_oauth_broker_that_rotates_and_persists_its_tokens_passes_every_check() -> None:
    assert await _failing(brokers.OAuthBroker) == set()


@pytest.mark.parametrize(
    "broken", [brokers.RefreshesWithoutPersisting, brokers.RefreshesWithoutRotating]
)
async def test_an_oauth_broker_whose_refresh_is_broken_fails_the_refresh_check(
    broken: Callable[..., brokers.WiredBroker],
) -> None:
    assert await _failing(broken) == {
        "test_token_refresh_rotates_and_persists_oauth_tokens_and_is_none_otherwise"
    }
