"""The ccxt side of ``binance_sync.py --compare ccxt``: fetch and parse every trade with ccxt.

Run by ``binance_sync.py`` with the python of its own virtual environment (pinned ccxt, outside the
repository); it imports nothing of tradecore. Against the same fake Binance, with the same
accounts (``key-N`` / ``secret-N``) and the same concurrency as tradecore's side, it does what a
ccxt user who wants every fill of every held symbol would write:

- one ``load_markets()`` (spot ``exchangeInfo`` only; no currencies, which need ``/sapi``), whose
  markets every account's exchange object then reuses (``set_markets``), as tradecore shares one
  ``exchangeInfo`` per host;
- per account (``--concurrency`` accounts at once, each its own ``ccxt.async_support.binance``
  with its own keys and HTTP session): ``fetch_balance()`` (``GET /api/v3/account``), the held
  assets matched against the USDT markets, then ``fetch_my_trades(symbol, limit=1000,
  params={"fromId": n})`` per symbol (``--pages`` symbols at once), paging by ``fromId`` (the last
  id + 1) until a page comes back short: Binance's id paging, as tradecore pages;
- ccxt's rate limiter is off (``enableRateLimit=False``): the fake's weight limit is raised for
  both sides, and ccxt's limiter (50 ms x cost 20 per ``myTrades``, per exchange object) would
  otherwise measure its pacing rather than its speed. Nothing is stored.

Prints one JSON line: ``seconds`` (from ``load_markets`` to the last page parsed), ``requests``,
``trades`` (parsed), ``unique`` (distinct ids per account and symbol, added up), ``peak_rss_mb`` (this process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async

PAGE_LIMIT = 1000


class CountingBinance(ccxt_async.binance):  # type: ignore[misc,name-defined]
    """ccxt's async Binance, pointed at the fake and counting its HTTP requests."""

    requests = 0

    def __init__(self, base_url: str, config: dict[str, Any]) -> None:
        super().__init__(config)
        # Every API URL to the fake's host (path kept): nothing can reach the real Binance.
        self.urls["api"] = {
            name: base_url + "/" + url.split("/", 3)[3] for name, url in self.urls["api"].items()
        }

    async def fetch(
        self, url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> Any:
        CountingBinance.requests += 1
        return await super().fetch(url, method, headers, body)


def _exchange(base_url: str, account: int) -> CountingBinance:
    return CountingBinance(
        base_url,
        {
            "apiKey": f"key-{account}",
            "secret": f"secret-{account}",
            "enableRateLimit": False,
            "options": {
                "defaultType": "spot",
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
            },
        },
    )


async def _symbol_trades(exchange: CountingBinance, symbol: str) -> tuple[int, int]:
    # (trades parsed, distinct ids) of one symbol, every page asked by fromId.
    parsed = 0
    ids: set[str] = set()
    from_id = 0
    while True:
        page = await exchange.fetch_my_trades(symbol, None, PAGE_LIMIT, {"fromId": from_id})
        parsed += len(page)
        ids.update(trade["id"] for trade in page)
        if len(page) < PAGE_LIMIT:
            return parsed, len(ids)
        from_id = int(page[-1]["id"]) + 1


async def _account(
    base_url: str, account: int, markets: dict[str, Any], pages: int
) -> tuple[int, int]:
    exchange = _exchange(base_url, account)
    try:
        exchange.set_markets(markets)
        balance = await exchange.fetch_balance()
        held = [asset for asset, total in balance["total"].items() if total]
        symbols = [f"{asset}/USDT" for asset in held if f"{asset}/USDT" in exchange.markets]
        limit = asyncio.Semaphore(pages)

        async def one(symbol: str) -> tuple[int, int]:
            async with limit:
                return await _symbol_trades(exchange, symbol)

        counts = await asyncio.gather(*(one(symbol) for symbol in symbols))
        return sum(parsed for parsed, _ in counts), sum(unique for _, unique in counts)
    finally:
        await exchange.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    loader = _exchange(args.base_url, 0)
    try:
        markets = await loader.load_markets()
    finally:
        await loader.close()
    limit = asyncio.Semaphore(args.concurrency)

    async def guarded(account: int) -> tuple[int, int]:
        async with limit:
            return await _account(args.base_url, account, markets, args.pages)

    counts = await asyncio.gather(*(guarded(n) for n in range(args.accounts)))
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds,
        "requests": CountingBinance.requests,
        "trades": sum(parsed for parsed, _ in counts),
        "unique": sum(unique for _, unique in counts),
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,  # the whole process, imports included
        "ccxt": ccxt.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True, help="accounts at once")
    parser.add_argument("--pages", type=int, required=True, help="symbols at once per account")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
