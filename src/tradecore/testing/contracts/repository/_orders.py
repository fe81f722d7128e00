"""Contract tests of ``uow.orders``: exact decimals, client order ids, status, the strategy and
lookup count, filters and limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from attrs import evolve

from tradecore.domain import OrderStatus, OrderType, Side
from tradecore.errors import AlreadyExists, NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_order, make_strategy
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_connection,
    add_owner,
    committing,
    minutes,
)


class OrderTests(ContractBase):
    """Orders: found by client order id, updated, listed oldest first (by creation, then
    insertion), filtered and limited; they outlive their strategy."""

    @pytest.mark.asyncio
    async def test_order_round_trips_and_is_found_by_client_id(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        order = make_order(
            connection_id=owner.connection.id,
            client_order_id="tc-limit-1",
            order_type=OrderType.LIMIT,
            side=Side.SELL,
            quantity=Decimal("0.00012345"),
            limit_price=Decimal("123456789.123456789"),
        )
        async with committing(repository) as uow:
            await uow.orders.add(owner.user.id, order)
        async with repository.unit_of_work() as uow:
            stored = await uow.orders.get(owner.user.id, "tc-limit-1")
        assert stored == order
        assert str(stored.request.limit_price) == "123456789.123456789"

    @pytest.mark.asyncio
    async def test_existing_client_order_id_raises_already_exists(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        order = make_order(connection_id=owner.connection.id)
        async with committing(repository) as uow:
            await uow.orders.add(owner.user.id, order)
        async with repository.unit_of_work() as uow:
            with pytest.raises(AlreadyExists, match=f"client id {order.client_order_id!r}"):
                await uow.orders.add(
                    owner.user.id,
                    evolve(order, status=OrderStatus.OPEN, created_at=T0 + minutes(1)),
                )

    @pytest.mark.asyncio
    async def test_order_status_is_updated(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        order = make_order(connection_id=owner.connection.id)
        async with committing(repository) as uow:
            await uow.orders.add(owner.user.id, order)
        filled = evolve(
            order,
            status=OrderStatus.FILLED,
            broker_order_id="B-77",
            filled_quantity=order.request.quantity,
            average_fill_price=Decimal("42000.10"),
            updated_at=T0 + minutes(1),
        )
        async with committing(repository) as uow:
            await uow.orders.update(owner.user.id, filled)
        async with repository.unit_of_work() as uow:
            assert await uow.orders.get(owner.user.id, order.client_order_id) == filled
            with pytest.raises(NotFound):
                await uow.orders.update(
                    owner.user.id,
                    make_order(connection_id=owner.connection.id, client_order_id="x"),
                )
            with pytest.raises(NotFound):
                await uow.orders.get(owner.user.id, "no-such-order")

    @pytest.mark.asyncio
    async def test_orders_are_listed_oldest_first_and_filtered(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        other = await add_connection(repository, owner, "other")
        orders = [
            make_order(
                connection_id=owner.connection.id,
                client_order_id="late-open",
                status=OrderStatus.OPEN,
                created_at=T0 + minutes(2),
            ),
            make_order(
                connection_id=owner.connection.id,
                client_order_id="early-filled",
                status=OrderStatus.FILLED,
                filled_quantity=Decimal("0.1"),
                created_at=T0,
            ),
            make_order(
                connection_id=other.id,
                client_order_id="middle-unknown",
                status=OrderStatus.UNKNOWN,
                created_at=T0 + minutes(1),
            ),
        ]
        async with committing(repository) as uow:
            for order in orders:
                await uow.orders.add(owner.user.id, order)
        async with repository.unit_of_work() as uow:
            everything = await uow.orders.list(owner.user.id)
            open_ = await uow.orders.list(owner.user.id, open_only=True)
            main = await uow.orders.list(owner.user.id, connection_id=owner.connection.id)
        ids = [o.client_order_id for o in everything]
        assert ids == ["early-filled", "middle-unknown", "late-open"]
        assert [o.client_order_id for o in open_] == ["middle-unknown", "late-open"]
        assert [o.client_order_id for o in main] == ["early-filled", "late-open"]

    @pytest.mark.asyncio
    async def test_order_strategy_and_missing_lookups_round_trip(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        by_hand = make_order(connection_id=owner.connection.id, client_order_id="by-hand")
        asked = make_order(
            connection_id=owner.connection.id,
            client_order_id="asked",
            status=OrderStatus.UNKNOWN,
            strategy_id="strategy-7",
            missing_lookups=2,
        )
        async with committing(repository) as uow:
            await uow.orders.add(owner.user.id, by_hand)
            await uow.orders.add(owner.user.id, asked)
        async with repository.unit_of_work() as uow:
            stored_by_hand = await uow.orders.get(owner.user.id, "by-hand")
            stored_asked = await uow.orders.get(owner.user.id, "asked")
        assert stored_by_hand == by_hand
        assert (stored_by_hand.strategy_id, stored_by_hand.missing_lookups) == (None, 0)
        assert stored_asked == asked
        assert (stored_asked.strategy_id, stored_asked.missing_lookups) == ("strategy-7", 2)
        given_up = evolve(
            asked,
            status=OrderStatus.NOT_PLACED,
            missing_lookups=3,
            reason="not found by 3 lookups",
            updated_at=T0 + minutes(5),
        )
        async with committing(repository) as uow:
            await uow.orders.update(owner.user.id, given_up)
        async with repository.unit_of_work() as uow:
            assert await uow.orders.get(owner.user.id, "asked") == given_up

    @pytest.mark.asyncio
    async def test_a_not_placed_order_is_not_open(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        async with committing(repository) as uow:
            for n, status in enumerate((OrderStatus.NOT_PLACED, OrderStatus.UNKNOWN)):
                await uow.orders.add(
                    owner.user.id,
                    make_order(
                        connection_id=owner.connection.id,
                        client_order_id=status.value,
                        status=status,
                        created_at=T0 + minutes(n),
                    ),
                )
        async with repository.unit_of_work() as uow:
            everything = await uow.orders.list(owner.user.id)
            open_ = await uow.orders.list(owner.user.id, open_only=True)
        assert [o.client_order_id for o in everything] == ["not_placed", "unknown"]
        assert [o.client_order_id for o in open_] == ["unknown"]

    @pytest.mark.asyncio
    async def test_orders_are_filtered_by_strategy_and_limited_to_the_newest(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        plan = [
            ("a-1", "alpha", OrderStatus.FILLED),
            ("b-1", "beta", OrderStatus.OPEN),
            ("manual", None, OrderStatus.OPEN),
            ("a-2", "alpha", OrderStatus.NOT_PLACED),
            ("a-3", "alpha", OrderStatus.OPEN),
            ("a-4", "alpha", OrderStatus.FILLED),
        ]
        async with committing(repository) as uow:
            for n, (client_id, strategy_id, status) in enumerate(plan):
                await uow.orders.add(
                    owner.user.id,
                    make_order(
                        connection_id=owner.connection.id,
                        client_order_id=client_id,
                        strategy_id=strategy_id,
                        status=status,
                        filled_quantity=Decimal("0.1" if status is OrderStatus.FILLED else "0"),
                        created_at=T0 + minutes(n),
                    ),
                )
        user_id = owner.user.id
        async with repository.unit_of_work() as uow:
            alpha = await uow.orders.list(user_id, strategy_id="alpha")
            newest_alpha = await uow.orders.list(user_id, strategy_id="alpha", limit=2)
            newest = await uow.orders.list(user_id, limit=3)
            open_alpha = await uow.orders.list(user_id, strategy_id="alpha", open_only=True)
            few = await uow.orders.list(user_id, strategy_id="beta", limit=10)
            none = await uow.orders.list(user_id, limit=0)
            nobody = await uow.orders.list(user_id, strategy_id="gamma")
            scoped = await uow.orders.list(
                user_id, connection_id=owner.connection.id, strategy_id="alpha", limit=1
            )
        assert [o.client_order_id for o in alpha] == ["a-1", "a-2", "a-3", "a-4"]
        assert [o.client_order_id for o in newest_alpha] == ["a-3", "a-4"]
        assert [o.client_order_id for o in newest] == ["a-2", "a-3", "a-4"]
        assert [o.client_order_id for o in open_alpha] == ["a-3"]
        assert [o.client_order_id for o in few] == ["b-1"]
        assert list(none) == []
        assert list(nobody) == []
        assert [o.client_order_id for o in scoped] == ["a-4"]

    @pytest.mark.asyncio
    async def test_orders_created_at_the_same_time_are_listed_in_insertion_order(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        ids = ["zulu", "alpha", "mike"]
        async with committing(repository) as uow:
            for client_id in ids:
                await uow.orders.add(
                    owner.user.id,
                    make_order(connection_id=owner.connection.id, client_order_id=client_id),
                )
        async with committing(repository) as uow:
            # An update keeps an order's place.
            zulu = await uow.orders.get(owner.user.id, "zulu")
            await uow.orders.update(owner.user.id, evolve(zulu, status=OrderStatus.OPEN))
        async with repository.unit_of_work() as uow:
            listed = await uow.orders.list(owner.user.id)
            newest = await uow.orders.list(owner.user.id, limit=2)
        assert [o.client_order_id for o in listed] == ids
        assert [o.client_order_id for o in newest] == ["alpha", "mike"]

    @pytest.mark.asyncio
    async def test_orders_outlive_their_removed_strategy(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        strategy = make_strategy(user_id=owner.user.id, connection_id=owner.connection.id)
        order = make_order(connection_id=owner.connection.id, strategy_id=strategy.id)
        async with committing(repository) as uow:
            await uow.strategies.add(strategy)
            await uow.orders.add(owner.user.id, order)
        async with committing(repository) as uow:
            await uow.strategies.remove(owner.user.id, strategy.id)
        async with repository.unit_of_work() as uow:
            assert await uow.orders.list(owner.user.id, strategy_id=strategy.id) == [order]
            assert await uow.orders.get(owner.user.id, order.client_order_id) == order

    @pytest.mark.asyncio
    async def test_an_uncommitted_order_is_not_stored(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        async with repository.unit_of_work() as uow:
            await uow.orders.add(
                owner.user.id,
                make_order(connection_id=owner.connection.id, strategy_id="s", missing_lookups=1),
            )
            assert len(await uow.orders.list(owner.user.id, strategy_id="s")) == 1
        async with repository.unit_of_work() as uow:
            assert list(await uow.orders.list(owner.user.id)) == []
