"""Accounts and matching of the fake Binance: balances, spot trades and orders, USD-M positions.

Payload shapes follow Binance's documented samples (see ``binance_models``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from tests.fakes.binance_models import (
    COMMISSION_RATE,
    DEFAULT_TRADES_START_MS,
    EIGHT,
    ZERO,
    Balance,
    BinanceError,
    FakeOrder,
    FakeSymbol,
    Number,
    Row,
    TradeLog,
    dec,
    fmt8,
    load_ed25519_public_key,
    plain,
    wall_ms,
)


class FakeAccount:
    """One API key's account: balances, spot trades and orders, USD-M positions and trades.

    Mutate it through its methods (they take the exchange's lock, so a running loopback server
    sees consistent state).
    """

    def __init__(
        self,
        api_key: str,
        *,
        uid: int,
        lock: threading.RLock,
        secret: str | None = None,
        ed25519_public_key: Ed25519PublicKey | bytes | str | None = None,
        balances: Mapping[str, tuple[Number, Number]] | None = None,
        clock_ms: Callable[[], int] = wall_ms,
    ) -> None:
        if (secret is None) == (ed25519_public_key is None):
            raise ValueError("give exactly one of secret (HMAC) and ed25519_public_key")
        self.api_key = api_key
        self.uid = uid
        self.secret = secret
        self.ed25519_public_key = (
            load_ed25519_public_key(ed25519_public_key) if ed25519_public_key is not None else None
        )
        self.balances: dict[str, Balance] = {}
        self.trades: dict[str, TradeLog] = {}
        self.orders: list[FakeOrder] = []
        self.futures_positions: dict[tuple[str, str], Row] = {}
        self.futures_trades: dict[str, TradeLog] = {}
        self._clock_ms = clock_ms
        self.update_time_ms = clock_ms()
        self._lock = lock
        for asset, (free, locked) in (balances or {}).items():
            self.set_balance(asset, free, locked)

    def set_balance(self, asset: str, free: Number, locked: Number = 0) -> None:
        """Set ``asset``'s free and locked amounts."""
        with self._lock:
            self.balances[asset] = Balance(dec(free), dec(locked))

    def balance(self, asset: str) -> Balance:
        """``asset``'s balance (created at zero when unknown)."""
        with self._lock:
            return self.balances.setdefault(asset, Balance())

    def trade_log(self, symbol: str) -> TradeLog:
        """The spot trade log of ``symbol`` (created empty when unknown)."""
        with self._lock:
            return self.trades.setdefault(symbol, TradeLog())

    def add_trades(
        self,
        symbol: str,
        count: int,
        *,
        first_id: int | None = None,
        start_time_ms: int = DEFAULT_TRADES_START_MS,
        interval_ms: int = 60_000,
        price: Number = "4.00000100",
        qty: Number = "12.00000000",
        commission: Number = "0.01200000",
        commission_asset: str = "BNB",
        order_id_base: int = 100_000,
    ) -> range:
        """Add ``count`` deterministic ``myTrades`` rows; return their ids.

        Ids ascend from ``first_id`` (default: one past the last trade, 1 when none); trade
        ``i`` has ``time = start_time_ms + i * interval_ms``; odd ids are buys (``isBuyer``);
        every third is a maker trade; ``orderId = order_id_base + id``.
        """
        price_text, qty_text = fmt8(dec(price)), fmt8(dec(qty))
        quote_text, commission_text = fmt8(dec(price) * dec(qty)), fmt8(dec(commission))
        with self._lock:
            log = self.trade_log(symbol)
            start = log.last_id + 1 if first_id is None else first_id

            def render(i: int) -> Row:
                trade_id = start + i
                return {
                    "symbol": symbol,
                    "id": trade_id,
                    "orderId": order_id_base + trade_id,
                    "orderListId": -1,
                    "price": price_text,
                    "qty": qty_text,
                    "quoteQty": quote_text,
                    "commission": commission_text,
                    "commissionAsset": commission_asset,
                    "time": start_time_ms + i * interval_ms,
                    "isBuyer": trade_id % 2 == 1,
                    "isMaker": i % 3 == 2,
                    "isBestMatch": True,
                }

            log.add(start, count, render)
            return range(start, start + count)

    def add_futures_position(
        self,
        symbol: str,
        position_amt: Number,
        entry_price: Number,
        *,
        mark_price: Number | None = None,
        position_side: str = "BOTH",
        margin_asset: str = "USDT",
        leverage: int = 10,
        adl: int = 0,
        update_time_ms: int | None = None,
    ) -> Row:
        """Set a USD-M position (a ``/fapi/v3/positionRisk`` row); amount 0 closes it.

        ``position_amt`` is signed (negative = short); derived fields (notional, PnL, margins)
        are computed from it, the entry price and the mark price (default: the entry price).
        """
        amt, entry = dec(position_amt), dec(entry_price)
        mark = dec(mark_price) if mark_price is not None else entry
        notional = amt * mark
        initial = abs(notional) / leverage
        row: Row = {
            "symbol": symbol,
            "positionSide": position_side,
            "positionAmt": plain(amt),
            "entryPrice": plain(entry),
            "breakEvenPrice": plain(entry),
            "markPrice": fmt8(mark),
            "unRealizedProfit": fmt8((mark - entry) * amt),
            "liquidationPrice": "0",
            "isolatedMargin": "0",
            "notional": fmt8(notional),
            "marginAsset": margin_asset,
            "isolatedWallet": "0",
            "initialMargin": fmt8(initial),
            "maintMargin": fmt8(abs(notional) * Decimal("0.004")),
            "positionInitialMargin": fmt8(initial),
            "openOrderInitialMargin": "0",
            "adl": adl,
            "bidNotional": "0",
            "askNotional": "0",
            "updateTime": self._clock_ms() if update_time_ms is None else update_time_ms,
        }
        with self._lock:
            self.futures_positions[(symbol, position_side)] = row
        return row

    def add_futures_trades(
        self,
        symbol: str,
        count: int,
        *,
        first_id: int | None = None,
        start_time_ms: int | None = None,
        interval_ms: int = 60_000,
        price: Number = "7819.01",
        qty: Number = "0.002",
        realized_pnl: Number = "0",
        commission: Number = "0.00625520",
        commission_asset: str = "USDT",
        position_side: str = "BOTH",
        order_id_base: int = 25_000_000,
    ) -> range:
        """Add ``count`` deterministic ``/fapi/v1/userTrades`` rows; return their ids.

        Like :meth:`add_trades`, with futures fields (``buyer``/``maker``, ``side``,
        ``realizedPnl``, ``positionSide``). ``start_time_ms`` defaults to one day before the server's now,
        because userTrades without ``fromId`` or times only shows the last 7 days.
        """
        price_d, qty_d = dec(price), dec(qty)
        price_text, qty_text, quote_text = plain(price_d), plain(qty_d), plain(price_d * qty_d)
        pnl_text, commission_text = plain(dec(realized_pnl)), plain(dec(commission))
        start_ms = self._clock_ms() - 86_400_000 if start_time_ms is None else start_time_ms
        with self._lock:
            log = self.futures_trades.setdefault(symbol, TradeLog())
            start = log.last_id + 1 if first_id is None else first_id

            def render(i: int) -> Row:
                trade_id = start + i
                buyer = trade_id % 2 == 1
                return {
                    "buyer": buyer,
                    "commission": commission_text,
                    "commissionAsset": commission_asset,
                    "id": trade_id,
                    "maker": i % 3 == 2,
                    "orderId": order_id_base + trade_id,
                    "price": price_text,
                    "qty": qty_text,
                    "quoteQty": quote_text,
                    "realizedPnl": pnl_text,
                    "side": "BUY" if buyer else "SELL",
                    "positionSide": position_side,
                    "symbol": symbol,
                    "time": start_ms + i * interval_ms,
                }

            log.add(start, count, render)
            return range(start, start + count)

    def open_orders(self, symbol: str | None = None) -> list[FakeOrder]:
        """NEW / PARTIALLY_FILLED orders, oldest first, optionally of one symbol."""
        with self._lock:
            return [
                order
                for order in self.orders
                if order.is_open and (symbol is None or order.symbol == symbol)
            ]

    def find_order(
        self, symbol: str, order_id: int | None = None, client_order_id: str | None = None
    ) -> FakeOrder | None:
        """Look an order up like Binance: by ``orderId`` (then the client id must match), else
        by client id (the newest order carrying it)."""
        with self._lock:
            for order in reversed(self.orders):
                if order.symbol != symbol:
                    continue
                if order_id is not None:
                    if order.order_id == order_id:
                        matches = client_order_id in (None, order.client_order_id)
                        return order if matches else None
                elif order.client_order_id == client_order_id:
                    return order
            return None


