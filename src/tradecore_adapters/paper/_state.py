"""The paper venue's records as text: its state (ledgers, reservations, orders, counters) and
each fill, as JSON with every amount a decimal string (exact) and every time ISO 8601 UTC.

What is stored is read back by :func:`load_state` and :func:`load_fill`; a record that cannot be
read (edited by hand, written by a newer tradecore) raises :class:`StateUnreadable`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tradecore_adapters.paper._client import VenueFill, VenueOrder, VenueTicket

__all__ = [
    "FORMAT",
    "StateUnreadable",
    "dump_fill",
    "dump_order",
    "dump_state",
    "load_fill",
    "load_order",
    "load_state",
]

FORMAT = 1
"""The version of the state's layout; a state of another version is unreadable."""


class StateUnreadable(Exception):
    """A stored record of the paper venue cannot be read."""


def _time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("a naive time")
    return value


def _optional(value: Any, kind: Any) -> Any:
    return None if value is None else kind(value)


def dump_fill(fill: VenueFill) -> str:
    """The text of one fill."""
    return json.dumps(
        {
            "id": fill.fill_id,
            "symbol": fill.symbol,
            "side": fill.side,
            "quantity": str(fill.quantity),
            "price": str(fill.price),
            "fee": str(fill.fee),
            "time": fill.time.isoformat(),
            "slot": fill.slot,
            "order_id": fill.order_id,
            "client_order_id": fill.client_order_id,
        },
        separators=(",", ":"),
    )


def load_fill(text: str) -> VenueFill:
    """The fill of a text written by :func:`dump_fill`. :raises StateUnreadable:"""
    try:
        data = json.loads(text)
        return VenueFill(
            fill_id=data["id"],
            symbol=data["symbol"],
            side=data["side"],
            quantity=Decimal(data["quantity"]),
            price=Decimal(data["price"]),
            fee=Decimal(data["fee"]),
            time=_time(data["time"]),
            slot=data["slot"],
            order_id=data["order_id"],
            client_order_id=data["client_order_id"],
        )
    except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
        raise StateUnreadable(
            f"a stored paper fill cannot be read ({type(exc).__name__})"
        ) from None


def dump_order(order: VenueOrder) -> dict[str, Any]:
    """One order as JSON values."""
    ticket = order.ticket
    return {
        "client_order_id": ticket.client_order_id,
        "symbol": ticket.symbol,
        "side": ticket.side,
        "kind": ticket.kind,
        "quantity": str(ticket.quantity),
        "limit_price": _optional(ticket.limit_price, str),
        "time_in_force": ticket.time_in_force,
        "order_id": order.order_id,
        "status": order.status,
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
        "filled_quantity": str(order.filled_quantity),
        "average_price": _optional(order.average_price, str),
        "expires_at": _optional(order.expires_at, datetime.isoformat),
    }


def load_order(data: Mapping[str, Any]) -> VenueOrder:
    """The order of :func:`dump_order`'s values (errors are the caller's to translate)."""
    ticket = VenueTicket(
        client_order_id=data["client_order_id"],
        symbol=data["symbol"],
        side=data["side"],
        kind=data["kind"],
        quantity=Decimal(data["quantity"]),
        limit_price=_optional(data["limit_price"], Decimal),
        time_in_force=data["time_in_force"],
    )
    return VenueOrder(
        ticket=ticket,
        order_id=data["order_id"],
        status=data["status"],
        created_at=_time(data["created_at"]),
        updated_at=_time(data["updated_at"]),
        filled_quantity=Decimal(data["filled_quantity"]),
        average_price=_optional(data["average_price"], Decimal),
        expires_at=_optional(data["expires_at"], _time),
    )


def _amounts(values: Mapping[str, Decimal]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


def dump_state(state: Mapping[str, Any]) -> str:
    """The text of a venue state: :meth:`PaperVenue.to_state`'s values, amounts as strings."""
    return json.dumps(
        {
            "format": FORMAT,
            "venue": state["venue"],
            "tag": state["tag"],
            "next_slot": state["next_slot"],
            "fills": state["fills"],
            "planned": _ledger(state["planned"]),
            "book": _ledger(state["book"]),
            "reserved_cash": str(state["reserved_cash"]),
            "reserved": _amounts(state["reserved"]),
            "orders": [dump_order(order) for order in state["orders"]],
        },
        separators=(",", ":"),
        sort_keys=True,
    )


def _ledger(ledger: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "cash": str(ledger["cash"]),
        "quantity": _amounts(ledger["quantity"]),
        "average": _amounts(ledger["average"]),
    }


def _read_ledger(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "cash": Decimal(data["cash"]),
        "quantity": {key: Decimal(value) for key, value in data["quantity"].items()},
        "average": {key: Decimal(value) for key, value in data["average"].items()},
    }


def load_state(text: str) -> dict[str, Any]:
    """The values of a text written by :func:`dump_state`. :raises StateUnreadable:"""
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise StateUnreadable(
                f"the stored paper venue has layout {data.get('format')!r}; this tradecore "
                f"reads layout {FORMAT}"
            )
        return {
            "venue": data["venue"],
            "tag": str(data["tag"]),
            "next_slot": int(data["next_slot"]),
            "fills": int(data["fills"]),
            "planned": _read_ledger(data["planned"]),
            "book": _read_ledger(data["book"]),
            "reserved_cash": Decimal(data["reserved_cash"]),
            "reserved": {key: Decimal(value) for key, value in data["reserved"].items()},
            "orders": [load_order(order) for order in data["orders"]],
        }
    except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as exc:
        raise StateUnreadable(
            f"the stored paper venue cannot be read ({type(exc).__name__})"
        ) from None
