"""The automation section: controls, status (live), run history and timeline; /automation/status/, /automation/logs/ and /api/v1/automation."""

from __future__ import annotations

from typing import Any

__all__ = ["ROUTES"]

ROUTES: list[Any] = []
