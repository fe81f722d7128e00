"""Strategies, the user's risk limits, notification targets; and their JSON API."""

from __future__ import annotations

from typing import Any

__all__ = ["ROUTES"]

ROUTES: list[Any] = []
