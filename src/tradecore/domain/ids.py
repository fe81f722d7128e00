"""Identifiers: opaque strings, generated here so every layer makes them the same way."""

from __future__ import annotations

import uuid

__all__ = ["new_id"]


def new_id() -> str:
    """Return a new random identifier (32 lowercase hex characters)."""
    return uuid.uuid4().hex
