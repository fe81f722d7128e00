"""Placing an order with a confirmation step, the order list; and their JSON API."""

from __future__ import annotations

from typing import Any

__all__ = ["ROUTES"]

ROUTES: list[Any] = []
