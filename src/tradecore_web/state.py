"""Where a request finds the application and the server's options."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from tradecore_adapters.bootstrap import Application

__all__ = ["APPLICATION", "application_of"]

APPLICATION = "application"
"""The key of the :class:`Application` in the Litestar app's state."""


def application_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Application:
    """The application the web server serves."""
    app: Application = connection.app.state[APPLICATION]
    return app
