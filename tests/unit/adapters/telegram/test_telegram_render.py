"""The digest as Telegram HTML: every dynamic value escaped, secrets masked, English or French."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.fakes.telegram_html import parse_html

from tradecore.domain import Digest, DigestSection, TaskKind, TaskStatus, phrase
from tradecore.testing.builders import DEFAULT_TIME, make_run, make_task_result
from tradecore_adapters.telegram._render import plain_text, render_digest
from tradecore_adapters.telegram._texts import texts_for
from tradecore_adapters.telegram.config import Language

EN = texts_for(Language.EN)
FR = texts_for(Language.FR)


def _digest(*steps: object, user: str = "alice") -> Digest:
    run = make_run(started_at=DEFAULT_TIME)
    run.finish(DEFAULT_TIME + timedelta(seconds=2.5), steps)  # type: ignore[arg-type]
    return Digest.from_run(run, user_name=user)


def _plain(sections: tuple[object, ...]) -> list[str]:
    texts = []
    for section in sections:
        markup = "\n".join(section.lines)  # type: ignore[attr-defined]
        parsed, _ = parse_html(markup, strict_ampersand=True)
        assert parsed == plain_text(markup)
        texts.append(parsed)
    return texts


def test_the_three_messages_say_what_the_run_did() -> None:
    digest = _digest(
        make_task_result(
            subject="binance-main",
            counts={"accounts": 1, "positions": 3, "trades_seen": 10, "trades_new": 2},
            api={"requests": "7", "used_weight": "40/6000", "clock_offset_ms": "-3"},
        ),
        make_task_result(kind=TaskKind.TOKEN_REFRESH, subject="saxo-sim", counts={"refreshed": 1}),
        make_task_result(subject="saxo-sim", status=TaskStatus.FAILURE, error="BrokerError: 503"),
    )
    sections = render_digest(digest, EN)
    assert [s.section for s in sections] == [
        DigestSection.SUMMARY,
        DigestSection.API,
        DigestSection.ERRORS,
    ]
    summary, api, errors = _plain(sections)
    assert summary.startswith("⚠️ Summary — alice\n")
    assert "(scheduled): PARTIAL in 2.50s" in summary
    assert (
        "connections 1/2 · positions 3 · new trades 2 · strategies 0 · orders placed 0" in summary
    )
    assert (
        "✅ binance-main · sync: accounts 1, positions 3, trades seen 10, new trades 2" in summary
    )
    assert "❌ saxo-sim · sync (failed)" in summary
    assert "binance-main · sync: requests 7, weight used 40/6000, clock offset (ms) -3" in api
    assert "✅ saxo-sim · token refresh" in api  # the refresh outcome, even without figures
    assert errors == "❌ Errors — alice\n❌ saxo-sim · sync (failed): BrokerError: 503"


def test_no_errors_message_when_nothing_failed() -> None:
    sections = render_digest(_digest(make_task_result(subject="paper")), EN)
    assert [s.section for s in sections] == [DigestSection.SUMMARY, DigestSection.API]
    assert _plain(sections)[1].endswith("(no API calls reported)")


@pytest.mark.parametrize(
    "text",
    [
        "<b>not bold</b>",
        "a < b & c > d",
        "&amp; &lt; &#60; &",
        "_under_ *star* [link](http://x) `code`",
        "🚀 élan 👨‍👩‍👧",
    ],
)
def test_any_text_arrives_as_written(text: str) -> None:
    digest = _digest(
        make_task_result(subject=text, status=TaskStatus.FAILURE, error=text), user=text
    )
    texts = _plain(render_digest(digest, EN))
    assert all(text in part for part in texts)


def test_token_shapes_and_signatures_are_masked_in_every_message() -> None:
    token = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
    digest = _digest(
        make_task_result(
            subject="binance",
            status=TaskStatus.FAILURE,
            error=f"GET https://api.telegram.org/bot{token}/x?signature=abcdef0123&timestamp=1"
            f" (token {token.replace('1234', '4321')})",
        )
    )
    whole = "\n".join(_plain(render_digest(digest, EN)))
    assert token not in whole
    assert token.split(":")[1] not in whole  # in the URL and bare
    assert "abcdef0123" not in whole
    assert "signature=**********" in whole


def test_french_when_the_user_chooses_it() -> None:
    digest = _digest(
        make_task_result(subject="binance", counts={"trades_new": 2}),
        make_task_result(subject="saxo", status=TaskStatus.FAILURE, error="délai dépassé"),
    )
    summary, api, errors = _plain(render_digest(digest, FR))
    assert summary.startswith("⚠️ Résumé — alice\n")
    assert "(planifiée) : PARTIEL en 2.50s" in summary
    assert "connexions 1/2" in summary
    assert "binance · synchronisation: nouvelles transactions 2" in summary
    assert api.startswith("Réponses des API — alice")
    assert "(aucun appel d'API signalé)" in api
    assert errors.endswith("saxo · synchronisation (échec): délai dépassé")


def test_a_figure_without_a_translation_reads_as_its_name() -> None:
    digest = _digest(make_task_result(subject="x", api={"orders_open": "3"}))
    assert "orders open 3" in _plain(render_digest(digest, FR))[1]


def test_a_strategys_phrases_are_french_with_their_values_exact_and_plain_notes_as_written() -> (
    None
):
    order = phrase("buy {quantity} {symbol} at market", quantity="0.00170", symbol="BTC-USD")
    digest = _digest(
        make_task_result(
            kind=TaskKind.STRATEGY,
            subject="dca-btc",
            status=TaskStatus.FAILURE,
            counts={"intents": 2, "orders_placed": 1, "blocked": 1},
            error=phrase(
                "{intent} rejected: {reason}", intent=order, reason="Account has <0 & USD"
            ),
            notes=[
                phrase("next buy due at {when}", when="2026-11-22 10:00 UTC"),
                "a plugin's own words",
            ],
        )
    )
    summary, _, errors = _plain(render_digest(digest, FR))
    assert (
        "dca-btc · stratégie (échec): intentions 2, ordres passés 1, bloqués 1 — "
        "prochain achat prévu le 2026-11-22 10:00 UTC; a plugin's own words"
    ) in summary
    assert errors.endswith(
        "dca-btc · stratégie (échec): achat de 0.00170 BTC-USD au marché rejeté : "
        "Account has <0 & USD"
    )
    english = "\n".join(_plain(render_digest(digest, EN)))
    assert "intents 2, orders placed 1, blocked 1 — next buy due at 2026-11-22 10:00 UTC" in english
    assert "buy 0.00170 BTC-USD at market rejected: Account has <0 & USD" in english
