"""The web front end: the dashboard pages and the HTTP API over the same application as the
command line (``tradecore web``; see ``docs/web.md``).

Like the command line it parses, calls one use case of the
:class:`~tradecore_adapters.bootstrap.Application` and renders; it adds no business rule.
"""

from __future__ import annotations

from tradecore_web.app import WebOptions, create_app

__all__ = ["WebOptions", "create_app"]
