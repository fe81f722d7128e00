"""Reading the filters of the portfolio pages and API: optional text and UTC times."""

from __future__ import annotations

from datetime import UTC, datetime

from tradecore.errors import DomainError

__all__ = ["parse_moment", "text_or_none"]


def text_or_none(value: str | None) -> str | None:
    """The text trimmed, or ``None`` for a missing or empty field (a GET form's "no filter")."""
    if value is None or not value.strip():
        return None
    return value.strip()


def parse_moment(value: str | None, field: str) -> datetime | None:
    """A time from a filter: ``2026-03-01``, ``2026-03-01T10:00`` (UTC) or with an offset.

    :raises DomainError: it is none of these (naming ``field``).
    """
    text = text_or_none(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(
            f"{field} must be a date or a time like 2026-03-01 or 2026-03-01T10:00 (UTC), "
            f"got {text!r}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
