"""docs/strategies/writing.md works when followed literally: its ``buy-the-dip`` package,
written out from the page's own code blocks, registers through the plugin hook and passes the
page's own test; and the page's ``StrategyContext`` tables are the class as it is (the fields it
is built with, then what it reads from its config)."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import attrs
import pytest

from tradecore.plugins import PluginRegistry, get_plugin_manager
from tradecore.ports import StrategyContext
from tradecore.testing.builders import make_strategy

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "strategies" / "writing.md"
TEXT = GUIDE.read_text(encoding="utf-8")


def block_under(heading: str) -> str:
    """The first fenced code block after the heading ``### `heading```."""
    found = re.search(rf"^### `{re.escape(heading)}`\n+```\w*\n(.*?)^```", TEXT, re.M | re.S)
    assert found, f"no code block under {heading!r} in {GUIDE.name}"
    return found[1]


def table_names(after: str) -> list[str]:
    """The backticked first cells of the first table after the line starting with ``after``."""
    start = TEXT.index(after)
    rows = re.search(r"^\|.*?(?=\n\n)", TEXT[start:], re.M | re.S)
    assert rows, f"no table after {after!r}"
    return re.findall(r"^\| `(\w+)(?:\([^)]*\))?` \|", rows[0], re.M)


@pytest.fixture
def dipbuyer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The guide's package, ``tradecore_dipbuyer``, on ``sys.path``; its test file's path."""
    package = tmp_path / "src" / "tradecore_dipbuyer"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""The buy-the-dip strategy type."""\n')
    for name in ("strategy.py", "plugin.py"):
        (package / name).write_text(block_under(f"src/tradecore_dipbuyer/{name}"))
    test_file = tmp_path / "tests" / "test_buy_the_dip.py"
    test_file.parent.mkdir()
    test_file.write_text(block_under("tests/test_buy_the_dip.py"))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield test_file
    for module in [m for m in sys.modules if m.partition(".")[0] == "tradecore_dipbuyer"]:
        del sys.modules[module]


def load(path: Path) -> ModuleType:
    """Import the test file at ``path`` as a module of its own."""
    spec = importlib.util.spec_from_file_location("guide_test_buy_the_dip", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pyproject_declares_the_plugin_module_the_page_writes() -> None:
    pyproject = tomllib.loads(block_under("pyproject.toml"))

    entry_points = pyproject["project"]["entry-points"]["tradecore.plugins"]
    assert entry_points == {"dipbuyer": "tradecore_dipbuyer.plugin"}
    assert pyproject["tool"]["pytest"]["ini_options"]["asyncio_mode"] == "auto"


def test_the_package_registers_buy_the_dip_through_its_hook(dipbuyer: Path) -> None:
    plugin = importlib.import_module("tradecore_dipbuyer.plugin")

    registry = PluginRegistry.from_manager(
        get_plugin_manager(load_entrypoints=False, plugins=[("dipbuyer", plugin)])
    )

    assert list(registry.strategies) == ["buy-the-dip"]


def test_the_pages_own_test_passes(dipbuyer: Path) -> None:
    module = load(dipbuyer)
    tests = [
        function
        for name, function in vars(module).items()
        if name.startswith("test_") and inspect.iscoroutinefunction(function)
    ]

    assert tests
    for test in tests:
        asyncio.run(test())


def test_the_context_table_lists_exactly_the_arguments_it_is_built_with() -> None:
    arguments = [field.name for field in attrs.fields(StrategyContext)]

    assert table_names("`StrategyContext` (`tradecore.ports`) is a frozen attrs class") == (
        arguments
    )


def test_what_the_context_reads_from_its_config_is_not_an_argument() -> None:
    derived = table_names("It also gives, read from the fields above")
    arguments = {field.name for field in attrs.fields(StrategyContext)}

    assert {"state", "dry_run"} <= set(derived)
    for name in derived:
        assert name not in arguments
        assert hasattr(StrategyContext, name)
    config = make_strategy(dry_run=True)
    context = StrategyContext(
        config=config, accounts=(), positions=(), prices={}, recent_trades=(), now=config.created_at
    )
    assert context.dry_run is True
    with pytest.raises(TypeError, match="dry_run"):
        StrategyContext(  # type: ignore[call-arg]
            config=config,
            accounts=(),
            positions=(),
            prices={},
            recent_trades=(),
            now=config.created_at,
            dry_run=True,
        )
