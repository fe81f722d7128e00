"""Sync one connection: fetch positions and new trades from its broker and store them (trades
inserted or ignored, together with the cursor after them; then positions replaced by the
snapshot, and the connection's market value recorded as :class:`~tradecore.domain.EquityPoint`
rows, in one transaction).

**What a sync stores, and when.** The pages of trades the broker returns are written in one
transaction together with the account's cursor after them, once they hold
:data:`TRADES_PER_WRITE` trades and at the end of each account, while the next pages are fetched
(storing overlaps the network, and a connection's trades are never all held in memory). So the
stored trades and the stored cursor always agree: a sync that fails half-way (the broker down,
the process stopped) keeps what it wrote before the failure, with its cursor, and the next sync
asks for the trades after them; a trade is never stored twice (the trades are inserted or
ignored on their natural key anyway). Positions and equity points are written only
at the end, in one transaction, when every account was fetched.

What the broker adapter refuses stores nothing while the rest is still stored: an account whose
data it refuses (:class:`MalformedResponse`: a value outside its documented range, data of another
account), or a part of an account it reports in :attr:`TradePage.refused` (a symbol's page). The
sync then fails naming what was refused, so no caller mistakes it for a complete sync. Such a
sync records no equity point: a value missing a refused account would be a false dip."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from attrs import frozen

from tradecore.domain import (
    Account,
    BrokerConnection,
    EquityPoint,
    Position,
    Trade,
    equity_points,
)
from tradecore.errors import MalformedResponse
from tradecore.ports import BrokerPort, Clock, RepositoryPort

__all__ = ["MAX_TRADE_PAGES", "TRADES_PER_WRITE", "SyncResult", "sync_connection"]

MAX_TRADE_PAGES = 10_000
"""A broker that keeps saying ``has_more`` past this many pages is broken, not busy."""

TRADES_PER_WRITE = 20_000
"""Pages of trades are written (with the cursor after them) once they hold this many trades,
and at the end of each account: a connection's memory stays bounded whatever its history, and
a first sync of an ordinary account is one write (each extra transaction costs CPU, about 5 %
of a 500,000-trade backfill when every page of 4,000 trades was its own, benchmarks/README.md)."""


@frozen(kw_only=True)
class SyncResult:
    """What a connection sync did.

    :param trades_seen: fills the broker returned (new or already stored).
    :param trades_new: fills stored for the first time.
    :param equity_points: equity points recorded (one per currency of the priced positions).
    """

    accounts: tuple[Account, ...]
    positions: int
    trades_seen: int
    trades_new: int
    equity_points: int = 0


@frozen
class _AccountData:
    account: Account
    positions: tuple[Position, ...]
    trades_seen: int
    refused: tuple[str, ...] = ()


class _PageWriter:
    # Writes batches of trades, each with its account's cursor after them, one transaction each,
    # in the order they were fetched; one batch is written while the next is fetched (at most one
    # write in flight, so a slow database holds back the fetching instead of filling memory).

    def __init__(self, repository: RepositoryPort, connection: BrokerConnection) -> None:
        self._repository = repository
        self._connection = connection
        self._pending: asyncio.Task[int] | None = None
        self.trades_new = 0

    async def submit(self, account_id: str, trades: Sequence[Trade], cursor: str | None) -> None:
        await self.flush()
        self._pending = asyncio.ensure_future(self._write(account_id, trades, cursor))

    async def flush(self) -> None:
        # Wait for the write in flight; its failure is raised here.
        pending, self._pending = self._pending, None
        if pending is not None:
            self.trades_new += await pending

    async def abandon(self) -> None:
        # The sync was cancelled: the write in flight is cancelled too (its transaction rolls
        # back, trades and cursor together).
        pending, self._pending = self._pending, None
        if pending is not None and not pending.done():
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)

    async def _write(self, account_id: str, trades: Sequence[Trade], cursor: str | None) -> int:
        user_id = self._connection.user_id
        async with self._repository.unit_of_work() as uow:
            new = await uow.trades.add_new(user_id, trades)
            if cursor is not None:
                await uow.cursors.set(user_id, self._connection.id, account_id, cursor)
            await uow.commit()
        return new


async def sync_connection(
    *,
    repository: RepositoryPort,
    broker: BrokerPort,
    connection: BrokerConnection,
    clock: Clock,
    on_trades: Callable[[int], None] | None = None,
    trades_per_write: int = TRADES_PER_WRITE,
) -> SyncResult:
    """Bring the stored positions and trades of ``connection`` up to date.

    No transaction is held open while the broker is called. The pages of trades are written in
    one unit of work with the account's cursor after them, every ``trades_per_write`` trades
    and at the end of each account, while the next pages are fetched; positions and equity points
    are written in one unit of work at the end. A failure half-way therefore keeps the trades
    already written, with their cursor (stored trades and cursor always agree), and the next run
    goes on from there; it stores no positions and no equity point. When the broker's data of
    one account is refused as malformed, that account stores nothing more (its cursor stays
    after the last trades written, its positions are not
    replaced), the other accounts are fetched and stored, and then the refusal is raised;
    likewise for the parts of an account a page reports as refused (the cursor it returns has
    not moved past them).

    :param on_trades: called after each page of trades the broker returns, with the number of
        trades on that page (a progress display adds them up); it must not raise.
    :param trades_per_write: write the pages fetched so far once they hold at least this many
        trades (and at the end of each account).

    :raises BrokerError: the broker failed; the trades written before the failure stay, with
        their cursor; positions and equity points are not stored.
    :raises MalformedResponse: the broker returned data that was refused (a value outside its
        range, data of another connection or account) for one account or part of one, or more;
        the message names them, and the rest was stored.
    """
    user_id = connection.user_id
    accounts = list(await broker.get_accounts())
    async with repository.unit_of_work() as uow:
        cursors = {
            account.account_id: await uow.cursors.get(user_id, connection.id, account.account_id)
            for account in accounts
        }
    fetched: list[_AccountData] = []
    refused: list[tuple[Account, MalformedResponse]] = []
    writer = _PageWriter(repository, connection)
    try:
        for account in accounts:
            try:
                fetched.append(
                    await _fetch_account(
                        broker,
                        connection,
                        account,
                        cursors[account.account_id],
                        writer,
                        on_trades,
                        trades_per_write,
                    )
                )
            except MalformedResponse as exc:
                refused.append((account, exc))
    except asyncio.CancelledError:
        await writer.abandon()
        raise
    except BaseException:
        # What was fetched before the failure is kept, with its cursor; the failure itself is
        # what the sync reports, even when that last write fails too.
        with contextlib.suppress(Exception):
            await writer.flush()
        raise
    await writer.flush()
    as_of = clock.now()
    refusal = _refusal(broker, refused, fetched)
    points: tuple[EquityPoint, ...] = ()
    if refusal is None:  # a complete snapshot only: a partial value would be a false dip
        held = [position for data in fetched for position in data.positions]
        points = equity_points(user_id, connection.id, held, at=as_of)
    async with repository.unit_of_work() as uow:
        for data in fetched:
            await uow.positions.sync_snapshot(
                user_id, connection.id, data.account.account_id, data.positions, as_of=as_of
            )
        if points:
            await uow.equity.add(user_id, points)
        await uow.commit()
    if refusal is not None:
        raise refusal
    return SyncResult(
        accounts=tuple(accounts),
        positions=sum(len(data.positions) for data in fetched),
        trades_seen=sum(data.trades_seen for data in fetched),
        trades_new=writer.trades_new,
        equity_points=len(points),
    )


async def _fetch_account(
    broker: BrokerPort,
    connection: BrokerConnection,
    account: Account,
    cursor: str | None,
    writer: _PageWriter,
    on_trades: Callable[[int], None] | None,
    trades_per_write: int,
) -> _AccountData:
    _check_owner(broker, connection, account, account.connection_id, account.account_id)
    positions = tuple(await broker.get_positions(account))
    for position in positions:
        _check_owner(broker, connection, account, position.connection_id, position.account_id)
    seen = 0
    refused: list[str] = []
    written = cursor  # the account's cursor as stored
    batch: list[Trade] = []
    for _ in range(MAX_TRADE_PAGES):
        page = await broker.get_trades(account, cursor=cursor)
        if not all(
            trade.connection_id == connection.id and trade.account_id == account.account_id
            for trade in page.trades
        ):  # one pass over a large page; the loop names the first stranger
            for trade in page.trades:
                _check_owner(broker, connection, account, trade.connection_id, trade.account_id)
        batch.extend(page.trades)
        seen += len(page.trades)
        refused.extend(page.refused)
        if on_trades is not None:
            on_trades(len(page.trades))
        cursor = page.cursor if page.cursor is not None else cursor
        due = len(batch) >= trades_per_write or not page.has_more
        if due and (batch or cursor != written):  # the trades with the cursor just after them
            await writer.submit(account.account_id, batch, cursor)
            batch, written = [], cursor
        if not page.has_more:
            break
    else:
        raise MalformedResponse(
            f"broker kept reporting more trades after {MAX_TRADE_PAGES} pages",
            broker=broker.info.name,
        )
    return _AccountData(account, positions, seen, tuple(refused))


def _refusal(
    broker: BrokerPort,
    refused: list[tuple[Account, MalformedResponse]],
    fetched: list[_AccountData],
) -> MalformedResponse | None:
    # One error for everything refused, after the rest was stored; None when nothing was.
    parts = [f"account {account.account_id!r}: {exc}" for account, exc in refused]
    parts += [
        f"account {data.account.account_id!r}: {each}" for data in fetched for each in data.refused
    ]
    if not parts:
        return None
    if len(refused) == 1 and not fetched:
        return refused[0][1]  # the connection's only account: its own error, as it was
    synced = ", ".join(repr(data.account.account_id) for data in fetched) or "none"
    error = MalformedResponse(
        f"{'; '.join(parts)} (nothing of that was stored; the rest was synced, accounts: {synced})",
        broker=broker.info.name,
    )
    error.__cause__ = refused[0][1] if refused else None
    return error


def _check_owner(
    broker: BrokerPort,
    connection: BrokerConnection,
    account: Account,
    connection_id: str,
    account_id: str,
) -> None:
    if connection_id != connection.id or account_id != account.account_id:
        raise MalformedResponse(
            f"broker returned data of connection {connection_id!r} / account {account_id!r} "
            f"while syncing {connection.name!r} / {account.account_id!r}",
            broker=broker.info.name,
        )
