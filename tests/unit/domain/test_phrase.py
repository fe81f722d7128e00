"""A Phrase is its English sentence (a str) that can be said in another language at render time,
its values kept exactly as given."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal

import pytest

from tradecore.domain import Phrase, joined, phrase, render_wording
from tradecore.errors import DomainError

FRENCH = {
    "buy {quantity} {symbol} at market": "achat de {quantity} {symbol} au marché",
    "{intent}: {status}": "{intent} : {status}",
    "filled": "exécuté",
}


def french(msgid: str) -> str:
    return FRENCH.get(msgid, msgid)


def _order() -> Phrase:
    return phrase("buy {quantity} {symbol} at market", quantity="0.00170", symbol="BTC-USD")


def test_a_phrase_is_its_english_sentence() -> None:
    order = _order()
    assert order == "buy 0.00170 BTC-USD at market"
    assert isinstance(order, str)
    assert f"{order}!" == "buy 0.00170 BTC-USD at market!"
    assert order.msgid == "buy {quantity} {symbol} at market"


def test_render_translates_the_sentence_and_nested_phrases_and_keeps_the_values() -> None:
    outcome = phrase("{intent}: {status}", intent=_order(), status=phrase("filled"))
    assert outcome == "buy 0.00170 BTC-USD at market: filled"
    assert outcome.render(french) == "achat de 0.00170 BTC-USD au marché : exécuté"


def test_values_are_never_translated_nor_formatted() -> None:
    # A value that happens to be a msgid, or holds braces, is shown as given.
    odd = phrase("{intent}: {status}", intent="filled", status="{quantity}")
    assert odd.render(french) == "filled : {quantity}"


def test_a_missing_value_or_a_value_that_is_not_text_is_refused() -> None:
    with pytest.raises(DomainError, match="no value for symbol"):
        phrase("buy {quantity} {symbol} at market", quantity="1")
    with pytest.raises(DomainError, match="must be text, got Decimal"):
        phrase("{intent}: {status}", intent="x", status=Decimal(1))  # type: ignore[arg-type]


def test_joined_translates_each_part_and_plain_text_stays_plain() -> None:
    assert joined(["a", "b"]) == "a; b"
    assert not isinstance(joined(["a", "b"]), Phrase)
    both = joined([_order(), "a plugin's note {x}"])
    assert both == "buy 0.00170 BTC-USD at market; a plugin's note {x}"
    assert render_wording(both, french) == "achat de 0.00170 BTC-USD au marché; a plugin's note {x}"
    assert render_wording("plain", french) == "plain"


def test_map_values_changes_the_values_only() -> None:
    masked = phrase("{intent}: {status}", intent=_order(), status="key SECRET").map_values(
        lambda text: text.replace("SECRET", "***")
    )
    assert masked.render(french) == "achat de 0.00170 BTC-USD au marché : key ***"


def test_a_phrase_survives_copy_and_pickle() -> None:
    outcome = phrase("{intent}: {status}", intent=_order(), status=phrase("filled"))
    for again in (copy.deepcopy(outcome), pickle.loads(pickle.dumps(outcome))):
        assert isinstance(again, Phrase)
        assert again.render(french) == outcome.render(french)