class BinanceState:
    """The exchange's symbols, accounts and matching (the HTTP side is in ``FakeBinance``)."""

    def __init__(self, *, clock_ms: Callable[[], int] | None = None) -> None:
        self._lock = threading.RLock()
        self._clock_ms = clock_ms or wall_ms
        self.symbols: dict[str, FakeSymbol] = {}
        self.accounts: dict[str, FakeAccount] = {}
        self.clock_offset_ms = 0
        self._next_order_id = 1

    def server_time_ms(self) -> int:
        """Server time: the local clock (``clock_ms``, default ``time.time``) plus
        :attr:`clock_offset_ms`."""
        return self._clock_ms() + self.clock_offset_ms

    def add_symbol(
        self,
        symbol: str,
        base: str,
        quote: str,
        *,
        price: Number = "100.00",
        status: str = "TRADING",
        tick_size: Number = "0.01000000",
        step_size: Number = "0.00001000",
        min_qty: Number = "0.00001000",
    ) -> FakeSymbol:
        """List a spot symbol (also known to the futures endpoints)."""
        tick = dec(tick_size)
        entry = FakeSymbol(
            symbol,
            base,
            quote,
            dec(price),
            status,
            tick,
            dec(step_size),
            dec(min_qty),
            min_price=tick,
        )
        with self._lock:
            self.symbols[symbol] = entry
        return entry

    def add_account(
        self,
        api_key: str,
        *,
        secret: str | None = None,
        ed25519_public_key: Ed25519PublicKey | bytes | str | None = None,
        balances: Mapping[str, tuple[Number, Number]] | None = None,
    ) -> FakeAccount:
        """Open an account for ``api_key``: HMAC with ``secret`` or Ed25519 with the public key."""
        with self._lock:
            account = FakeAccount(
                api_key,
                uid=354_937_868 + len(self.accounts),
                lock=self._lock,
                secret=secret,
                ed25519_public_key=ed25519_public_key,
                balances=balances,
                clock_ms=lambda: self.server_time_ms(),
            )
            self.accounts[api_key] = account
            return account

    def set_price(self, symbol: str, price: Number) -> list[FakeOrder]:
        """Move ``symbol``'s price; resting LIMIT orders it crosses fill at their own price
        (as makers). Returns the orders that filled."""
        with self._lock:
            sym = self.symbols[symbol]
            sym.price = dec(price)
            filled = []
            now = self.server_time_ms()
            for account in self.accounts.values():
                for order in account.open_orders(symbol):
                    crossed = (
                        order.price >= sym.price
                        if order.side == "BUY"
                        else order.price <= sym.price
                    )
                    if crossed:
                        self._fill(
                            account, order, order.remaining_qty, order.price, maker=True, now=now
                        )
                        filled.append(order)
            return filled

    def fill_order(self, api_key: str, order_id: int, qty: Number | None = None) -> FakeOrder:
        """Fill (part of) a resting order at its price, as a maker: makes PARTIALLY_FILLED."""
        with self._lock:
            account = self.accounts[api_key]
            order = next(o for o in account.orders if o.order_id == order_id)
            if not order.is_open:
                raise ValueError(f"order {order_id} is {order.status}")
            amount = order.remaining_qty if qty is None else dec(qty)
            self._fill(account, order, amount, order.price, maker=True, now=self.server_time_ms())
            return order

    def place_order(
        self,
        account: FakeAccount,
        sym: FakeSymbol,
        *,
        side: str,
        type_: str,
        time_in_force: str,
        qty: Decimal | None,
        quote_qty: Decimal | None,
        price: Decimal | None,
        client_order_id: str | None,
        now: int,
        dry_run: bool = False,
    ) -> FakeOrder | None:
        """Validate and (unless ``dry_run``) accept an order; MARKET and crossing LIMIT orders
        fill fully at the symbol's price, others rest (funds locked) or expire (IOC/FOK)."""
        with self._lock:
            if sym.status != "TRADING":
                raise BinanceError(400, -2010, "Market is closed.")
            if client_order_id is not None and any(
                o.client_order_id == client_order_id for o in account.open_orders()
            ):
                # newClientOrderId, as documented: unique among open orders; reusable once filled.
                raise BinanceError(400, -2010, "Duplicate order sent.")
            if type_ == "MARKET":
                if qty is None:
                    assert quote_qty is not None
                    qty = sym.floor_qty(quote_qty / sym.price)
                crosses = True
            else:
                assert price is not None
                assert qty is not None
                sym.check_price(price)
                crosses = price >= sym.price if side == "BUY" else price <= sym.price
                if type_ == "LIMIT_MAKER" and crosses:
                    raise BinanceError(400, -2010, "Order would immediately match and take.")
            sym.check_qty(qty)
            if side == "BUY":
                need, asset = qty * (sym.price if crosses else price or ZERO), sym.quote
            else:
                need, asset = qty, sym.base
            if account.balance(asset).free < need:
                raise BinanceError(
                    400, -2010, "Account has insufficient balance for requested action."
                )
            if dry_run:
                return None
            order_id = self._next_order_id
            self._next_order_id += 1
            order = FakeOrder(
                symbol=sym.symbol,
                order_id=order_id,
                client_order_id=client_order_id or f"fake{order_id:018d}",
                side=side,
                type=type_,
                time_in_force=time_in_force,
                price=price if price is not None and type_ != "MARKET" else ZERO,
                orig_qty=qty,
                orig_quote_order_qty=quote_qty or ZERO,
                time_ms=now,
                update_time_ms=now,
            )
            account.orders.append(order)
            if crosses:
                self._fill(account, order, qty, sym.price, maker=False, now=now, resting=False)
            elif time_in_force in ("IOC", "FOK"):
                order.status = "EXPIRED"
            else:
                self._move(account, order, qty, lock=True)
            return order

    def cancel_order(self, account: FakeAccount, order: FakeOrder, now: int) -> None:
        """Cancel an open order and unlock what it still held."""
        with self._lock:
            self._move(account, order, order.remaining_qty, lock=False)
            order.status = "CANCELED"
            order.update_time_ms = now

    def _move(self, account: FakeAccount, order: FakeOrder, qty: Decimal, *, lock: bool) -> None:
        sym = self.symbols[order.symbol]
        if order.side == "BUY":
            balance, amount = account.balance(sym.quote), qty * order.price
        else:
            balance, amount = account.balance(sym.base), qty
        sign = 1 if lock else -1
        balance.free -= sign * amount
        balance.locked += sign * amount

    def _next_trade_id(self, symbol: str) -> int:
        # Trade ids are per symbol across the whole market (myTrades' fromId).
        logs = (a.trades.get(symbol) for a in self.accounts.values())
        return max((log.last_id for log in logs if log is not None), default=0) + 1

    def _fill(
        self,
        account: FakeAccount,
        order: FakeOrder,
        qty: Decimal,
        price: Decimal,
        *,
        maker: bool,
        now: int,
        resting: bool = True,
    ) -> None:
        sym = self.symbols[order.symbol]
        base, quote = account.balance(sym.base), account.balance(sym.quote)
        amount = qty * price
        if order.side == "BUY":
            commission, commission_asset = (qty * COMMISSION_RATE).quantize(EIGHT), sym.base
            if resting:
                quote.locked -= qty * order.price
                quote.free += qty * order.price - amount
            else:
                quote.free -= amount
            base.free += qty - commission
        else:
            commission, commission_asset = (amount * COMMISSION_RATE).quantize(EIGHT), sym.quote
            if resting:
                base.locked -= qty
            else:
                base.free -= qty
            quote.free += amount - commission
        trade_id = self._next_trade_id(order.symbol)
        order.executed_qty += qty
        order.cummulative_quote_qty += amount
        order.status = "FILLED" if order.executed_qty >= order.orig_qty else "PARTIALLY_FILLED"
        order.update_time_ms = now
        price_text, qty_text, commission_text = fmt8(price), fmt8(qty), fmt8(commission)
        order.fills.append(
            {
                "price": price_text,
                "qty": qty_text,
                "commission": commission_text,
                "commissionAsset": commission_asset,
                "tradeId": trade_id,
            }
        )
        account.trade_log(order.symbol).add_row(
            {
                "symbol": order.symbol,
                "id": trade_id,
                "orderId": order.order_id,
                "orderListId": -1,
                "price": price_text,
                "qty": qty_text,
                "quoteQty": fmt8(amount),
                "commission": commission_text,
                "commissionAsset": commission_asset,
                "time": now,
                "isBuyer": order.side == "BUY",
                "isMaker": maker,
                "isBestMatch": True,
            }
        )
        account.update_time_ms = now
