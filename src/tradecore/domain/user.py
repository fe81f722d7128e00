"""The :class:`User`: owner of every connection, strategy, run and row of data."""

from __future__ import annotations

from datetime import datetime

from attrs import define, field

from tradecore.domain._checks import non_empty, utc
from tradecore.domain.ids import new_id

__all__ = ["User"]


@define(kw_only=True)
class User:
    """A trader. All data is scoped by user and never crosses users.

    :param name: a unique, human-chosen handle (``alice``).
    """

    id: str = field(factory=new_id, validator=non_empty)
    name: str = field(validator=non_empty)
    created_at: datetime = field(converter=utc)
