"""Transports of the fake Saxo Bank: the in-process ``httpx.MockTransport`` and the loopback
HTTP/1.1 server (``FakeSaxo.serve``), plus the demo CLI (``python -m tests.fakes.saxo_exchange``).

Both call ``FakeSaxo.handle``; a scripted timeout raises in-process and, on loopback, closes the
connection without an answer (the client sees ``httpx.RemoteProtocolError``). ``token_latency``
seconds pass after ``/token`` did its work and before the answer leaves, outside the lock, so
a second client can race the first with the old refresh token; in-process, the async transport
then awaits ``before_token_answer`` (a test's fault, e.g. cutting the caller's database).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

import httpx
from tests.fakes.loopback import TrackingServer

if TYPE_CHECKING:
    from tests.fakes.saxo_exchange import FakeSaxo


def _latency(fake: FakeSaxo, request: httpx.Request) -> float:
    return fake.token_latency if request.url.path == "/token" else 0.0


class FakeSaxoTransport(httpx.MockTransport):
    """``httpx.MockTransport`` over ``fake.handle``, sync or async, with ``token_latency``."""

    def __init__(self, fake: FakeSaxo) -> None:
        super().__init__(fake.handle)
        self.fake = fake

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self.fake.handle(request)
        if delay := _latency(self.fake, request):
            time.sleep(delay)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = self.fake.handle(request)
        if delay := _latency(self.fake, request):
            await asyncio.sleep(delay)
        hook = self.fake.before_token_answer
        if hook is not None and request.url.path == "/token":
            await hook()
        return response


class LoopbackServer(TrackingServer):
    """A threading HTTP/1.1 server answering with ``fake.handle``."""

    def __init__(self, address: tuple[str, int], fake: FakeSaxo) -> None:
        super().__init__(address, _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: LoopbackServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = httpx.Request(
            self.command,
            f"http://{host}{self.path}",
            headers=list(self.headers.items()),
            content=body,
        )
        fake = self.server.fake
        try:
            response = fake.handle(request)
        except httpx.TransportError:  # a scripted timeout: no answer at all
            self.close_connection = True
            return
        if delay := _latency(fake, request):
            time.sleep(delay)
        self.send_response(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.content)))
        self.end_headers()
        self.wfile.write(response.content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


@contextmanager
def serve_loopback(fake: FakeSaxo, host: str, port: int) -> Iterator[str]:
    """Run a :class:`LoopbackServer` in a thread; yield its base URL."""
    server = LoopbackServer((host, port), fake)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout=5)


# -- demo CLI ----------------------------------------------------------------------------------

DEMO_ACCOUNT_KEY = "LZTc7DdejXODf-WSl2aCyQ=="


def build_demo(app_key: str, app_secret: str | None, page_size: int) -> FakeSaxo:
    """A client with one EUR account, Apple (Stock 211) and EURUSD (FxSpot 21), a net
    position, and 30 back-office trades over the last ten days."""
    from tests.fakes.saxo_exchange import FakeSaxo

    fake = FakeSaxo(app_key, app_secret, page_size=page_size)
    account = fake.add_account(DEMO_ACCOUNT_KEY, "192134INET", "EUR")
    fake.add_instrument(
        211, "Stock", "AAPL:xnas", "Apple Inc.", "USD", bid=Decimal("189.98"), ask=Decimal("190.02")
    )
    fake.add_instrument(
        21,
        "FxSpot",
        "EURUSD",
        "Euro/US Dollar",
        "USD",
        bid=Decimal("1.08512"),
        ask=Decimal("1.08527"),
        tick_size=Decimal("0.00001"),
        lot_size=Decimal(1000),
        min_amount=Decimal(1000),
    )
    account.add_net_position(211, "Stock", Decimal(10), Decimal("185.25"))
    start = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    account.add_report_trades(211, "Stock", 30, start - timedelta(days=10))
    return fake


def main(argv: list[str] | None = None) -> None:
    """Serve a demo client until killed: print ``TOKENS <json>`` then ``READY <base url>``."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.saxo_exchange")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--app-key", default="a1b2c3d4e5f60718293a4b5c6d7e8f90")
    parser.add_argument("--app-secret", default=None, help="omit for a PKCE app")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args(argv)
    fake = build_demo(args.app_key, args.app_secret, args.page_size)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with fake.serve(host=args.host, port=args.port) as url:
        print(f"TOKENS {json.dumps(fake.issue_tokens())}", flush=True)
        print(f"READY {url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
