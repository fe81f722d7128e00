"""Binance's request weight is counted per IP per minute
(https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits): four
``tradecore sync`` processes on one SQLite database against a fake Binance whose limit is 600 a
minute, with together about one and a half minutes' worth of weight to spend, never get a 429:
the weight Binance counted in every minute stays within the limit, because each request's weight
is reserved in the shared limits before it is sent."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, API_SECRET, market
from tests.integration.limits.binance_processes import Tradecore, prepare_home

pytestmark = pytest.mark.slow

PROCESSES = 4
LIMIT = 600
EXTRA = ("SOL", "XRP", "ADA", "DOGE", "TRX", "DOT", "LTC", "LINK")
SYMBOLS = ",".join(["BTCUSDT", "ETHUSDT", "BNBUSDT", *(f"{base}USDT" for base in EXTRA)])


def test_four_processes_share_600_weight_a_minute_without_a_429(tmp_path: Path) -> None:
    fake = FakeBinance(weight_limit=LIMIT)
    market(fake)
    for base in EXTRA:
        fake.add_symbol(f"{base}USDT", base, "USDT", price="1.00")
    fake.add_account(API_KEY, secret=API_SECRET, balances={"USDT": ("10", "0")})
    home = tmp_path / "home"
    tradecore = Tradecore(home)
    with fake.serve() as url:
        prepare_home(home, {f"u{n}": url for n in range(PROCESSES)}, symbols=SYMBOLS)
        fake.requests.clear()
        fake.answered.clear()
        fake.weight_by_minute.clear()
        started = time.monotonic()
        processes = [tradecore.start("sync", "--user", f"u{n}") for n in range(PROCESSES)]
        outputs = [process.communicate(timeout=300) for process in processes]
        elapsed = time.monotonic() - started
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, out + err
    statuses = fake.statuses()
    per_minute = {minute: used for (bucket, minute), used in fake.weight_by_minute.items()}
    log = [
        (r.server_time_ms % 60_000, r.path, status)
        for r, (_, status) in zip(fake.requests, fake.answered, strict=True)
    ]
    assert 429 not in statuses, (per_minute, log)
    assert 418 not in statuses, (per_minute, log)
    assert all(used <= LIMIT for used in per_minute.values()), per_minute
    total = sum(per_minute.values())
    assert total > LIMIT, f"inconclusive: only {total} weight was spent"
    assert len(per_minute) >= 2, "the processes waited for the next minute"
    print(f"\nweight per minute {per_minute}; {len(statuses)} requests in {elapsed:.1f} s")
