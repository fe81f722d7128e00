"""Contract tests of ``uow.orders``: exact decimals, client order ids, status, filters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from attrs import evolve

from tradecore.domain import OrderStatus, OrderType, Side
from tradecore.errors import AlreadyExists, NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_order
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_connection,
    add_owner,
    committing,
    minutes,
)


class OrderTests(ContractBase):
    """Orders: found by client order id, updated, listed oldest first and filtered."""

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
            with pytest.raises(AlreadyExists):
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
