"""Loopback HTTP/1.1 server of the fake Binance (``FakeBinance.serve``) and the benchmark CLI
(``python -m tests.fakes.binance_exchange``)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from tests.fakes.loopback import TrackingServer

if TYPE_CHECKING:
    from tests.fakes.binance_exchange import FakeBinance


class LoopbackServer(TrackingServer):
    """A threading HTTP/1.1 server answering with ``fake.handle`` after ``latency`` seconds."""

    def __init__(self, address: tuple[str, int], fake: FakeBinance, latency: float) -> None:
        super().__init__(address, _Handler)
        self.fake = fake
        self.latency = latency


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid delayed-ACK stalls
    server: LoopbackServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.server.latency:
            time.sleep(self.server.latency)
        raw_path, _, raw_query = self.path.partition("?")
        answer = self.server.fake.handle(
            self.command, raw_path, raw_query, list(self.headers.items()), body
        )
        if answer.delay:
            time.sleep(answer.delay)
        if answer.drop:
            self.close_connection = True
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


# -- benchmark CLI -----------------------------------------------------------------------------

_BASES = [
    "BTC",
    "ETH",
    "BNB",
    "SOL",
    "XRP",
    "ADA",
    "DOGE",
    "TRX",
    "DOT",
    "LTC",
    "LINK",
    "AVAX",
    "ATOM",
    "XLM",
    "ETC",
    "FIL",
    "APT",
    "NEAR",
    "ARB",
    "OP",
]


def build_benchmark_exchange(
    *, accounts: int, symbols: int, trades: int, weight_limit: int = 6000
) -> FakeBinance:
    """Accounts ``key-0…`` (HMAC secrets ``secret-0…``) with non-zero balances, ``symbols``
    USDT symbols, and ``trades`` trades per account and symbol (ids unique per symbol)."""
    from tests.fakes.binance_exchange import FakeBinance

    fake = FakeBinance(weight_limit=weight_limit)
    names = []
    for i in range(symbols):
        base = _BASES[i] if i < len(_BASES) else f"TK{i}"
        names.append(fake.add_symbol(f"{base}USDT", base, "USDT", price=f"{100 + i}.00").symbol)
    for a in range(accounts):
        account = fake.add_account(
            f"key-{a}", secret=f"secret-{a}", balances={"USDT": ("100000", "0"), "BNB": ("5", "0")}
        )
        for s, name in enumerate(names):
            account.set_balance(fake.symbols[name].base, f"{1 + s}.5")
            price = fake.symbols[name].price
            account.add_trades(
                name,
                trades,
                first_id=1 + a * trades,
                price=price,
                qty="0.01000000",
                commission=Decimal("0.01") * price * Decimal("0.001"),
                commission_asset="USDT",
            )
    return fake


def main(argv: list[str] | None = None) -> None:
    """Serve a benchmark exchange until killed; print ``READY <base url>`` once listening."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.binance_exchange")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--accounts", type=int, default=1)
    parser.add_argument("--symbols", type=int, default=1)
    parser.add_argument("--trades", type=int, default=0, help="per account and symbol")
    parser.add_argument("--weight-limit", type=int, default=6000)
    args = parser.parse_args(argv)
    fake = build_benchmark_exchange(
        accounts=args.accounts,
        symbols=args.symbols,
        trades=args.trades,
        weight_limit=args.weight_limit,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with fake.serve(latency=args.latency_ms / 1000, host=args.host, port=args.port) as url:
        print(f"READY {url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
