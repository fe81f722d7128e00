"""Who may read the metrics (Metrics.authorise), and how recorded API figures are read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradecore.domain import RecordedFigures
from tradecore.errors import LoginRefused
from tradecore.services import ApiTokens, Metrics, ServiceContext, Users, broker_figures
from tradecore.testing.builders import DEFAULT_TIME


@pytest.mark.parametrize("client", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1"])
async def test_a_loopback_client_needs_no_token(context: ServiceContext, client: str) -> None:
    await Metrics(context).authorise(token=None, client=client)


@pytest.mark.parametrize("client", ["10.0.0.5", "192.168.1.2", "::ffff:8.8.8.8", "", None, "x"])
async def test_any_other_client_needs_a_token(context: ServiceContext, client: str | None) -> None:
    with pytest.raises(LoginRefused, match="bearer token with the metrics scope"):
        await Metrics(context).authorise(token=None, client=client)


async def test_loopback_can_be_turned_off_behind_a_local_proxy(context: ServiceContext) -> None:
    with pytest.raises(LoginRefused, match="bearer token"):
        await Metrics(context).authorise(token=None, client="127.0.0.1", allow_loopback=False)


async def test_a_remote_client_gets_in_with_an_administrators_metrics_token_only(
    context: ServiceContext,
) -> None:
    root = await Users(context).add("root", is_admin=True)
    tokens = ApiTokens(context)
    scraper = await tokens.create(root.id, ["metrics"])
    reader = await tokens.create(root.id, ["read"])
    metrics = Metrics(context)
    await metrics.authorise(token=scraper.secret, client="10.0.0.5")
    for refused in (reader.secret, "tc_" + "A" * 43, "nonsense"):
        with pytest.raises(LoginRefused):
            await metrics.authorise(token=refused, client="10.0.0.5")


def _figures(api: dict[str, str]) -> RecordedFigures:
    return RecordedFigures(
        user_id="u1", connection_id="c1", broker="binance", recorded_at=DEFAULT_TIME, api=api
    )


def test_figures_in_their_documented_shapes_are_read() -> None:
    read = broker_figures(
        _figures(
            {
                "requests": "12",
                "used_weight": "5900/6000",
                "futures_used_weight": "300",
                "rate_limit_left": "port 75/120, trade 3",
            }
        ),
        DEFAULT_TIME + timedelta(minutes=5),
    )
    assert read.requests == 12
    assert read.age == timedelta(minutes=5)
    assert [(f.name, f.used, f.remaining, f.limit) for f in read.limits] == [
        ("futures_weight", 300, None, None),
        ("port", None, 75, 120),
        ("trade", None, 3, None),
        ("weight", 5900, 100, 6000),
    ]


def test_figures_in_another_shape_are_left_out_never_an_error() -> None:
    read = broker_figures(
        _figures({"requests": "many", "used_weight": "lots", "rate_limit_left": "?!"}),
        DEFAULT_TIME,
    )
    assert (read.requests, read.limits) == (None, ())
