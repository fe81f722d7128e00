"""The dependency rule at run time: importing the core loads no outer package, no I/O library and
no plugin. (import-linter checks the same rule statically; see .importlinter.)"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

FORBIDDEN = [
    "httpx",
    "sqlalchemy",
    "click",
    "telegram",
    "tenacity",
    "rich",
    "requests",
    "websockets",
    "cryptography",
    "alembic",
    "tradecore_adapters",
    "tradecore_cli",
]

# Runs in a fresh interpreter: record every entry-point lookup or load, then import the core.
PROBE = textwrap.dedent(
    """
    import importlib.metadata, json, sys

    touched = []

    def recording(name, original):
        def wrapper(*args, **kwargs):
            touched.append(name)
            return original(*args, **kwargs)
        return wrapper

    importlib.metadata.entry_points = recording(
        "entry_points", importlib.metadata.entry_points
    )
    importlib.metadata.distributions = recording(
        "distributions", importlib.metadata.distributions
    )
    importlib.metadata.EntryPoint.load = recording("load", importlib.metadata.EntryPoint.load)

    import tradecore, tradecore.errors, tradecore.plugins, tradecore.ports

    forbidden = set(sys.argv[1:])
    print(json.dumps({
        "loaded": sorted(m for m in sys.modules if m.partition(".")[0] in forbidden),
        "plugins": sorted(m for m in sys.modules if m.startswith("tradecore_dummybroker")),
        "touched": touched,
    }))
    """
)


def probe() -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *FORBIDDEN],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_importing_the_core_loads_no_adapter_cli_or_io_library() -> None:
    assert probe()["loaded"] == []


def test_importing_the_core_discovers_and_loads_no_plugin() -> None:
    found = probe()

    assert found["touched"] == [], "entry points were looked up or loaded at import time"
    assert found["plugins"] == []
