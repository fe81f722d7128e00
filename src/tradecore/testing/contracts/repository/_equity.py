"""Contract tests of ``uow.equity``: each connection's market value over time, one point per
``(connection, currency, at)``, scoped by user, thinned by the store, pruned by age."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tradecore.domain import EquityPoint
from tradecore.errors import DomainError, NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_connection,
    add_owner,
    committing,
    minutes,
)


def _point(
    user_id: str,
    connection_id: str,
    at_minutes: float,
    value: str,
    currency: str = "USD",
    **changes: object,
) -> EquityPoint:
    values: dict[str, object] = {
        "user_id": user_id,
        "connection_id": connection_id,
        "at": T0 + timedelta(minutes=at_minutes),
        "currency": currency,
        "value": Decimal(value),
        "priced": 2,
        "unpriced": 1,
    }
    values.update(changes)
    return EquityPoint(**values)  # type: ignore[arg-type]


class EquityTests(ContractBase):
    """Equity points: exact values, one per key, by connection and time, per user."""

    @pytest.mark.asyncio
    async def test_equity_points_round_trip_exactly_by_connection_currency_and_time(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        other = await add_connection(repository, alice, "second")
        me, main = alice.user.id, alice.connection.id
        later = _point(me, main, 30, "1010.10")
        early = _point(me, main, 0, "1000.00")
        euro = _point(me, main, 0, "-12.5000", currency="EUR", priced=1, unpriced=0)
        second = _point(me, other.id, 10, "7")
        async with committing(repository) as uow:
            assert await uow.equity.add(me, [later, second, early, euro]) == 4
        async with repository.unit_of_work() as uow:
            stored = list(await uow.equity.list(me))
            mine = list(await uow.equity.list(me, connection_id=main))
            spans = list(await uow.equity.spans(me))
        expected = sorted([later, early, euro, second], key=lambda p: p.key)
        assert stored == expected
        assert [str(p.value) for p in stored] == [str(p.value) for p in expected]  # digits kept
        assert mine == sorted([later, early, euro], key=lambda p: p.key)
        assert [(s.connection_id, s.currency, s.first, s.last, s.count) for s in spans] == sorted(
            [
                (main, "EUR", T0, T0, 1),
                (main, "USD", T0, T0 + minutes(30), 2),
                (other.id, "USD", T0 + minutes(10), T0 + minutes(10), 1),
            ]
        )

    @pytest.mark.asyncio
    async def test_a_point_recorded_again_at_the_same_time_replaces_the_first(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository)
        me, main = alice.user.id, alice.connection.id
        async with committing(repository) as uow:
            await uow.equity.add(me, [_point(me, main, 0, "100")])
        async with committing(repository) as uow:
            await uow.equity.add(me, [_point(me, main, 0, "101", priced=3)])
        async with repository.unit_of_work() as uow:
            stored = list(await uow.equity.list(me))
        assert [(p.value, p.priced) for p in stored] == [(Decimal("101"), 3)]

    @pytest.mark.asyncio
    async def test_since_and_until_select_a_half_open_range(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository)
        me, main = alice.user.id, alice.connection.id
        async with committing(repository) as uow:
            await uow.equity.add(me, [_point(me, main, m, str(m)) for m in range(5)])
        async with repository.unit_of_work() as uow:
            found = await uow.equity.list(me, since=T0 + minutes(1), until=T0 + minutes(3))
            (span,) = await uow.equity.spans(me, since=T0 + minutes(1), until=T0 + minutes(3))
        assert [p.value for p in found] == [Decimal(1), Decimal(2)]
        assert (span.first, span.last, span.count) == (T0 + minutes(1), T0 + minutes(2), 2)

    @pytest.mark.asyncio
    async def test_thinning_keeps_the_last_point_of_each_bucket_of_each_series(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository)
        me, main = alice.user.id, alice.connection.id
        usd = [_point(me, main, m, str(m)) for m in range(10)]
        eur = [_point(me, main, m, str(100 + m), currency="EUR") for m in (0.5, 3.5)]
        async with committing(repository) as uow:
            await uow.equity.add(me, [*usd, *eur])
        async with repository.unit_of_work() as uow:
            thinned = await uow.equity.list(me, every=timedelta(minutes=4), origin=T0)
            late = await uow.equity.list(
                me, since=T0 + minutes(5), every=timedelta(minutes=4), origin=T0
            )
            with pytest.raises(DomainError):
                await uow.equity.list(me, every=timedelta(minutes=4))
            with pytest.raises(DomainError):
                await uow.equity.list(me, every=timedelta(milliseconds=500), origin=T0)
        # Buckets [0, 4), [4, 8), [8, 12) minutes: the last USD point of each, the EUR one of
        # the first bucket; by connection, currency, time.
        assert [(p.currency, p.value) for p in thinned] == [
            ("EUR", Decimal("103.5")),
            ("USD", Decimal(3)),
            ("USD", Decimal(7)),
            ("USD", Decimal(9)),
        ]
        assert [p.value for p in late] == [Decimal(7), Decimal(9)]

    @pytest.mark.asyncio
    async def test_buckets_count_whole_seconds_from_the_origin(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository)
        me, main = alice.user.id, alice.connection.id
        # 59.9 s and 60.1 s after the origin fall in buckets 0 and 1 of a minute; 119.999 s in 1.
        seconds = (59.9, 60.1, 119.999, 120.0)
        async with committing(repository) as uow:
            await uow.equity.add(me, [_point(me, main, s / 60, str(s)) for s in seconds])
        async with repository.unit_of_work() as uow:
            thinned = await uow.equity.list(me, every=timedelta(minutes=1), origin=T0)
        assert [p.value for p in thinned] == [Decimal("59.9"), Decimal("119.999"), Decimal("120.0")]

    @pytest.mark.asyncio
    async def test_another_users_equity_is_neither_read_nor_written(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        a, b = alice.user.id, bob.user.id
        async with committing(repository) as uow:
            await uow.equity.add(a, [_point(a, alice.connection.id, 0, "1000")])
            await uow.equity.add(b, [_point(b, bob.connection.id, 0, "5")])
        async with repository.unit_of_work() as uow:
            assert [p.value for p in await uow.equity.list(b)] == [Decimal(5)]
            assert list(await uow.equity.list(b, connection_id=alice.connection.id)) == []
            assert list(await uow.equity.spans(b, connection_id=alice.connection.id)) == []
            assert [s.connection_id for s in await uow.equity.spans(b)] == [bob.connection.id]
            thinned = await uow.equity.list(b, every=timedelta(minutes=1), origin=T0)
            assert [p.user_id for p in thinned] == [b]
            with pytest.raises(NotFound):  # bob's point on alice's connection
                await uow.equity.add(b, [_point(b, alice.connection.id, 1, "9")])
            with pytest.raises(DomainError):  # a point of alice's written as bob
                await uow.equity.add(b, [_point(a, bob.connection.id, 1, "9")])

    @pytest.mark.asyncio
    async def test_points_go_with_their_connection_and_prune_by_age(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        other = await add_connection(repository, alice, "second")
        me = alice.user.id
        async with committing(repository) as uow:
            await uow.equity.add(me, [_point(me, other.id, 0, "1")])
            await uow.equity.add(me, [_point(me, alice.connection.id, m, "2") for m in (0, 1, 2)])
        async with committing(repository) as uow:
            await uow.connections.remove(me, other.id)
        async with committing(repository) as uow:
            assert await uow.equity.prune(before=T0 + minutes(2)) == 2
        async with repository.unit_of_work() as uow:
            left = list(await uow.equity.list(me))
        assert [(p.connection_id, p.at) for p in left] == [(alice.connection.id, T0 + minutes(2))]
