"""The ``api_figures`` keys docs/plugins/writing.md lists are the ones tradecore reads: each has
the digest label the page gives it (in English, and translated in French), and the figures
``tradecore check`` and the metrics read are among them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tradecore.domain import fact_label
from tradecore_adapters.vocabulary import vocabulary

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "plugins" / "writing.md"


def documented() -> dict[str, str]:
    """Key -> the digest label the page's ``api_figures`` table gives it."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("### `api_figures`") :]
    table = re.search(r"^\| key \|.*?(?=\n\n)", section, re.M | re.S)
    assert table, "no api_figures table"
    found = {}
    for row in table[0].splitlines()[2:]:
        keys, label = re.match(r"\| (.*?) \|", row), re.search(r'digest "([^"]+)"', row)
        assert keys, row
        assert label, row
        for key in re.findall(r"`([\w<>]+)`", keys[1]):
            found[key] = label[1]
    return found


DOCUMENTED = documented()


def test_the_figures_tradecore_check_and_the_metrics_read_are_documented() -> None:
    # tradecore.services.health reads clock_offset_ms; tradecore.services.metrics the others.
    assert {"clock_offset_ms", "requests", "used_weight", "rate_limit_left"} <= set(DOCUMENTED)


@pytest.mark.parametrize(
    ("key", "label"), [(k, v) for k, v in sorted(DOCUMENTED.items()) if "<" not in k]
)
def test_each_documented_key_has_its_digest_label(key: str, label: str) -> None:
    english, french = vocabulary("en"), vocabulary("fr")

    assert english.fact(key) == label
    assert french.fact(key) != fact_label(key), "a documented key is translated"
