"""``tradecore secrets rotate``: re-encrypt every stored secret under the newest key."""

from __future__ import annotations

import asyncio

import click

from tradecore_adapters.bootstrap import open_repository
from tradecore_adapters.sqlalchemy import RotationReport
from tradecore_cli.settings import settings_of

__all__ = ["secrets"]


@click.group()
def secrets() -> None:
    """Broker and notifier secrets at rest (encrypted with the keys of TRADECORE_SECRET_KEY or the
    key file)."""


@secrets.command("rotate")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Connections (then notification targets) re-encrypted per transaction.",
)
@click.pass_context
def rotate(ctx: click.Context, batch_size: int) -> None:
    """Re-encrypt every connection's and notification target's secrets under the newest key.

    Put the new key first and keep the old ones (TRADECORE_SECRET_KEY=new,old, or a new first
    line in the key file), run this, then remove the old keys. It can be interrupted and run
    again: connections and targets already under the newest key are skipped.
    """
    settings = settings_of(ctx)

    async def run() -> tuple[RotationReport, str]:
        repository = await open_repository(settings)
        try:
            return await repository.rotate_secrets(batch_size=batch_size), repository.key_id
        finally:
            await repository.aclose()

    report, key_id = asyncio.run(run())
    click.echo(
        f"Re-encrypted {report.rotated} connection(s) and {report.rotated_targets} notification "
        f"target(s) under key {key_id}; every stored secret is now under the newest key, so older "
        "keys can be removed."
    )
