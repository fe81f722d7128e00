"""The pluggy markers and the frozen identifiers of the plugin contract."""

from __future__ import annotations

from typing import Final

import pluggy

__all__ = ["ENTRYPOINT_GROUP", "PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME: Final = "tradecore"
"""The pluggy project name: markers and the manager use it."""

ENTRYPOINT_GROUP: Final = "tradecore.plugins"
"""The entry-point group a distribution declares its plugin module in."""

hookspec: Final = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl: Final = pluggy.HookimplMarker(PROJECT_NAME)
"""Mark a plugin's hook implementations: ``@hookimpl def tradecore_register_brokers(): ...``."""
