"""The Prometheus text format of :class:`~tradecore.services.MetricsSnapshot` (``GET /metrics``,
docs/metrics.md), written by prometheus_client.

prometheus_client's collectors are synchronous and its default registry is global (and fills
itself with this process's own figures at import): :func:`render_metrics` takes the snapshot
asynchronously first, then builds a fresh :class:`~prometheus_client.CollectorRegistry` holding
one collector that yields the snapshot's families, and writes them. prometheus_client is
imported only when metrics are rendered.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from tradecore.services import BrokerFigures, Metrics, MetricsSnapshot

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

__all__ = ["HasMetrics", "SnapshotCollector", "render_metrics"]

_BROKER_LABELS = ["user_id", "connection_id", "broker"]


def _seconds(duration: timedelta) -> float:
    return duration.total_seconds()


def _broker_labels(figures: BrokerFigures) -> list[str]:
    return [figures.user_id, figures.connection_id, figures.broker or ""]


class HasMetrics(Protocol):
    """What :func:`render_metrics` needs of the application: its metrics use case."""

    @property
    def metrics(self) -> Metrics:
        """The application's :class:`~tradecore.services.Metrics`."""
        ...


class SnapshotCollector:
    """A prometheus_client collector of one :class:`MetricsSnapshot` (every family of
    docs/metrics.md)."""

    def __init__(self, snapshot: MetricsSnapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        """Yield the snapshot's metric families."""
        from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

        snap = self._snapshot
        runs = GaugeMetricFamily(
            "tradecore_runs",
            "Runs in the ledger, by status (unfinished: not finished yet) and trigger.",
            labels=["status", "trigger"],
        )
        for count in snap.runs.counts:
            status = "unfinished" if count.status is None else count.status.value
            runs.add_metric([status, count.trigger.value], count.count)
        yield runs

        durations = snap.runs.durations
        buckets = [
            (_bound(bound), n)
            for bound, n in zip(durations.bounds, durations.cumulative, strict=True)
        ]
        buckets.append(("+Inf", durations.count))
        histogram = HistogramMetricFamily(
            "tradecore_run_duration_seconds",
            "How long the finished runs in the ledger took.",
        )
        histogram.add_metric([], buckets, sum_value=_seconds(durations.total))
        yield histogram

        yield GaugeMetricFamily(
            "tradecore_cycles_running",
            "Cycles running now: leases held and unexpired, over every daemon.",
            value=snap.running,
        )
        daemons = GaugeMetricFamily(
            "tradecore_daemons",
            "Registered daemons: alive (seen within three lease lifetimes) or silent.",
            labels=["state"],
        )
        daemons.add_metric(["alive"], snap.daemons_alive)
        daemons.add_metric(["silent"], snap.daemons_silent)
        yield daemons
        yield GaugeMetricFamily(
            "tradecore_trading_halted",
            "1 while the kill switch halts all trading, 0 otherwise.",
            value=0 if snap.halted_since is None else 1,
        )
        yield from self._users()
        yield from self._brokers()

    def _users(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        users = self._snapshot.active_users
        yield GaugeMetricFamily(
            "tradecore_active_users", "Users whose automation is active.", value=len(users)
        )
        age = GaugeMetricFamily(
            "tradecore_user_last_success_age_seconds",
            "Per active user, seconds since its latest successful run finished (+Inf: never).",
            labels=["user_id"],
        )
        for user in users:
            age.add_metric([user.user_id], float("inf") if user.age is None else _seconds(user.age))
        yield age

    def _brokers(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        def family(name: str, text: str, *extra: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, text, labels=[*_BROKER_LABELS, *extra])

        requests = family(
            "tradecore_broker_requests", "Requests the latest sync of the connection made."
        )
        age = family(
            "tradecore_broker_figures_age_seconds",
            "Seconds since the latest sync that recorded the connection's figures started.",
        )
        used = family(
            "tradecore_broker_rate_limit_used", "Rate limit used, as the broker said.", "limit"
        )
        remaining = family(
            "tradecore_broker_rate_limit_remaining",
            "Rate limit left (headroom), as the broker said.",
            "limit",
        )
        capacity = family(
            "tradecore_broker_rate_limit_capacity", "The rate limit, as the broker said.", "limit"
        )
        for figures in self._snapshot.brokers:
            labels = _broker_labels(figures)
            age.add_metric(labels, _seconds(figures.age))
            if figures.requests is not None:
                requests.add_metric(labels, figures.requests)
            for limit in figures.limits:
                for target, value in (
                    (used, limit.used),
                    (remaining, limit.remaining),
                    (capacity, limit.limit),
                ):
                    if value is not None:
                        target.add_metric([*labels, limit.name], value)
        yield from (requests, age, used, remaining, capacity)


def _bound(bound: timedelta) -> str:
    # As prometheus_client's own histograms write bounds of this size (le="5.0", le="0.5").
    return repr(bound.total_seconds())


async def render_metrics(app: HasMetrics) -> tuple[bytes, str]:
    """The Prometheus text exposition of ``app``'s :meth:`~tradecore.services.Metrics.snapshot`:
    ``(body, content type)``, for ``GET /metrics`` (authorise first with
    :meth:`~tradecore.services.Metrics.authorise`)."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    snapshot = await app.metrics.snapshot()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    return generate_latest(registry), CONTENT_TYPE_LATEST
