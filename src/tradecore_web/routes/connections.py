"""The brokers page's connections: list, configure, sync now, test, log in (OAuth), enable and
disable; and their JSON API (``/api/v1/connections``)."""

from __future__ import annotations

from typing import Any

__all__ = ["ROUTES"]

ROUTES: list[Any] = []
