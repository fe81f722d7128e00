"""What the run ledger says in aggregate, for monitoring (``GET /metrics``, docs/metrics.md).

These are read models a repository computes in a few aggregate queries over every user's runs
(never by loading the runs), for an operator's scrape: how many cycles ran by status and
trigger, how long they took (a histogram with fixed bounds), and the API figures the latest
sync step of each connection recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from attrs import field, frozen

from tradecore.domain._checks import freeze_mapping, utc
from tradecore.domain.automation import RunStatus, Trigger
from tradecore.errors import DomainError

__all__ = [
    "DurationHistogram",
    "RecordedFigures",
    "RunCount",
    "RunStats",
    "checked_bounds",
]


@frozen(kw_only=True)
class RunCount:
    """How many runs of one status and trigger the ledger holds.

    :param status: ``None`` for runs not finished (running, or left unfinished by a process
        that stopped).
    """

    status: RunStatus | None
    trigger: Trigger
    count: int


def checked_bounds(value: Iterable[timedelta]) -> tuple[timedelta, ...]:
    """``value`` as a tuple of histogram bounds, once they are timedeltas, positive and
    strictly increasing.

    :raises DomainError: they are not.
    """
    bounds = tuple(value)
    if not all(isinstance(b, timedelta) for b in bounds):
        raise DomainError("histogram bounds must be durations")
    if any(b <= timedelta(0) for b in bounds) or list(bounds) != sorted(set(bounds)):
        raise DomainError("histogram bounds must be positive and strictly increasing")
    return bounds


def _ints(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(value)


def _counts(value: Iterable[RunCount]) -> tuple[RunCount, ...]:
    return tuple(value)


@frozen(kw_only=True)
class DurationHistogram:
    """How long finished runs took, as a cumulative histogram (Prometheus semantics).

    :param bounds: the upper bounds of the buckets, increasing (the ``+Inf`` bucket is
        :attr:`count`).
    :param cumulative: per bound, how many runs took at most that long.
    :param count: how many finished runs there are.
    :param total: the sum of their durations.
    """

    bounds: tuple[timedelta, ...] = field(converter=checked_bounds)
    cumulative: tuple[int, ...] = field(converter=_ints)
    count: int
    total: timedelta

    def __attrs_post_init__(self) -> None:
        if len(self.cumulative) != len(self.bounds):
            raise DomainError("a histogram needs one cumulative count per bound")


@frozen(kw_only=True)
class RunStats:
    """The run ledger in aggregate: counts by status and trigger, and the durations."""

    counts: tuple[RunCount, ...] = field(converter=_counts)
    durations: DurationHistogram


@frozen(kw_only=True)
class RecordedFigures:
    """The API figures the latest sync step of one connection recorded
    (:attr:`~tradecore.domain.TaskResult.api`: ``requests``, ``used_weight``…).

    :param broker: the connection's broker, ``None`` when the connection is gone.
    :param recorded_at: when that step started.
    """

    user_id: str
    connection_id: str
    broker: str | None
    recorded_at: datetime = field(converter=utc)
    api: Mapping[str, str] = field(converter=freeze_mapping, hash=False)
