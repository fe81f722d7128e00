"""Pages of a user's trades, orders and runs for front ends: the read models, the page size
bound, and the opaque cursor that asks for the next page.

A cursor is a url-safe text (letters, digits, ``-`` and ``_``) a front end passes back as it
got it: in a query string, a JSON field, a command-line option. Inside it are the kind of
listing and the position of the last row shown (:class:`~tradecore.ports.paging.PageKey`),
with a checksum, so a cursor cut short, edited, or taken from another kind of listing is
refused with one clear sentence instead of paging from a wrong place. The checksum is not a
secret and needs none: a cursor only says where to continue *within the caller's own rows*,
so no cursor, forged or not, reaches another user's data. See ``docs/paging.md``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Final, Literal

from attrs import frozen

from tradecore.domain import AutomationRun, BrokerConnection, Order, Trade
from tradecore.errors import DomainError
from tradecore.ports.paging import PageKey

__all__ = [
    "MAX_PAGE_SIZE",
    "OrdersPage",
    "RunsPage",
    "TradesPage",
    "check_page_size",
    "decode_cursor",
    "encode_cursor",
]

MAX_PAGE_SIZE: Final = 500
"""The most rows one page holds."""

Listing = Literal["trades", "orders", "runs"]

_CHECK = 8  # bytes of checksum
_LONGEST = 400  # characters: a real cursor is about 100
_PERSON = b"tradecore-page"


@frozen(kw_only=True)
class TradesPage:
    """One page of the user's trades, newest first.

    :param items: the trades of this page.
    :param next_cursor: pass it back for the next (older) page; ``None`` on the last page.
    :param connection_names: each of the user's connections' name, by id.
    """

    items: tuple[Trade, ...]
    next_cursor: str | None
    connection_names: Mapping[str, str]


@frozen(kw_only=True)
class OrdersPage:
    """One page of the user's recorded orders, newest first.

    :param items: the orders of this page.
    :param next_cursor: pass it back for the next (older) page; ``None`` on the last page.
    :param connections: the user's connections (to name an order's connection and broker).
    :param strategy_names: each of the user's strategies' name, by id.
    """

    items: tuple[Order, ...]
    next_cursor: str | None
    connections: tuple[BrokerConnection, ...]
    strategy_names: Mapping[str, str]


@frozen(kw_only=True)
class RunsPage:
    """One page of the user's automation runs with their steps, newest first.

    :param items: the runs of this page.
    :param next_cursor: pass it back for the next (older) page; ``None`` on the last page.
    """

    items: tuple[AutomationRun, ...]
    next_cursor: str | None


def check_page_size(limit: int) -> None:
    """Refuse a page size outside 1 to :data:`MAX_PAGE_SIZE`.

    :raises DomainError: it is not a whole number in that range.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise DomainError(f"a page holds 1 to {MAX_PAGE_SIZE} rows, got {limit!r}")


def encode_cursor(listing: Listing, key: PageKey | None) -> str | None:
    """The opaque cursor that continues ``listing`` after ``key`` (``None`` for ``None``)."""
    if key is None:
        return None
    body = json.dumps([listing, key.at.isoformat(), key.id], separators=(",", ":")).encode()
    packed = _checksum(body) + body
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_cursor(listing: Listing, cursor: str | None) -> PageKey | None:
    """The position a cursor of ``listing`` continues from (``None`` for ``None``: the first
    page).

    :raises DomainError: the cursor is not one a page of ``listing`` gave out.
    """
    if cursor is None:
        return None
    refused = DomainError(
        "the page cursor is not valid (cut short, edited, or from another listing): "
        "ask for the first page again, without a cursor"
    )
    text = cursor.strip()
    if not text or len(text) > _LONGEST:
        raise refused
    try:
        packed = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise refused from None
    check, body = packed[:_CHECK], packed[_CHECK:]
    if not hmac.compare_digest(check, _checksum(body)):
        raise refused
    try:
        kind, at, row = json.loads(body)
        key = PageKey(datetime.fromisoformat(at), row)
    except (ValueError, TypeError, DomainError):
        raise refused from None
    numbered = isinstance(key.id, int)
    if kind != listing or numbered == (listing == "runs"):
        raise refused
    return key


def _checksum(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=_CHECK, person=_PERSON).digest()
