"""The demo's digest in French (TELEGRAM_LANGUAGE=fr), through the command line to a fake Bot API:
every word is French, while amounts, symbols and names are exactly as the ledger has them
(docs/notifications/telegram.md, "Language"; docs/translations.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.fakes.telegram_server import FakeTelegram

from tradecore_cli.main import cli

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
CHAT = "42"

# Words of the English digest that have no place in the French one (the step counters, the
# strategy's notes, the risk check's and the order's framing), each as a whole word.
ENGLISH = [
    "intents", "blocked", "buy", "next", "due", "for", "orders placed", "at market", "slot",
    "dry run", "would", "exceeds", "the limit", "Summary", "API responses", "strategy", "sync",
    "requests", "new trades", "notional", "filled", "place", "SUCCESS", "in", "trades", "Run",
    "scheduled", "manual", "accounts",
]  # fmt: skip


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram(tokens={TOKEN}, chats={CHAT: "private"})


@pytest.fixture
def url(fake: FakeTelegram) -> Iterator[str]:
    with fake.serve() as served:
        yield served


def _demo(home: Path, url: str, language: str) -> str:
    environ = {
        "TRADECORE_HOME": str(home),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_CHAT_ID": CHAT,
        "TELEGRAM_API_URL": url,
        "TELEGRAM_LANGUAGE": language,
    }
    result = CliRunner().invoke(
        cli, ["demo"], obj={"environ": environ, "interactive": False}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def _placed(home: Path) -> dict[str, str]:
    # The order the demo's live dca placed, as the ledger recorded it.
    result = CliRunner().invoke(
        cli,
        ["order", "list", "--user", "demo", "--json"],
        obj={"environ": {"TRADECORE_HOME": str(home / "demo")}, "interactive": False},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    (order,) = json.loads(result.output)
    return order  # type: ignore[no-any-return]


def test_the_french_digest_of_a_demo_cycle_is_wholly_french_with_exact_amounts(
    tmp_path: Path, fake: FakeTelegram, url: str
) -> None:
    _demo(tmp_path / "home", url, "fr")
    text = "\n".join(message.plain_text for message in fake.messages(CHAT))

    left = [word for word in ENGLISH if re.search(rf"\b{re.escape(word)}\b", text)]
    assert left == [], f"English words in the French digest: {left}\n{text}"
    assert "intentions 1, ordres passés 1, bloqués 0" in text
    assert "prochain achat prévu le " in text
    order = _placed(tmp_path / "home")
    # The amounts and symbols exactly as the ledger and the parameters have them.
    assert f"achat de {order['quantity']} {order['symbol']} pour 100 USD à " in text
    assert f"achat de {order['quantity']} {order['symbol']} au marché (dca période 0) : " in text
    assert "pour 5000 USD" in text  # the oversized dry run…
    assert "bloqué par max_order_notional : le montant " in text  # …blocked, the rule by name
    assert "dépasse la limite de 1000" in text


def test_the_english_digest_of_the_same_cycle_keeps_its_words(
    tmp_path: Path, fake: FakeTelegram, url: str
) -> None:
    _demo(tmp_path / "home", url, "en")
    text = "\n".join(message.plain_text for message in fake.messages(CHAT))
    order = _placed(tmp_path / "home")
    assert "✅ Summary — demo" in text
    assert "intents 1, orders placed 1, blocked 0 — buy " in text
    assert f"buy {order['quantity']} {order['symbol']} for 100 USD at " in text
    assert f"buy {order['quantity']} {order['symbol']} at market (dca slot 0): filled" in text
    assert "; next buy due at " in text
    assert "blocked by max_order_notional: notional " in text
    assert "dry run, would buy " in text
