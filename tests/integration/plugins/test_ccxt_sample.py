"""The ccxt sample plugin (tests/fixtures/tradecore-ccxtbinance) as tradecore sees it installed.

``nox -s tests`` installs it with ccxt and sets ``TRADECORE_REQUIRE_SAMPLE_PLUGINS``, so these
tests (and its own contract and fault tests, collected from the fixture) run on CI; by hand they
skip, saying how to install it, when it is not installed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradecore.plugins import PluginRegistry, get_plugin_manager

DISTRIBUTION = "tradecore-ccxtbinance"
PACKAGE = Path(__file__).parents[2] / "fixtures" / DISTRIBUTION / "src" / "tradecore_ccxtbinance"


def require_ccxt_sample() -> str:
    """The installed sample's version; skips (fails under nox) when it is not installed."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        message = (
            f"the ccxt sample plugin {DISTRIBUTION} is not installed: "
            "pip install tests/fixtures/tradecore-ccxtbinance (nox -s tests does)"
        )
    if os.environ.get("TRADECORE_REQUIRE_SAMPLE_PLUGINS"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def test_the_ccxt_sample_is_discovered_from_its_own_distribution() -> None:
    version = require_ccxt_sample()

    registry = PluginRegistry.from_manager(get_plugin_manager())

    assert "ccxtbinance" in registry.brokers
    (info,) = [info for info in registry.plugins if "ccxtbinance" in info.brokers]
    assert (info.name, info.distribution, info.version) == ("ccxtbinance", DISTRIBUTION, version)


def test_loading_the_ccxt_sample_does_not_import_ccxt() -> None:
    require_ccxt_sample()
    script = (
        "import sys; from tradecore.plugins import PluginRegistry, get_plugin_manager; "
        "PluginRegistry.from_manager(get_plugin_manager(allowed=['ccxtbinance'])); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ccxt', 'aiohttp')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_the_ccxt_sample_imports_only_the_public_tradecore_modules() -> None:
    public = {"tradecore", "tradecore.plugins", "tradecore.ports", "tradecore.errors"}
    imported = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)

    ours = {name for name in imported if name.startswith("tradecore.") or name == "tradecore"}
    assert ours <= public


async def test_a_daemon_s_second_cycle_does_not_reload_the_markets() -> None:
    # Two connections, two cycles, one process: the application's BrokerCaches reach the cycle's
    # adapters as BrokerContext.cache, so Binance's exchangeInfo is fetched once.
    require_ccxt_sample()
    from tests.fakes.binance_exchange import FakeBinance

    from tradecore import BrokerConnection, Secret
    from tradecore.domain import RunStatus
    from tradecore.testing import FakeClock
    from tradecore.testing.builders import make_user
    from tradecore_adapters.bootstrap import Settings, bootstrap

    fake = FakeBinance()
    fake.add_symbol("BTCUSDT", "BTC", "USDT", price="50000.00")
    for n in (1, 2):
        fake.add_account(f"key-{n}", secret=f"secret-{n}", balances={"BTC": ("1", "0")})
        fake.accounts[f"key-{n}"].add_trades("BTCUSDT", 2)
    clock = FakeClock()
    with fake.serve() as url:
        async with bootstrap(Settings(notifiers=()), clock=clock) as app:
            assert app.cycle.broker_caches is app.context.broker_caches is not None
            async with app.repository.unit_of_work() as uow:
                await uow.users.add(make_user(id="user-1"))
                for n in (1, 2):
                    await uow.connections.add(
                        BrokerConnection(
                            id=f"conn-{n}",
                            user_id="user-1",
                            broker="ccxtbinance",
                            name=f"c{n}",
                            settings={"base_url": url},
                            secrets={
                                "api_key": Secret(f"key-{n}"),
                                "api_secret": Secret(f"secret-{n}"),
                            },
                            created_at=clock.now(),
                        )
                    )
                await uow.commit()
            for _ in range(2):
                outcome = await app.cycle.run("user-1")
                assert outcome.run.status is RunStatus.SUCCESS, outcome.run.steps
            cache = app.context.broker_caches.for_broker("ccxtbinance")
            assert len(cache) == 1
        assert len(cache) == 0, "closing the application empties the caches"
    assert fake.count("GET", "/api/v3/account") >= 4  # both connections synced twice
    assert fake.count("GET", "/api/v3/exchangeInfo") == 1
