"""Every hook is documented under a heading with its exact signature and has a
``test_hook_<name>`` test (as datasette checks its own hooks)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tradecore.plugins import PROJECT_NAME, hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS_DOC = ROOT / "docs" / "plugins" / "hooks.md"

HOOKSPECS: dict[str, Callable[..., object]] = {
    name: function
    for name, function in vars(hookspecs).items()
    if callable(function) and hasattr(function, f"{PROJECT_NAME}_spec")
}


def signature(hookspec: Callable[..., object]) -> str:
    """``name(params) -> return`` as written in the source (annotations stay strings)."""
    return hookspec.__name__ + str(inspect.signature(hookspec)).replace("'", "")


def headings() -> list[str]:
    return [line for line in HOOKS_DOC.read_text().splitlines() if line.startswith("#")]


def test_there_are_hookspecs() -> None:
    assert "tradecore_register_brokers" in HOOKSPECS
    assert signature(HOOKSPECS["tradecore_register_brokers"]) == (
        "tradecore_register_brokers() -> list[BrokerFactory]"
    )


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_hook_is_documented_with_its_exact_signature(name: str) -> None:
    expected = signature(HOOKSPECS[name])

    assert any(expected in heading for heading in headings()), (
        f"docs/plugins/hooks.md needs a heading containing `{expected}`"
    )


def test_every_documented_hook_exists() -> None:
    documented = {m for h in headings() for m in re.findall(r"\b(tradecore_\w+)\(", h)}

    assert documented <= set(HOOKSPECS), f"documented but not a hook: {documented - set(HOOKSPECS)}"


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_hook_has_a_test(name: str) -> None:
    pattern = re.compile(rf"^\s*(async\s+)?def test_hook_{name}\b", re.MULTILINE)
    tests = (path for path in (ROOT / "tests").rglob("test_*.py") if path != Path(__file__))

    assert any(pattern.search(path.read_text()) for path in tests), (
        f"no test_hook_{name} test under tests/"
    )
