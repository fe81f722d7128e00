"""The checks of a setup that come before the application can open: the secret key and the
database (reachable, at the newest migration). See ``tradecore check`` in docs/cli.md."""

from __future__ import annotations

from tradecore.services import CheckLine
from tradecore_adapters.database import key_ring_of
from tradecore_adapters.settings import Settings

__all__ = ["check_setup"]


async def check_setup(settings: Settings) -> list[CheckLine]:
    """The key line, then the database line; both must pass before users can be checked."""
    return [_key(settings), await _database(settings)]


def _key(settings: Settings) -> CheckLine:
    try:
        ring = key_ring_of(settings)
    except Exception as exc:
        return CheckLine(ok=False, subject="secret key", text=str(exc))
    where = "TRADECORE_SECRET_KEY" if settings.secret_keys is not None else str(settings.key_file)
    return CheckLine(ok=True, subject="secret key", text=f"{len(ring.key_ids)} key(s) from {where}")


async def _database(settings: Settings) -> CheckLine:
    from tradecore_adapters.sqlalchemy import describe_url
    from tradecore_adapters.sqlalchemy.migrate import current_revision, head_revision

    subject = f"database {describe_url(settings.database)}"
    try:
        current = await current_revision(settings.database)
    except Exception as exc:
        return CheckLine(ok=False, subject=subject, text=str(exc))
    head = head_revision()
    if current == head:
        return CheckLine(ok=True, subject=subject, text=f"at revision {head} (the newest)")
    if current is None:
        return CheckLine(ok=False, subject=subject, text="empty; run `tradecore init`")
    return CheckLine(
        ok=False,
        subject=subject,
        text=f"at revision {current}, this tradecore needs {head}; run `tradecore db upgrade`",
    )
