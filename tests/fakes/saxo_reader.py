"""Many concurrent Saxo reads for one stored connection, in a process of their own: the refresh
tests start two of these against one database to see that exactly one token refresh happens.

    python -m tests.fakes.saxo_reader --user alice --connection s1 --reads 10 \\
        [--start-at EPOCH_SECONDS] [--crash-after-token]

The database and key come from the environment, as for the ``tradecore`` command. Prints
``OK <accounts>`` and exits 0 when every read succeeded; prints the error and exits 1 otherwise.
With ``--crash-after-token`` the process dies (exit 3) right after Saxo answered a token refresh
and before tradecore could commit it: the crash the token store must survive.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from tradecore.domain import OAuthTokens
from tradecore.services import create_broker
from tradecore_adapters.bootstrap import open_application
from tradecore_adapters.saxo._auth import TokenEndpoint
from tradecore_cli.settings import load_settings

CRASH_EXIT = 3


def _crash_after_token() -> None:
    original = TokenEndpoint.refresh

    async def refresh_then_die(self: TokenEndpoint, tokens: OAuthTokens) -> OAuthTokens:
        await original(self, tokens)  # Saxo rotated the refresh token...
        os._exit(CRASH_EXIT)  # ...and the process dies before the commit.

    TokenEndpoint.refresh = refresh_then_die  # type: ignore[method-assign]


async def _main(args: argparse.Namespace) -> int:
    app = await open_application(load_settings(os.environ))
    try:
        async with app.repository.unit_of_work() as uow:
            user = await uow.users.get_by_name(args.user)
            connection = await uow.connections.get_by_name(user.id, args.connection)
        broker = create_broker(
            connection, brokers=app.registry.brokers, repository=app.repository, clock=app.clock
        )
        if args.start_at:
            await asyncio.sleep(max(0.0, args.start_at - time.time()))
        try:
            results = await asyncio.gather(*(broker.get_accounts() for _ in range(args.reads)))
        finally:
            await broker.aclose()
    except Exception as exc:
        print(f"ERROR {type(exc).__name__}: {exc}", flush=True)
        return 1
    finally:
        await app.aclose()
    print(f"OK {len(results[0])}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--user", required=True)
    parser.add_argument("--connection", required=True)
    parser.add_argument("--reads", type=int, default=10)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--crash-after-token", action="store_true")
    args = parser.parse_args(argv)
    if args.crash_after_token:
        _crash_after_token()
    sys.exit(asyncio.run(_main(args)))


if __name__ == "__main__":
    main()
