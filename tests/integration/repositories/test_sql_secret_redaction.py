"""Every secret the SQL repository decrypts is registered with the log redaction: once a connection
(or a notification target) has been read back, a vendor library that logs its secret, through the
redacting filter, logs a mask instead (SQLite)."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tradecore.testing.builders import make_connection, make_notification_target, make_user
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.redaction import MASK, RedactingFilter, redact
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import upgrade


@pytest.fixture
async def repository(tmp_path: Path) -> AsyncIterator[SqlRepository]:
    url = f"sqlite:///{tmp_path / 'tradecore.db'}"
    await upgrade(url)
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([KeyRing.generate_key()]))
    yield repository
    await repository.aclose()


@pytest.fixture
def vendor_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A vendor-style logger (no filter of its own) whose records reach a handler that carries
    the redacting filter, as :func:`configure_logging` sets every handler up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(f"somevendor.{uuid.uuid4().hex[:8]}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def fresh_secret(what: str) -> str:
    """A value never seen by this process, so only the read under test can register it."""
    secret = f"{what}-{uuid.uuid4().hex}"
    assert redact(f"token={secret}") == f"token={secret}", "already registered: proves nothing"
    return secret


async def test_a_connection_secret_read_back_is_masked_in_a_vendor_log(
    repository: SqlRepository, vendor_log: tuple[logging.Logger, io.StringIO]
) -> None:
    secret = fresh_secret("api-key")
    user = make_user()
    connection = make_connection(user_id=user.id, broker="dummy", secrets={"api_token": secret})
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.commit()
    logger, stream = vendor_log
    logger.debug("GET /v1/accounts key %s", secret)  # before any read: nothing to mask it with
    assert secret in stream.getvalue()

    async with repository.unit_of_work() as uow:
        read = await uow.connections.get(user.id, connection.id)
    assert read.secrets["api_token"].reveal() == secret

    stream.seek(0)
    stream.truncate()
    logger.debug("GET /v1/accounts key %s", secret)
    logger.debug("request failed", exc_info=ValueError(f"bad key {secret}"))
    logged = stream.getvalue()
    assert secret not in logged
    assert logged.count(MASK) == 2, logged


async def test_a_notification_target_secret_read_back_is_masked_in_a_vendor_log(
    repository: SqlRepository, vendor_log: tuple[logging.Logger, io.StringIO]
) -> None:
    secret = fresh_secret("bot-token")
    user = make_user()
    target = make_notification_target(
        user_id=user.id, name="chat", settings={"chat_id": "-1001"}, secrets={"bot_token": secret}
    )
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.notification_targets.add(target)
        await uow.commit()

    async with repository.unit_of_work() as uow:
        (read,) = await uow.notification_targets.list(user.id)
    assert read.secrets["bot_token"].reveal() == secret

    logger, stream = vendor_log
    logger.debug("POST /sendMessage with %s", secret)
    assert secret not in stream.getvalue()
    assert MASK in stream.getvalue()
