"""The operator page (administrators): every user's automation state, the daemons and their leases; the kill switch."""

from __future__ import annotations

from typing import Any

__all__ = ["ROUTES"]

ROUTES: list[Any] = []
